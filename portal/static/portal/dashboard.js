// The dashboard's live updates. Every word on the page is the server's: this script polls
// the status API, keeps the heartbeat's age and the QR code current, and when the status
// differs from what the page was rendered from (data-rendered), or now and then for the
// counts, it fetches the page again and puts its live parts in place of the old ones. The
// page is complete without this script.
(function () {
  "use strict";

  var configNode = document.getElementById("dashboard-config");
  var root = document.getElementById("dashboard");
  if (!configNode || !root || !window.fetch || !window.DOMParser) {
    return;
  }
  var config = JSON.parse(configNode.textContent);
  var liveNote = root.querySelector("[data-live-note]");

  var shownQrCount = null;
  var qrExpiresAt = null;
  var renderedAt = Date.now();
  var timer = null;
  var inFlight = false;
  var stopped = false;

  function find(selector) {
    return root.querySelector(selector);
  }

  // The same as portal.views.text_hash: 31-based over UTF-16 code units, modulo 2**32.
  function textHash(text) {
    var value = 0;
    for (var i = 0; i < text.length; i++) {
      value = (Math.imul(value, 31) + text.charCodeAt(i)) >>> 0;
    }
    return value;
  }

  // The same fields, in the same order, as portal.views._rendered.
  function signature(status) {
    var changed = Math.floor(Date.parse(status.session.state_changed_at) / 1000);
    return [
      status.session.state,
      changed,
      status.worker.status,
      status.worker.start_position || "",
      status.tenant.status,
      textHash(status.worker.last_error || ""),
      status.session.link_code_state
    ].join("|");
  }

  // The same steps as tenants.formatting.humanize_age.
  function humanizeAge(seconds) {
    if (seconds === null || seconds === undefined) {
      return "never";
    }
    seconds = Math.max(Math.floor(seconds), 0);
    if (seconds < 120) { return seconds + " s ago"; }
    if (seconds < 2 * 3600) { return Math.floor(seconds / 60) + " min ago"; }
    if (seconds < 2 * 86400) { return Math.floor(seconds / 3600) + " h ago"; }
    return Math.floor(seconds / 86400) + " d ago";
  }

  function setHeartbeat(seconds) {
    var node = find('[data-field="heartbeat"]');
    var text = humanizeAge(seconds);
    if (node && node.textContent !== text) {
      node.textContent = text;
    }
  }

  // The code the server rendered, and when it turns.
  function readQr() {
    var image = find("[data-qr-image]");
    var count = find("[data-qr-count]");
    var countdown = find("[data-qr-countdown]");
    shownQrCount = image && image.getAttribute("src") ? Number(count.getAttribute("data-count")) : null;
    var expiresIn = countdown ? Number(countdown.getAttribute("data-expires-in")) : 0;
    qrExpiresAt = shownQrCount !== null && expiresIn > 0 ? Date.now() + expiresIn * 1000 : null;
  }

  function showQr(qr) {
    var image = find("[data-qr-image]");
    if (!image) {
      return;
    }
    if (image.getAttribute("src") !== qr.data_uri) {
      image.setAttribute("src", qr.data_uri);
    }
    find("[data-qr-count]").textContent = config.qrCount
      .replace("{n}", qr.refresh_count).replace("{max}", qr.max_refreshes);
    qrExpiresAt = Date.now() + (qr.expected_lifetime_seconds - qr.age_seconds) * 1000;
    shownQrCount = qr.refresh_count;
    find("[data-qr]").hidden = false;
    tick();
  }

  function tick() {
    var countdown = find("[data-qr-countdown]");
    if (qrExpiresAt === null || !countdown) {
      return;
    }
    var left = Math.ceil((qrExpiresAt - Date.now()) / 1000);
    countdown.textContent = left > 0 ? config.qrCountdown.replace("{seconds}", left) : config.qrDue;
  }

  function request(url, accept) {
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: accept } });
  }

  // Fetch the code only when it is a new one: the status says which code is on screen.
  function refreshQr(session) {
    if (session.qr_refresh_count === shownQrCount) {
      return Promise.resolve();
    }
    return request(config.qrUrl, "application/json").then(function (response) {
      if (response.status === 404) {
        return;  // gone between the two requests: the next poll tells what happened
      }
      if (!response.ok) {
        throw new Error("qr " + response.status);
      }
      return response.json().then(showQr);
    });
  }

  function isTypingIn(part) {
    var active = document.activeElement;
    return Boolean(active && part.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName));
  }

  // The page again, as the server renders it now: its live parts replace ours (but not one
  // the user is typing in).
  function refreshPage() {
    return request(config.pageUrl, "text/html").then(function (response) {
      if (response.redirected || !response.ok) {
        throw new Error("page " + response.status);
      }
      return response.text();
    }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("dashboard");
      if (!fresh) {
        throw new Error("no dashboard in the page");
      }
      var typing = false;
      Array.prototype.forEach.call(fresh.querySelectorAll("[data-live]"), function (part) {
        var old = find('[data-live="' + part.getAttribute("data-live") + '"]');
        if (old && isTypingIn(old)) {
          typing = true;  // what the user is typing stays; the next poll brings this part
        } else if (old) {
          old.replaceWith(document.importNode(part, true));
        }
      });
      if (!typing) {
        root.setAttribute("data-rendered", fresh.getAttribute("data-rendered"));
      }
      renderedAt = Date.now();
      readQr();
      tick();
    });
  }

  function setLive(ok, message) {
    liveNote.hidden = ok;
    if (!ok) {
      liveNote.textContent = message;
    }
  }

  function schedule() {
    inFlight = false;
    if (!stopped && !document.hidden) {
      timer = window.setTimeout(poll, config.pollMs);
    }
  }

  function follow(status) {
    setHeartbeat(status.session.heartbeat_age_seconds);
    var changed = signature(status) !== root.getAttribute("data-rendered");
    if (changed || Date.now() - renderedAt >= config.refreshMs) {
      return refreshPage();
    }
    return status.session.state === "QR" ? refreshQr(status.session) : Promise.resolve();
  }

  function poll() {
    timer = null;
    inFlight = true;
    request(config.statusUrl, "application/json")
      .then(function (response) {
        if (response.status === 401 || response.status === 403) {
          // Signed out (elsewhere, or the session ended): polling again won't help.
          stopped = true;
          setLive(false, "Live updates stopped: you are signed out. Reload the page to sign in again.");
          return;
        }
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json().then(follow).then(function () {
          setLive(true);
        });
      })
      .catch(function () {
        setLive(false, "Live updates are paused; retrying…");
      })
      .then(schedule);
  }

  // No polling while the tab is hidden; catch up at once when it comes back.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      window.clearTimeout(timer);
      timer = null;
    } else if (timer === null && !inFlight && !stopped) {
      poll();
    }
  });

  readQr();
  window.setInterval(tick, 1000);
  poll();
})();
