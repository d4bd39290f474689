/*
 * Injected into WhatsApp Web by the worker. A MutationObserver notices what the page
 * shows and queues events; the worker drains the queue with waitForEvents(), which
 * resolves as soon as there is something to read. Nothing here polls the DOM on a timer.
 *
 * arguments[0]: {selectors: {name: [css, ...]}, texts: {name: [text, ...]}, loggedOutQuery}
 * Returns "installed" or "present".
 */
(function (config) {
  "use strict";
  if (window.__waWorker) return "present";

  const SEL = config.selectors;
  const TEXTS = config.texts;

  function first(name, root) {
    for (const css of SEL[name]) {
      const found = (root || document).querySelector(css);
      if (found) return found;
    }
    return null;
  }

  function all(name, root) {
    for (const css of SEL[name]) {
      const found = (root || document).querySelectorAll(css);
      if (found.length) return Array.from(found);
    }
    return [];
  }

  function pageHas(name) {
    const app = document.getElementById("app") || document.body;
    const text = app ? app.textContent : "";
    return TEXTS[name].some(function (t) { return text.indexOf(t) !== -1; });
  }

  const state = {
    queue: [],
    waiters: [],
    view: null,
    qr: null,
    phoneReachable: true,
    unread: new Map(),
    seen: new Set(),
    lastMutationAt: Date.now(),
    lastEventAt: null,
    scheduled: false,
  };

  function emit(event) {
    event.at = Date.now();
    state.lastEventAt = event.at;
    state.queue.push(event);
    const waiters = state.waiters.splice(0);
    waiters.forEach(function (wake) { wake(); });
  }

  function currentView() {
    const modal = first("modal");
    if (modal && pageHas("conflict")) return "conflict";
    if (first("chat_list")) return "ready";
    if (first("qr_canvas")) return "qr";
    if (first("qr_reload")) return "qr_expired";
    if (first("progress")) return "loading";
    return "unknown";
  }

  function scanView() {
    const view = currentView();
    if (view !== state.view) {
      emit({ type: "view", view: view, previous: state.view });
      state.view = view;
    }
    if (view === "qr") {
      const box = first("qr_container");
      const value = box ? box.getAttribute("data-ref") : null;
      if (value && value !== state.qr) {
        state.qr = value;
        emit({ type: "qr", value: value });
      }
    } else {
      state.qr = null;
    }
    if (view === "ready") {
      const reachable = !pageHas("phone_unreachable");
      if (reachable !== state.phoneReachable) {
        state.phoneReachable = reachable;
        emit({ type: "phone", reachable: reachable });
      }
    }
  }

  function scanUnread() {
    const now = new Map();
    all("chat_rows").forEach(function (row) {
      const badge = first("unread_badge", row);
      const title = first("chat_title", row);
      if (!badge || !title) return;
      const count = parseInt(badge.textContent, 10) || 1;
      const key = title.getAttribute("title");
      now.set(key, count);
      if (state.unread.get(key) !== count) emit({ type: "unread", chat: key, count: count });
    });
    state.unread = now;
  }

  function scanMessages() {
    const header = first("open_chat_title");
    const chat = header ? header.getAttribute("title") || header.textContent : null;
    all("message_rows").forEach(function (row) {
      const id = row.getAttribute("data-id");
      if (!id || state.seen.has(id)) return;
      state.seen.add(id);
      if (!first("message_in", row) && id.indexOf("false_") !== 0) return;
      const meta = first("message_meta", row);
      const text = first("message_text", row);
      emit({
        type: "message",
        id: id,
        chat: chat,
        text: text ? text.innerText : "",
        pre: meta ? meta.getAttribute("data-pre-plain-text") : "",
      });
    });
  }

  function scan() {
    state.scheduled = false;
    if (location.search.indexOf(config.loggedOutQuery) !== -1 && !state.loggedOutSeen) {
      state.loggedOutSeen = true;
      emit({ type: "logged_out" });
    }
    scanView();
    if (state.view === "ready") {
      scanUnread();
      scanMessages();
    }
  }

  function schedule() {
    state.lastMutationAt = Date.now();
    if (state.scheduled) return;
    state.scheduled = true;
    setTimeout(scan, 30);
  }

  new MutationObserver(schedule).observe(document.documentElement, {
    subtree: true,
    childList: true,
    attributes: true,
    characterData: true,
  });

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
    health: function () {
      return {
        view: state.view,
        chatListAnswers: !!first("chat_list"),
        lastMutationAt: state.lastMutationAt,
        lastEventAt: state.lastEventAt,
      };
    },
    forget: function (id) { state.seen.delete(id); },
  };
  scan();
  return "installed";
})(arguments[0]);
