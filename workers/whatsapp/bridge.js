/*
 * The worker's one script in the page: it talks to WhatsApp Web through wa-js (window.WPP),
 * never through the markup. It subscribes to WPP's events and queues them; the worker drains
 * the queue with waitForEvents(), which resolves as soon as there is something to read
 * (nothing here polls). It answers the few calls the worker makes with call(name, args).
 *
 * Every WPP name used here is listed in contract.py and checked against the pinned wa-js.
 * Ids (Wid, MsgKey) leave the page as their serialized strings.
 * Returns "installed", "present" (installed before) or "no-wpp".
 */
(function () {
  "use strict";
  if (window.__waWorker) return "present";
  const WPP = window.WPP;
  if (!WPP) return "no-wpp";

  const state = { queue: [], waiters: [], lastEventAt: null, ready: false };

  function emit(event) {
    event.at = Date.now();
    state.lastEventAt = event.at;
    state.queue.push(event);
    state.waiters.splice(0).forEach(function (wake) { wake(); });
  }

  function id(value) {
    if (value === null || value === undefined) return null;
    if (typeof value === "string") return value;
    return value._serialized || String(value);
  }

  // Our own ids (phone and hidden-number), to tell a mention of this number in a group.
  function ownIds() {
    const ids = [id(WPP.conn.getMyUserId())];
    try {
      ids.push(id(WPP.conn.getMyUserLid()));
    } catch (error) {
      // an account without a LID yet
    }
    return ids.filter(Boolean);
  }

  function groupName(chatId) {
    const chat = chatId && chatId.endsWith("@g.us") ? WPP.chat.get(chatId) : null;
    return chat ? String(chat.name || chat.formattedTitle || "") : "";
  }

  function message(msg) {
    const key = msg.id || {};
    const chat = id(key.fromMe ? msg.to : msg.from);
    const media = !!msg.isMedia || msg.type === "document" || msg.type === "sticker";
    const mentioned = (msg.mentionedJidList || []).map(id);
    const me = mentioned.length ? ownIds() : [];
    return {
      type: "message",
      id: id(key),
      from_me: !!key.fromMe,
      chat: chat,
      author: id(msg.author),
      group: !!msg.isGroupMsg,
      group_name: msg.isGroupMsg ? groupName(chat) : "",
      mentions_me: mentioned.some(function (jid) { return me.indexOf(jid) !== -1; }),
      kind: msg.type || "chat",
      // A media message's body is WhatsApp's preview image, not text: its words are the caption.
      body: media ? (typeof msg.caption === "string" ? msg.caption : "") : (typeof msg.body === "string" ? msg.body : ""),
      media: media ? {
        mimetype: typeof msg.mimetype === "string" ? msg.mimetype : "",
        filename: typeof msg.filename === "string" ? msg.filename : "",
        size: typeof msg.size === "number" ? msg.size : null,
      } : null,
      t: msg.t || null,
      quoted: id(msg.quotedMsgId),
      is_new: msg.isNewMsg !== false,
    };
  }

  WPP.on("conn.auth_code_change", function (code) {
    emit({ type: "auth_code", code: code ? code.fullCode : null });
  });
  WPP.on("conn.qrcode_idle", function () { emit({ type: "qr_idle" }); });
  WPP.on("conn.authenticated", function () { emit({ type: "authenticated" }); });
  WPP.on("conn.main_ready", function () { emit({ type: "main_ready" }); });
  WPP.on("conn.logout", function () { emit({ type: "logout" }); });
  WPP.on("conn.stream_mode_changed", function (mode) { emit({ type: "stream_mode", mode: mode }); });
  WPP.on("conn.stream_info_changed", function (info) { emit({ type: "stream_info", info: info }); });
  WPP.on("conn.link_code_change", function (code) { emit({ type: "link_code", code: code }); });
  WPP.on("conn.link_code_expired", function () { emit({ type: "link_code_expired" }); });
  WPP.on("conn.link_code_error", function (error) {
    emit({ type: "link_code_error", error: String((error && error.message) || error) });
  });
  WPP.on("chat.new_message", function (msg) { emit(message(msg)); });
  WPP.on("group.participant_changed", function (change) {
    const me = ownIds();
    emit({
      type: "group_members",
      group: id(change.groupId),
      group_name: groupName(id(change.groupId)),
      action: String(change.action || ""),
      count: (change.participants || []).length,
      me: (change.participants || []).map(id).some(function (jid) { return me.indexOf(jid) !== -1; }),
    });
  });
  WPP.on("chat.msg_ack_change", function (change) {
    emit({ type: "ack", ack: change.ack, chat: id(change.chat), ids: (change.ids || []).map(id) });
  });

  // What the page already is when the bridge arrives (after a navigation, a browser restart):
  // the events that said so went by before anyone listened.
  function snapshot() {
    state.ready = true;
    const stream = WPP.conn.getStreamData() || {};
    const event = {
      type: "snapshot",
      authenticated: !!WPP.conn.isAuthenticated(),
      main_ready: !!WPP.conn.isMainReady(),
      mode: stream.mode || null,
      info: stream.info || null,
      code: null,
    };
    if (event.authenticated) {
      emit(event);
      return;
    }
    WPP.conn.getAuthCode().then(
      function (code) { event.code = code ? code.fullCode : null; emit(event); },
      function () { emit(event); },
    );
  }
  if (WPP.isReady) snapshot();
  else WPP.loader.onReady(snapshot);

  const calls = {
    sendText: function (chatId, text) {
      return WPP.chat.sendTextMessage(chatId, text, { createChat: true }).then(function (sent) {
        return { id: id(sent.id), ack: sent.ack };
      });
    },
    // A photo, document, audio or voice note; content is a data: URL, options wa-js's own.
    sendFile: function (chatId, content, options) {
      const opts = Object.assign({ createChat: true }, options || {});
      return WPP.chat.sendFileMessage(chatId, content, opts).then(function (sent) {
        return { id: id(sent.id), ack: sent.ack };
      });
    },
    exists: function (contactId) {
      return WPP.contact.queryExists(contactId).then(function (found) {
        return found ? { id: id(found.wid), lid: id(found.lid) } : null;
      });
    },
    resolve: function (contactId) {
      return WPP.contact.getPnLidEntry(contactId).then(function (entry) {
        return { lid: id(entry && entry.lid), phone: id(entry && entry.phoneNumber) };
      });
    },
    // The file of a media message, as a data: URL (base64), for the worker to store.
    download: function (messageId) {
      return WPP.chat.downloadMedia(messageId).then(WPP.util.blobToBase64);
    },
    markRead: function (chatId) {
      return WPP.chat.markIsRead(chatId).then(function () { return true; });
    },
    linkCode: function (phone) {
      return WPP.conn.startLinkDeviceCodeForPhoneNumber(phone, true);
    },
    takeOver: function () {
      return Promise.resolve(WPP.whatsapp.Socket.takeover()).then(function () { return true; });
    },
  };

  window.__waWorker = {
    waitForEvents: function (timeoutMs) {
      return new Promise(function (resolve) {
        let done = false;
        function drain() {
          // Once only: a waiter woken after its timeout must not take the next events.
          if (done) return;
          done = true;
          clearTimeout(timer);
          const index = state.waiters.indexOf(drain);
          if (index !== -1) state.waiters.splice(index, 1);
          resolve(state.queue.splice(0));
        }
        const timer = setTimeout(drain, timeoutMs);
        if (state.queue.length) drain();
        else state.waiters.push(drain);
      });
    },
    call: function (name, args) {
      if (!calls[name]) return Promise.resolve({ error: "unknown call " + name });
      let pending;
      try {
        pending = Promise.resolve(calls[name].apply(null, args || []));
      } catch (error) {
        pending = Promise.reject(error);
      }
      return pending.then(
        function (value) { return { ok: value === undefined ? null : value }; },
        function (error) { return { error: String((error && error.message) || error) }; },
      );
    },
    // The heartbeat's round trip: WhatsApp's own main-ready flag, read now.
    health: function () {
      return { ready: state.ready, mainReady: state.ready && !!WPP.conn.isMainReady(), lastEventAt: state.lastEventAt };
    },
  };
  return "installed";
})();
