/*
 * WhatsApp Web simulator page. Framework-free on purpose: the worker watches
 * this DOM with MutationObservers, so we only touch nodes whose content
 * changed, keep message rows in place and append new ones.
 *
 * The page polls /sim/api/state every POLL_MS with its session cookie.
 * "Frozen" sessions: in "stale" mode the page keeps polling but applies
 * nothing (the DOM goes stale, sends stay pending); in "hang" mode it blocks
 * its own main thread with synchronous requests until unfrozen, so DOM reads
 * and scripts from WebDriver hang like on an unresponsive page.
 *
 * The page also brings its own `window.WPP`: a double of wa-js (the library
 * the worker drives the real page through) for exactly the names in
 * workers/whatsapp/contract.py, with wa-js 4.6.0's arguments, return values
 * and event payloads. Its events are derived from the polled state.
 */
(function () {
  "use strict";

  const POLL_MS = 250;
  const RETRY_MS = 1000;
  const SEND_ATTEMPTS = 5;
  // conn.logout is queued by the worker's bridge: give it time before the page goes.
  const LOGOUT_NAVIGATE_MS = 300;
  const OWN_NAME = "You";
  const QR_QUIET_MODULES = 4;
  const QR_TARGET_PX = 264;

  // --- the wa-js double (window.WPP) --------------------------------------------

  const wa = {
    ready: false,
    readyListeners: [],
    listeners: new Map(),
    wid: null, // own id, "<digits>@c.us", once linked
    view: null,
    sawUnlinked: false,
    mainReached: false,
    qrValue: null,
    authCode: null,
    mode: null,
    info: null,
    linkCode: null,
    linkCodeExpired: false,
    feedAfter: null,
    seenIncoming: new Set(),
    acks: new Map(),
  };

  function emit(event, payload) {
    (wa.listeners.get(event) || []).slice().forEach(function (listener) {
      try {
        listener(payload);
      } catch (error) {
        console.error("WPP listener failed", event, error);
      }
    });
  }

  function wid(serialized) {
    const at = serialized.lastIndexOf("@");
    return {
      _serialized: serialized,
      user: serialized.slice(0, at),
      server: serialized.slice(at + 1),
      toString: function () {
        return this._serialized;
      },
    };
  }

  function pnLidWid(serialized) {
    const at = serialized.lastIndexOf("@");
    return { id: serialized.slice(0, at), server: serialized.slice(at + 1), _serialized: serialized };
  }

  function msgKey(message) {
    const key = {
      _serialized: message.data_id,
      id: message.id,
      fromMe: message.from_me,
      remote: wid(message.chat),
      toString: function () {
        return this._serialized;
      },
    };
    if (message.author) key.participant = wid(message.author);
    return key;
  }

  // What WhatsApp puts in a media message's body: a base64 JPEG preview, never the caption.
  const PREVIEW_BODY = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/";

  function msgModel(message) {
    const own = message.from_me;
    const media = message.media;
    const model = {
      id: msgKey(message),
      from: own ? wid(wa.wid) : wid(message.chat),
      to: own ? wid(message.chat) : wid(wa.wid),
      author: message.author ? wid(message.author) : undefined,
      type: media ? media.type : "chat",
      body: media ? PREVIEW_BODY : message.text,
      t: message.t,
      isNewMsg: true,
      isGroupMsg: message.chat.endsWith("@g.us"),
      quotedMsgId: message.quoted || undefined,
      notifyName: message.name,
      isMedia: !!media && media.type !== "document",
      mentionedJidList: (message.mentions || []).map(wid),
    };
    if (media) {
      model.mimetype = media.mimetype;
      model.filename = media.filename || undefined;
      model.size = media.size;
      model.caption = media.caption || undefined;
    }
    return model;
  }

  function authCodeOf(value) {
    const parts = value.split(",");
    return {
      type: "multidevice",
      ref: parts[0],
      staticKeyPair: parts[1],
      identityKeyPair: parts[2],
      secretKey: parts[3],
      fullCode: value,
    };
  }

  function chatIdOf(chatId) {
    return chatId && chatId._serialized ? chatId._serialized : String(chatId);
  }

  function markReady() {
    if (wa.ready) return;
    wa.ready = true;
    window.WPP.isReady = true;
    wa.readyListeners.splice(0).forEach(function (listener) {
      listener();
    });
  }

  function deriveEvents(state) {
    wa.wid = state.wid;
    if (!state.wid) wa.sawUnlinked = true;
    deriveAuthEvents(state);
    if (state.stream.mode !== wa.mode) {
      wa.mode = state.stream.mode;
      emit("conn.stream_mode_changed", wa.mode);
    }
    if (state.stream.info !== wa.info) {
      wa.info = state.stream.info;
      emit("conn.stream_info_changed", wa.info);
    }
    if (state.view === "main" && !wa.mainReached) {
      wa.mainReached = true;
      emit("conn.main_ready");
    }
    deriveLinkCodeEvents(state.link_code);
    wa.groupNames = state.group_names || {};
    if (wa.feedAfter === null) wa.feedAfter = state.feed_start;
    state.feed.forEach(deriveMessageEvent);
  }

  function deriveAuthEvents(state) {
    const value = state.view === "qr" && state.qr ? state.qr.value : null;
    if (value !== wa.qrValue) {
      wa.qrValue = value;
      wa.authCode = value ? authCodeOf(value) : null;
      emit("conn.auth_code_change", wa.authCode);
    }
    if (state.view === "qr_expired" && wa.view !== "qr_expired") emit("conn.qrcode_idle");
    wa.view = state.view;
    if (state.wid && wa.sawUnlinked) {
      wa.sawUnlinked = false;
      emit("conn.authenticated");
    }
  }

  function deriveLinkCodeEvents(linkCode) {
    const current = linkCode && linkCode.code === wa.linkCode;
    if (current && linkCode.expired && !wa.linkCodeExpired) {
      wa.linkCodeExpired = true;
      emit("conn.link_code_expired");
    }
  }

  function deriveMessageEvent(message) {
    wa.feedAfter = Math.max(wa.feedAfter, message.seq);
    if (!message.from_me) {
      if (wa.seenIncoming.has(message.key)) return;
      wa.seenIncoming.add(message.key);
      if (message.change) {
        emit("group.participant_changed", {
          groupId: message.chat,
          action: message.change.action,
          operation: message.change.action,
          participants: message.change.participants.slice(),
        });
        return;
      }
      emit("chat.new_message", msgModel(message));
      return;
    }
    const before = wa.acks.has(message.key) ? wa.acks.get(message.key) : 0;
    wa.acks.set(message.key, message.ack);
    if (message.ack !== before) {
      emit("chat.msg_ack_change", { ack: message.ack, chat: wid(message.chat), ids: [msgKey(message)] });
    }
  }

  function whenUnfrozen() {
    return new Promise(function (resolve) {
      if (ui.frozen) ui.unfreezeWaiters.push(resolve);
      else resolve();
    });
  }

  function sendText(payload, attempt) {
    return api("POST", "/sim/api/send", payload).catch(function (error) {
      // Only what may still go through is retried; the server ignores a repeated id.
      const transient = !error.status || error.status >= 500;
      if (!transient || attempt + 1 >= SEND_ATTEMPTS) throw error;
      return new Promise(function (resolve) {
        setTimeout(resolve, RETRY_MS);
      }).then(function () {
        return sendText(payload, attempt + 1);
      });
    });
  }

  function sendTextMessage(chatId, content, options) {
    return sendPayload({ chat: chatIdOf(chatId), text: String(content), id: "3EB0" + randomHex(18) });
  }

  // content: a data: URL or bare base64 (wa-js also takes a Blob; the worker sends base64).
  function sendFileMessage(chatId, content, options) {
    const opts = options || {};
    const text = String(content);
    const mimetype = opts.mimetype || (text.startsWith("data:") ? text.slice(5, text.indexOf(";")) : "");
    const type = opts.type === "audio" && opts.isPtt ? "ptt" : opts.type || "document";
    return sendPayload({
      chat: chatIdOf(chatId),
      text: opts.caption || "",
      id: "3EB0" + randomHex(18),
      media: { type: type, mimetype: mimetype, filename: opts.filename || "", base64: text },
    });
  }

  function downloadMedia(id) {
    const url = "/sim/api/media?id=" + encodeURIComponent(chatIdOf(id));
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error("media not found (" + response.status + ")");
      return response.blob();
    });
  }

  function blobToBase64(blob) {
    return new Promise(function (resolve, reject) {
      const reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsDataURL(blob);
    });
  }

  function sendPayload(payload) {
    return whenUnfrozen()
      .then(function () {
        return sendText(payload, 0);
      })
      .then(function (message) {
        wa.acks.set(message.key, message.ack);
        // wa-js reports our own sends as new messages too (fromMe), as WhatsApp adds them.
        emit("chat.new_message", msgModel(message));
        kick();
        return { id: message.data_id, ack: message.ack, from: wa.wid, to: message.chat, sendMsgResult: {} };
      });
  }

  function startLinkDeviceCodeForPhoneNumber(phone, sendPushNotification = true) {
    return api("POST", "/sim/api/link-code", { phone: String(phone), push: sendPushNotification }).then(
      function (result) {
        wa.linkCode = result.code;
        wa.linkCodeExpired = false;
        emit("conn.link_code_change", result.code);
        return result.code;
      },
      function (error) {
        emit("conn.link_code_error", error);
        throw error;
      },
    );
  }

  function queryExists(contactId) {
    const id = encodeURIComponent(chatIdOf(contactId));
    return api("GET", "/sim/api/query-exists?id=" + id).then(function (result) {
      if (!result.exists) return null;
      const found = { wid: wid(result.wid), biz: false };
      if (result.lid) found.lid = wid(result.lid);
      return found;
    });
  }

  function getPnLidEntry(contactId) {
    const id = encodeURIComponent(chatIdOf(contactId));
    return api("GET", "/sim/api/pn-lid?id=" + id).then(function (result) {
      const entry = {};
      if (result.lid) entry.lid = pnLidWid(result.lid);
      if (result.phone) entry.phoneNumber = pnLidWid(result.phone);
      return entry;
    });
  }

  function markIsRead(chatId) {
    return api("POST", "/sim/api/read", { chat: chatIdOf(chatId) }).then(function (result) {
      return { wid: wid(result.wid), unreadCount: 0 };
    });
  }

  // Only own enumerable properties are the API: the contract test walks them.
  window.WPP = {
    isReady: false,
    loader: {
      onReady: function (listener) {
        if (wa.ready) listener();
        else wa.readyListeners.push(listener);
      },
    },
    on: function (event, listener) {
      if (!wa.listeners.has(event)) wa.listeners.set(event, []);
      wa.listeners.get(event).push(listener);
    },
    conn: {
      getAuthCode: function () {
        return Promise.resolve(wa.authCode);
      },
      isAuthenticated: function () {
        return Boolean(wa.wid);
      },
      isMainReady: function () {
        // A page frozen "stale" must stop proving it is alive.
        return wa.mainReached && wa.view === "main" && !ui.frozen;
      },
      getStreamData: function () {
        return { mode: wa.mode, info: wa.info };
      },
      startLinkDeviceCodeForPhoneNumber: startLinkDeviceCodeForPhoneNumber,
      getMyUserId: function () {
        return wa.wid ? wid(wa.wid) : undefined;
      },
      getMyUserLid: function () {
        return undefined; // the simulated account has no hidden-number id
      },
    },
    chat: {
      sendTextMessage: sendTextMessage,
      sendFileMessage: sendFileMessage,
      markIsRead: markIsRead,
      downloadMedia: downloadMedia,
      get: function (chatId) {
        const serialized = chatIdOf(chatId);
        const name = (wa.groupNames || {})[serialized];
        return { id: wid(serialized), name: name, isGroup: serialized.endsWith("@g.us") };
      },
    },
    util: { blobToBase64: blobToBase64 },
    contact: { queryExists: queryExists, getPnLidEntry: getPnLidEntry },
    whatsapp: {
      Socket: {
        takeover: function () {
          return useHere();
        },
      },
    },
  };

  const app = document.getElementById("app");
  const root = app.querySelector(".view-root");
  const overlays = app.querySelector(".overlay-layer");

  const ui = {
    view: "loading",
    progressTimer: null,
    qrBox: null,
    qrCanvas: null,
    qrButton: null,
    qrValue: null,
    grid: null,
    side: null,
    mainArea: null,
    bannerSlot: null,
    banner: null,
    search: null,
    menu: null,
    chatRows: new Map(),
    openChat: null,
    mainEl: null,
    msgList: null,
    editor: null,
    actionSlot: null,
    sendButton: null,
    msgRows: new Map(),
    after: 0,
    conflict: false,
    conflictClosed: false,
    conflictModal: null,
    conflictLanding: null,
    blockText: null,
    blockLanding: null,
    frozen: null,
    queuedSends: [],
    unfreezeWaiters: [],
    heapGrowSeen: undefined,
    heapBallast: [],
    sendIntent: null,
    stopped: false,
    pollTimer: null,
    polling: false,
    pollAgain: false,
  };

  // --- small DOM helpers ----------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(function ([name, value]) {
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else node.setAttribute(name, value);
    });
    (children || []).forEach(function (child) {
      node.appendChild(child);
    });
    return node;
  }

  function setText(node, value) {
    if (node.textContent !== value) node.textContent = value;
  }

  function setAttr(node, name, value) {
    if (node.getAttribute(name) !== value) node.setAttribute(name, value);
  }

  const ICONS = {
    "wds-ic-send-filled": '<path fill="currentColor" d="M3 20.5v-6l8-2.5-8-2.5v-6l19 8.5z"/>',
    "wds-ic-mic-filled":
      '<path fill="currentColor" d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1A7 7 0 0 0 19 11z"/>',
    "msg-time":
      '<path fill="currentColor" d="M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13zm0 1.4a5.1 5.1 0 1 1 0 10.2A5.1 5.1 0 0 1 8 2.9zM7.3 4.5v4.1l3.1 1.9.7-1.1-2.4-1.5V4.5z"/>',
    "msg-check": '<path fill="currentColor" d="M11.5 4.3 6.1 10.2 3.9 8 3 8.9l3.1 3.1 6.3-6.8z"/>',
    "msg-dblcheck":
      '<path fill="currentColor" d="M15 4.3 9.6 10.2 8.9 9.5 8 10.4l1.6 1.6 6.3-6.8zM11.5 4.3 6.1 10.2 3.9 8 3 8.9l3.1 3.1 6.3-6.8z"/>',
    "msg-error":
      '<path fill="currentColor" d="M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm1 15h-2v-2h2zm0-4h-2V7h2z"/>',
    "more-refreshed":
      '<path fill="currentColor" d="M12 7a2 2 0 1 0 0-4 2 2 0 0 0 0 4zm0 2a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm0 6a2 2 0 1 0 0 4 2 2 0 0 0 0-4z"/>',
    "alert-phone":
      '<path fill="currentColor" d="M16 1H8a2 2 0 0 0-2 2v18a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V3a2 2 0 0 0-2-2zm-3 19h-2v-2h2zm0-4h-2V6h2z"/>',
    "refresh-large":
      '<path fill="currentColor" d="M17.6 6.4A8 8 0 1 0 19.7 14h-2.1a6 6 0 1 1-1.4-6.2L13 11h7V4z"/>',
    search:
      '<path fill="currentColor" d="M15.5 14h-.8l-.3-.3A6.5 6.5 0 1 0 14 15.5l.3.3v.8l5 5 1.5-1.5zm-6 0a4.5 4.5 0 1 1 0-9 4.5 4.5 0 0 1 0 9z"/>',
  };

  function icon(name, label) {
    const span = el("span", { "data-icon": name, "aria-hidden": label ? "false" : "true" });
    if (label) span.setAttribute("aria-label", label);
    span.innerHTML =
      '<svg viewBox="0 0 24 24" height="20" width="20" preserveAspectRatio="xMidYMid meet">' +
      (ICONS[name] || "") +
      "</svg>";
    return span;
  }

  function button(label, onClick, extraClass) {
    const node = el("button", { class: "modal-btn " + (extraClass || ""), type: "button" }, [
      el("div", { class: "btn-inner" }, [el("div", { class: "btn-label", text: label })]),
    ]);
    node.addEventListener("click", onClick);
    return node;
  }

  function pad(value) {
    return value < 10 ? "0" + value : String(value);
  }

  function formatTime(date) {
    const hours = date.getHours() % 12 || 12;
    return hours + ":" + pad(date.getMinutes()) + " " + (date.getHours() < 12 ? "AM" : "PM");
  }

  function prePlainText(date, name) {
    const day = date.getMonth() + 1 + "/" + date.getDate() + "/" + date.getFullYear();
    return "[" + formatTime(date) + ", " + day + "] " + name + ": ";
  }

  function randomHex(length) {
    const bytes = new Uint8Array(Math.ceil(length / 2));
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0"))
      .join("")
      .slice(0, length)
      .toUpperCase();
  }

  // --- server ---------------------------------------------------------------

  // The session id, kept in IndexedDB as well as the cookie (see server.py, _page_session).
  let storedSession = null;

  function openStore() {
    return new Promise(function (resolve) {
      const request = indexedDB.open("wa-sim", 1);
      request.onupgradeneeded = function () { request.result.createObjectStore("auth"); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { resolve(null); };
    });
  }

  function loadSession() {
    return openStore().then(function (db) {
      if (!db) return null;
      return new Promise(function (resolve) {
        const get = db.transaction("auth").objectStore("auth").get("sid");
        get.onsuccess = function () { resolve(get.result || null); };
        get.onerror = function () { resolve(null); };
      });
    });
  }

  function saveSession(sid) {
    if (!sid || sid === storedSession) return;
    storedSession = sid;
    openStore().then(function (db) {
      if (db) db.transaction("auth", "readwrite").objectStore("auth").put(sid, "sid");
    });
  }

  function api(method, path, body) {
    const options = { method: method, credentials: "same-origin", cache: "no-store", headers: {} };
    if (storedSession) options.headers["X-WA-Sim-Session"] = storedSession;
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          const error = new Error(data.error || "request failed");
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function schedule(delay) {
    if (ui.stopped) return;
    clearTimeout(ui.pollTimer);
    ui.pollTimer = setTimeout(poll, delay === undefined ? POLL_MS : delay);
  }

  function kick() {
    if (ui.polling) ui.pollAgain = true;
    else schedule(0);
  }

  function poll() {
    ui.pollTimer = null;
    if (ui.stopped) return;
    ui.polling = true;
    const chat = ui.openChat;
    let url = "/sim/api/state?after=" + ui.after;
    if (chat) url += "&chat=" + encodeURIComponent(chat);
    if (wa.feedAfter !== null) url += "&feed=" + wa.feedAfter;
    let delay = POLL_MS;
    api("GET", url)
      .then(function (state) {
        markReady();
        safeApply(state, chat);
      })
      .catch(function () {
        delay = RETRY_MS; // server restarting or gone: keep the page, try again
      })
      .then(function () {
        ui.polling = false;
        const again = ui.pollAgain;
        ui.pollAgain = false;
        schedule(again ? 0 : delay);
      });
  }

  function safeApply(state, chat) {
    try {
      apply(state, chat);
    } catch (error) {
      console.error("simulator render failed", error);
    }
  }

  // --- applying server state -------------------------------------------------

  // A grow-heap request holds that many MB of ordinary JavaScript objects on this page only:
  // the first state a page sees only records the request id, so a reload frees it for good.
  function growHeap(request) {
    if (!request) return;
    if (ui.heapGrowSeen === undefined) {
      ui.heapGrowSeen = request.id;
      return;
    }
    if (request.id <= ui.heapGrowSeen) return;
    ui.heapGrowSeen = request.id;
    const perMb = 1024 * 1024 / 8; // a packed array of doubles: 8 bytes each
    for (let i = 0; i < request.mb; i++) {
      const block = new Array(perMb);
      for (let j = 0; j < perMb; j++) block[j] = j + 0.5;
      ui.heapBallast.push(block);
    }
  }

  function apply(state, requestedChat) {
    if (state.logout) {
      navigateAfterLogout();
      return;
    }
    if (state.frozen === "hang") {
      hang();
      return;
    }
    if (state.frozen === "stale") {
      ui.frozen = "stale";
      return;
    }
    if (ui.frozen) {
      ui.frozen = null;
      flushQueuedSends();
    }
    growHeap(state.heap_grow);
    showView(state.view);
    if (state.view === "qr" || state.view === "qr_expired") renderQr(state);
    if (state.view === "main") renderMain(state, requestedChat);
    renderConflict(state);
    renderBlock(state.stream.mode);
    deriveEvents(state);
  }

  const BLOCK_TEXTS = {
    TOS_BLOCK: "This account is not allowed to use WhatsApp.",
    DEPRECATED_VERSION: "This version of WhatsApp Web is out of date. Update to keep using it.",
  };

  function renderBlock(mode) {
    const text = BLOCK_TEXTS[mode] || null;
    if (ui.blockText === text) return;
    ui.blockText = text;
    if (ui.blockLanding) ui.blockLanding.remove();
    ui.blockLanding = text
      ? el("div", { class: "conflict-landing block-landing" }, [el("div", { class: "conflict-text", text: text })])
      : null;
    if (ui.blockLanding) overlays.appendChild(ui.blockLanding);
  }

  function hang() {
    // Synchronous requests block this page's main thread, like a hung renderer.
    for (;;) {
      const xhr = new XMLHttpRequest();
      try {
        xhr.open("GET", "/sim/api/hang-wait", false);
        if (storedSession) xhr.setRequestHeader("X-WA-Sim-Session", storedSession);
        xhr.send(null);
      } catch (error) {
        return;
      }
      if (xhr.status !== 200) return;
      let hung = false;
      try {
        hung = JSON.parse(xhr.responseText).hung;
      } catch (error) {
        return;
      }
      if (!hung) return;
    }
  }

  function showView(view) {
    const kind = view === "qr_expired" ? "qr" : view;
    if (ui.view === kind) return;
    ui.view = kind;
    clearInterval(ui.progressTimer);
    root.textContent = "";
    resetViewRefs();
    if (kind === "loading") buildLoading();
    else if (kind === "qr") buildLanding();
    else if (kind === "main") buildMain();
  }

  function resetViewRefs() {
    Object.assign(ui, {
      qrBox: null,
      qrCanvas: null,
      qrButton: null,
      qrValue: null,
      grid: null,
      side: null,
      mainArea: null,
      bannerSlot: null,
      banner: null,
      search: null,
      menu: null,
      mainEl: null,
      msgList: null,
      editor: null,
      actionSlot: null,
      sendButton: null,
      openChat: null,
      after: 0,
    });
    ui.chatRows = new Map();
    ui.msgRows = new Map();
  }

  // --- loading ---------------------------------------------------------------

  function buildLoading() {
    root.appendChild(
      el("div", { class: "startup" }, [
        el("div", { class: "startup-logo", "aria-hidden": "true" }),
        el("progress", { value: "0", max: "100" }),
        el("div", { class: "startup-title", text: "WhatsApp" }),
        el("div", { class: "startup-note", text: "End-to-end encrypted" }),
      ]),
    );
    animateProgress();
  }

  function animateProgress() {
    const progress = root.querySelector("progress");
    if (!progress) return;
    ui.progressTimer = setInterval(function () {
      progress.value = progress.value + (100 - progress.value) * 0.15;
    }, 50);
  }

  // --- QR login ----------------------------------------------------------------

  function buildLanding() {
    ui.qrBox = el("div", { class: "qr-box" });
    const steps = [
      "Open WhatsApp on your phone",
      "Tap Menu on Android, or Settings on iPhone",
      "Tap Linked devices and then Link a device",
      "Point your phone at this screen to scan the QR code",
    ];
    root.appendChild(
      el("div", { class: "landing-wrapper" }, [
        el("div", { class: "landing-header", text: "WhatsApp" }),
        el("div", { class: "landing-window" }, [
          el("div", { class: "landing-main" }, [
            el("div", { class: "landing-instructions" }, [
              el("div", { class: "landing-title", text: "Log into WhatsApp Web" }),
              el(
                "ol",
                {},
                steps.map((step) => el("li", { text: step })),
              ),
            ]),
            el("div", { class: "qr-holder" }, [ui.qrBox]),
          ]),
        ]),
      ]),
    );
  }

  function renderQr(state) {
    if (!ui.qrBox || !state.qr) return;
    if (state.view === "qr") showQrCode(state.qr);
    else showQrReload(state.qr.value);
  }

  function showQrCode(qr) {
    if (ui.qrCanvas && ui.qrValue === qr.value) return;
    if (!ui.qrCanvas) {
      ui.qrBox.textContent = "";
      ui.qrButton = null;
      ui.qrCanvas = el("canvas", {
        "aria-label": "Scan this QR code to link a device!",
        role: "img",
      });
      ui.qrBox.appendChild(ui.qrCanvas);
    }
    // Attribute and drawing change in one task, so a reader never sees them disagree.
    ui.qrBox.setAttribute("data-ref", qr.value);
    drawQr(ui.qrCanvas, qr.matrix);
    ui.qrValue = qr.value;
  }

  function drawQr(canvas, matrix) {
    const total = matrix.length + 2 * QR_QUIET_MODULES;
    const scale = Math.max(2, Math.floor(QR_TARGET_PX / total));
    const size = total * scale;
    canvas.width = size;
    canvas.height = size;
    canvas.style.width = size + "px";
    canvas.style.height = size + "px";
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, size, size);
    ctx.fillStyle = "#000000";
    matrix.forEach(function (row, y) {
      for (let x = 0; x < row.length; x++) {
        if (row[x] === "1") {
          ctx.fillRect((x + QR_QUIET_MODULES) * scale, (y + QR_QUIET_MODULES) * scale, scale, scale);
        }
      }
    });
  }

  function showQrReload(lastValue) {
    if (ui.qrButton) return;
    ui.qrBox.textContent = "";
    ui.qrCanvas = null;
    ui.qrValue = null;
    setAttr(ui.qrBox, "data-ref", lastValue);
    ui.qrButton = el("button", { class: "qr-reload", type: "button" }, [
      el("div", { class: "qr-reload-icon" }, [icon("refresh-large")]),
      el("div", { class: "qr-reload-text", text: "Click to reload QR code" }),
    ]);
    ui.qrButton.addEventListener("click", function () {
      if (ui.frozen) return;
      api("POST", "/sim/api/qr-reload", {}).then(kick, kick);
    });
    ui.qrBox.appendChild(el("span", {}, [ui.qrButton]));
  }

  // --- main view: side pane ------------------------------------------------------

  function buildMain() {
    ui.grid = el("div", {
      role: "grid",
      "aria-label": "Chat list",
      "aria-rowcount": "0",
      "aria-colcount": "1",
      class: "chat-grid",
    });
    ui.search = el("div", {
      role: "textbox",
      contenteditable: "true",
      "aria-label": "Search input textbox",
      "aria-placeholder": "Search or start a new chat",
      "data-tab": "3",
      "data-lexical-editor": "true",
      class: "editor search-editor",
    });
    ui.search.addEventListener("input", applySearchFilter);
    ui.bannerSlot = el("div", { class: "banner-slot" });
    ui.side = el("div", { id: "side", class: "side" }, [
      buildSideHeader(),
      ui.bannerSlot,
      el("div", { class: "search-bar" }, [
        icon("search"),
        el("div", { class: "lexical-rich-text-input" }, [ui.search]),
      ]),
      el("div", { id: "pane-side", class: "pane-side" }, [
        el("div", { tabindex: "-1", class: "chat-scroll" }, [ui.grid]),
      ]),
    ]);
    ui.mainArea = el("div", { class: "main-area" }, [buildIntro()]);
    root.appendChild(el("div", { class: "two" }, [ui.side, ui.mainArea]));
  }

  function buildSideHeader() {
    const menuButton = el("button", { "aria-label": "Menu", title: "Menu", class: "icon-btn", type: "button" }, [
      icon("more-refreshed"),
    ]);
    menuButton.addEventListener("click", toggleMenu);
    return el("header", { class: "side-header" }, [
      el("div", { class: "avatar" }),
      el("div", { class: "side-actions" }, [menuButton]),
    ]);
  }

  function toggleMenu() {
    if (ui.menu) {
      ui.menu.remove();
      ui.menu = null;
      return;
    }
    const logout = el("li", { role: "button", tabindex: "0", class: "menu-item" }, [
      el("div", { "aria-label": "Log out", text: "Log out" }),
    ]);
    logout.addEventListener("click", confirmLogout);
    ui.menu = el("div", { role: "application", class: "menu" }, [el("ul", {}, [logout])]);
    ui.side.querySelector(".side-header").appendChild(ui.menu);
  }

  function confirmLogout() {
    toggleMenu();
    const modal = showModal("Log out?", "Are you sure you want to log out?", [
      button("Cancel", function () {
        modal.remove();
      }),
      button(
        "Log out",
        function () {
          modal.remove();
          api("POST", "/sim/api/logout", {}).then(navigateAfterLogout, navigateAfterLogout);
        },
        "primary",
      ),
    ]);
  }

  function navigateAfterLogout() {
    if (ui.stopped) return;
    ui.stopped = true;
    clearTimeout(ui.pollTimer);
    emit("conn.logout");
    try {
      localStorage.setItem("old-logout-cred", JSON.stringify({ loggedOutAt: Date.now() }));
    } catch (error) {
      console.error("could not write localStorage", error);
    }
    setTimeout(function () {
      location.replace("/?post_logout=1");
    }, LOGOUT_NAVIGATE_MS);
  }

  function buildIntro() {
    return el("div", { class: "intro" }, [
      el("div", { class: "intro-title", text: "WhatsApp Web" }),
      el("div", { class: "intro-text", text: "Send and receive messages without keeping your phone online." }),
    ]);
  }

  function renderMain(state, requestedChat) {
    renderBanner(state.phone_offline);
    renderChatList(state.chats);
    if (state.chat && state.chat.number === ui.openChat && requestedChat === ui.openChat) {
      renderMessages(state.chat.messages);
    }
    if (ui.sendIntent) runSendIntent();
  }

  function renderBanner(offline) {
    if (offline && !ui.banner) {
      ui.banner = el("div", { class: "phone-banner", role: "button", tabindex: "0" }, [
        el("div", { class: "banner-icon" }, [icon("alert-phone")]),
        el("div", { class: "banner-body" }, [
          el("div", { class: "banner-title", text: "Trying to reach phone" }),
          el("div", {
            class: "banner-text",
            text: "Make sure your phone has an active Internet connection.",
          }),
        ]),
      ]);
      ui.bannerSlot.appendChild(ui.banner);
    } else if (!offline && ui.banner) {
      ui.banner.remove();
      ui.banner = null;
    }
  }

  function renderChatList(chats) {
    const listed = new Set();
    chats.forEach(function (chat, index) {
      listed.add(chat.number);
      let entry = ui.chatRows.get(chat.number);
      if (!entry) {
        entry = createChatRow(chat.number);
        ui.chatRows.set(chat.number, entry);
      }
      updateChatRow(entry, chat);
      const current = ui.grid.children[index];
      if (current !== entry.row) ui.grid.insertBefore(entry.row, current || null);
    });
    ui.chatRows.forEach(function (entry, number) {
      if (!listed.has(number)) {
        entry.row.remove();
        ui.chatRows.delete(number);
      }
    });
    setAttr(ui.grid, "aria-rowcount", String(chats.length));
    applySearchFilter();
  }

  function createChatRow(number) {
    const entry = {
      name: el("span", { dir: "auto", class: "chat-name" }),
      time: el("div", { class: "chat-time" }),
      lastOuter: el("span", { class: "chat-last-text" }),
      last: el("span", { dir: "ltr" }),
      badgeSlot: el("span", { class: "chat-badges" }),
      badge: null,
    };
    entry.lastOuter.appendChild(entry.last);
    entry.cell = el("div", { tabindex: "-1", "aria-selected": "false", class: "chat-cell" }, [
      el("div", { class: "chat-avatar" }),
      el("div", { class: "chat-body" }, [
        el("div", { class: "chat-line" }, [el("div", { class: "chat-title" }, [entry.name]), entry.time]),
        el("div", { class: "chat-line" }, [
          el("div", { class: "chat-last" }, [entry.lastOuter]),
          el("div", { class: "chat-meta" }, [entry.badgeSlot]),
        ]),
      ]),
    ]);
    entry.row = el("div", { role: "listitem", class: "chat-row" }, [entry.cell]);
    entry.row.addEventListener("click", function () {
      openChat(number);
    });
    return entry;
  }

  function updateChatRow(entry, chat) {
    setAttr(entry.name, "title", chat.title);
    setText(entry.name, chat.title);
    setText(entry.time, chat.time);
    setAttr(entry.lastOuter, "title", chat.last_text);
    setText(entry.last, chat.last_text);
    setAttr(entry.cell, "aria-selected", chat.number === ui.openChat ? "true" : "false");
    const unread = chat.number === ui.openChat ? 0 : chat.unread;
    setBadge(entry, unread);
  }

  function setBadge(entry, unread) {
    if (unread > 0) {
      if (!entry.badge) {
        entry.badge = el("span", { class: "unread-badge" });
        entry.badgeSlot.appendChild(el("div", {}, [entry.badge]));
      }
      setAttr(entry.badge, "aria-label", unread + " unread messages");
      setText(entry.badge, String(unread));
    } else if (entry.badge) {
      entry.badgeSlot.textContent = "";
      entry.badge = null;
    }
  }

  function applySearchFilter() {
    if (!ui.search) return;
    const query = ui.search.textContent.replace(/[\s+]/g, "");
    ui.chatRows.forEach(function (entry) {
      const title = entry.name.textContent.replace(/[\s+]/g, "");
      const display = !query || title.includes(query) ? "" : "none";
      if (entry.row.style.display !== display) entry.row.style.display = display;
    });
  }

  // --- main view: open chat --------------------------------------------------------

  function openChat(number) {
    if (ui.frozen || !ui.mainArea) return;
    if (ui.openChat === number && ui.mainEl) return;
    ui.openChat = number;
    ui.after = 0;
    ui.msgRows = new Map();
    buildChatPane(number);
    ui.chatRows.forEach(function (entry, rowNumber) {
      setAttr(entry.cell, "aria-selected", rowNumber === number ? "true" : "false");
      if (rowNumber === number) setBadge(entry, 0);
    });
    api("POST", "/sim/api/read", { chat: number }).catch(function () {});
    kick();
  }

  function buildChatPane(number) {
    const title = number.includes("@") ? number : "+" + number;
    ui.msgList = el("div", {
      role: "application",
      tabindex: "-1",
      class: "msg-list",
      "aria-label": "Message list. Press right arrow key on a message to open message context menu.",
    });
    ui.editor = el("div", {
      role: "textbox",
      contenteditable: "true",
      spellcheck: "true",
      tabindex: "10",
      "data-tab": "10",
      "aria-label": "Type a message",
      "aria-placeholder": "Type a message",
      "data-lexical-editor": "true",
      class: "editor compose-editor",
    });
    ui.editor.addEventListener("keydown", onComposerKeydown);
    ui.editor.addEventListener("input", updateComposeButton);
    ui.actionSlot = el("div", { class: "compose-action" });
    ui.sendButton = null;
    ui.mainEl = el("div", { id: "main", class: "main" }, [
      el("header", { class: "main-header" }, [
        el("div", { class: "avatar" }),
        el("div", { class: "main-header-info", role: "button", tabindex: "0" }, [
          el("div", { class: "main-title" }, [el("span", { dir: "auto", title: title, class: "chat-name", text: title })]),
        ]),
      ]),
      el("div", { class: "conversation copyable-area" }, [
        el("div", { class: "msg-scroll", tabindex: "0" }, [ui.msgList]),
      ]),
      el("footer", { class: "compose" }, [
        el("div", { class: "copyable-area compose-inner" }, [
          el("div", { class: "compose-input" }, [el("div", { class: "lexical-rich-text-input" }, [ui.editor])]),
          ui.actionSlot,
        ]),
      ]),
    ]);
    ui.mainArea.textContent = "";
    ui.mainArea.appendChild(ui.mainEl);
    updateComposeButton();
  }

  function renderMessages(messages) {
    let appended = false;
    messages.forEach(function (message) {
      ui.after = Math.max(ui.after, message.seq);
      const existing = ui.msgRows.get(message.key);
      if (existing) {
        updateMessageRow(existing, message);
      } else {
        appendMessageRow(message);
        appended = true;
      }
    });
    if (appended) scrollToBottom();
  }

  function appendMessageRow(message) {
    const entry = {
      copy: el("div", { class: "copyable-text", "data-pre-plain-text": message.pre }),
      statusSlot: null,
      ack: null,
    };
    const meta = el("div", { class: "msg-meta" }, [el("span", { class: "msg-timestamp", dir: "auto", text: message.time })]);
    if (message.from_me) {
      entry.statusSlot = el("div", { class: "msg-status" });
      meta.appendChild(entry.statusSlot);
    }
    if (message.media) entry.copy.appendChild(mediaView(message));
    const words = message.change
      ? message.change.participants.join(", ") + " " + (CHANGE_WORDS[message.change.action] || message.change.action)
      : message.text;
    entry.copy.appendChild(
      el("div", { class: "msg-text" + (message.change ? " msg-system" : "") }, [
        el("span", { dir: "ltr", class: "selectable-text copyable-text" }, [el("span", { text: words })]),
      ]),
    );
    const bubble = el("div", { class: (message.from_me ? "message-out" : "message-in") + " focusable-list-item" }, [
      el("div", { class: "bubble" }, [entry.copy, meta]),
    ]);
    entry.row = el("div", { role: "row" }, [
      el("div", { tabindex: "-1", class: "focusable-list-item msg-wrap", "data-id": message.data_id }, [el("span"), bubble]),
    ]);
    updateMessageRow(entry, message);
    ui.msgRows.set(message.key, entry);
    ui.msgList.appendChild(entry.row);
  }

  const CHANGE_WORDS = { add: "added", remove: "removed", join: "joined", leaver: "left", promote: "made admin", demote: "no longer admin" };

  // A photo shows, a voice note plays, anything else is a named file.
  function mediaView(message) {
    const media = message.media;
    const src = "/sim/api/media?id=" + encodeURIComponent(message.data_id);
    if (media.type === "image" || media.type === "sticker") {
      return el("img", { class: "msg-media", src: src, alt: "Photo", width: "240" });
    }
    if (media.type === "ptt" || media.type === "audio") {
      return el("audio", { class: "msg-media", src: src, controls: "", "aria-label": "Voice note" });
    }
    return el("div", { class: "msg-media msg-file", text: "\ud83d\udcc4 " + (media.filename || "file") + " (" + media.size + " bytes)" });
  }

  // One tick per ack, as WhatsApp draws them: clock, grey tick, two grey, two blue, red mark.
  const TICKS = {
    "-1": ["msg-error", " Not sent ", "error"],
    0: ["msg-time", " Pending ", ""],
    1: ["msg-check", " Sent ", ""],
    2: ["msg-dblcheck", " Delivered ", ""],
    3: ["msg-dblcheck", " Read ", "read"],
    4: ["msg-dblcheck", " Played ", "read"],
  };

  function updateMessageRow(entry, message) {
    setAttr(entry.copy, "data-pre-plain-text", message.pre);
    if (!entry.statusSlot || entry.ack === message.ack) return;
    entry.ack = message.ack;
    const [name, label, kind] = TICKS[message.ack] || TICKS[0];
    entry.statusSlot.textContent = "";
    entry.statusSlot.className = "msg-status " + kind;
    entry.statusSlot.appendChild(icon(name, label));
  }

  function scrollToBottom() {
    const scroller = ui.msgList && ui.msgList.parentNode;
    if (scroller) scroller.scrollTop = scroller.scrollHeight;
  }

  // --- composer ------------------------------------------------------------------

  function composerText(editor) {
    // Text as the user sees it: text nodes keep their "\n" (white-space:
    // pre-wrap), <br> is a line break and each block starts a new line.
    let out = "";
    function walk(node) {
      node.childNodes.forEach(function (child) {
        if (child.nodeType === Node.TEXT_NODE) {
          out += child.nodeValue;
        } else if (child.nodeName === "BR") {
          out += "\n";
        } else if (child.nodeType === Node.ELEMENT_NODE) {
          const block = child.nodeName === "DIV" || child.nodeName === "P";
          if (block && out && !out.endsWith("\n")) out += "\n";
          walk(child);
        }
      });
    }
    walk(editor);
    return out;
  }

  function onComposerKeydown(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendFromComposer();
    }
  }

  function updateComposeButton() {
    if (!ui.editor) return;
    const hasText = composerText(ui.editor).trim().length > 0;
    if (hasText && !ui.sendButton) {
      ui.sendButton = el("button", { "aria-label": "Send", "data-tab": "11", class: "icon-btn send-btn", type: "button" }, [
        icon("wds-ic-send-filled"),
      ]);
      ui.sendButton.addEventListener("click", sendFromComposer);
      ui.actionSlot.textContent = "";
      ui.actionSlot.appendChild(ui.sendButton);
    } else if (!hasText && (ui.sendButton || !ui.actionSlot.firstChild)) {
      ui.sendButton = null;
      ui.actionSlot.textContent = "";
      ui.actionSlot.appendChild(
        el("button", { "aria-label": "Voice message", class: "icon-btn", type: "button" }, [icon("wds-ic-mic-filled")]),
      );
    }
  }

  function setComposerText(text) {
    ui.editor.textContent = text;
    ui.editor.focus();
    const range = document.createRange();
    range.selectNodeContents(ui.editor);
    range.collapse(false);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    updateComposeButton();
  }

  function sendFromComposer() {
    const text = composerText(ui.editor).trim();
    if (!text || !ui.openChat || ui.conflict) return;
    const chat = ui.openChat;
    const id = "3EB0" + randomHex(18);
    const dataId = "true_" + chat + "@c.us_" + id;
    const now = new Date();
    appendMessageRow({
      key: dataId + "#1",
      data_id: dataId,
      from_me: true,
      text: text,
      pre: prePlainText(now, OWN_NAME),
      time: formatTime(now),
      ack: 0,
    });
    scrollToBottom();
    ui.editor.textContent = "";
    updateComposeButton();
    ui.editor.focus();
    const payload = { chat: chat, text: text, id: id };
    if (ui.frozen) ui.queuedSends.push(payload);
    else postSend(payload);
  }

  function postSend(payload) {
    api("POST", "/sim/api/send", payload).then(kick, function (error) {
      // Retry what may still go through (network, conflict); the server
      // ignores a repeated id, so a retry never sends twice.
      if (!error.status || error.status >= 500 || error.status === 409) {
        setTimeout(function () {
          postSend(payload);
        }, RETRY_MS);
      }
    });
  }

  function flushQueuedSends() {
    const queued = ui.queuedSends;
    ui.queuedSends = [];
    queued.forEach(postSend);
    ui.unfreezeWaiters.splice(0).forEach(function (resolve) {
      resolve();
    });
  }

  function runSendIntent() {
    const intent = ui.sendIntent;
    ui.sendIntent = null;
    api("POST", "/sim/api/open-chat", { phone: intent.phone }).then(function (result) {
      if (!result.valid) {
        showInvalidPhone();
        return;
      }
      openChat(result.number);
      if (intent.text) setComposerText(intent.text);
      else ui.editor.focus();
    });
  }

  // --- overlays ------------------------------------------------------------------

  function showModal(title, text, buttons) {
    const body = el("div", { class: "modal-body" });
    if (title) body.appendChild(el("div", { class: "modal-title", text: title }));
    body.appendChild(el("div", { class: "modal-text", text: text }));
    const popup = el("div", { "data-animate-modal-popup": "true", role: "dialog", "aria-modal": "true", tabindex: "-1", class: "modal" }, [
      body,
      el("div", { class: "modal-actions" }, buttons),
    ]);
    const backdrop = el("div", { class: "modal-backdrop", "data-animate-modal-backdrop": "true" }, [popup]);
    overlays.appendChild(backdrop);
    return backdrop;
  }

  function showInvalidPhone() {
    const modal = showModal(null, "Phone number shared via url is invalid.", [
      button(
        "OK",
        function () {
          modal.remove();
        },
        "primary",
      ),
    ]);
  }

  function renderConflict(state) {
    ui.conflict = state.conflict;
    if (!state.conflict) {
      removeConflict();
      ui.conflictClosed = false;
    } else if (!ui.conflictClosed && !ui.conflictModal) {
      ui.conflictModal = showModal(
        null,
        "WhatsApp is open on another computer or browser. Click \u201cUse here\u201d to use WhatsApp in this window.",
        [button("Close", closeConflictModal), button("Use here", useHere, "primary")],
      );
    }
  }

  function closeConflictModal() {
    ui.conflictClosed = true;
    if (ui.conflictModal) ui.conflictModal.remove();
    ui.conflictModal = null;
    ui.conflictLanding = el("div", { class: "conflict-landing" }, [
      el("div", { class: "conflict-text", text: "WhatsApp is open in another window. Click \u201cUse here\u201d to use WhatsApp in this window." }),
      button("Use here", useHere, "primary"),
    ]);
    overlays.appendChild(ui.conflictLanding);
  }

  function removeConflict() {
    if (ui.conflictModal) ui.conflictModal.remove();
    if (ui.conflictLanding) ui.conflictLanding.remove();
    ui.conflictModal = null;
    ui.conflictLanding = null;
  }

  function useHere() {
    if (ui.frozen) return undefined;
    removeConflict();
    ui.conflictClosed = false;
    return api("POST", "/sim/api/use-here", {}).then(kick, kick);
  }

  // --- start ---------------------------------------------------------------------

  function boot() {
    const params = new URLSearchParams(location.search);
    if (location.pathname === "/send") {
      ui.sendIntent = { phone: params.get("phone") || "", text: params.get("text") || "" };
      history.replaceState(null, "", "/");
    }
    animateProgress();
    loadSession()
      .then(function (sid) {
        storedSession = sid;
        return api("POST", "/sim/api/boot", { post_logout: params.get("post_logout") === "1" });
      })
      .then(function (state) {
        saveSession(state.session_id);
        markReady();
        safeApply(state, null);
      })
      .catch(function () {})
      .then(function () {
        schedule();
      });
  }

  boot();
})();
