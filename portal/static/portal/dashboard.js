// The dashboard's live updates: poll the portal API with the signed-in session and
// rewrite the words, the heartbeat and the QR code in place. The page is complete without
// this script; the wording tables come from the server (portal/wording.py) as JSON, so the
// live page and the rendered page always say the same thing.
(function () {
  "use strict";

  var configNode = document.getElementById("dashboard-config");
  var root = document.getElementById("dashboard");
  if (!configNode || !root || !window.fetch) {
    return;
  }
  var config = JSON.parse(configNode.textContent);
  var box = root.querySelector("[data-tone-box]");
  var qrBox = root.querySelector("[data-qr]");
  var qrImage = root.querySelector("[data-qr-image]");
  var qrCount = root.querySelector("[data-qr-count]");
  var qrCountdown = root.querySelector("[data-qr-countdown]");
  var liveNote = root.querySelector("[data-live-note]");
  var timeFormat = new Intl.DateTimeFormat("en-GB", {
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: config.timeZone
  });

  var shownQrCount = qrImage.getAttribute("src") ? Number(qrCount.getAttribute("data-count")) : null;
  var qrExpiresAt = null;
  var timer = null;
  var inFlight = false;
  var stopped = false;

  function field(name) {
    return root.querySelector('[data-field="' + name + '"]');
  }

  function setText(name, text) {
    var node = field(name);
    if (node && node.textContent !== text) {
      node.textContent = text;
    }
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

  // The same lookup as portal.wording.reason_words.
  function reasonWords(reason) {
    var text = (reason || "").trim().toLowerCase();
    if (!text) {
      return "";
    }
    for (var i = 0; i < config.reasons.length; i++) {
      if (text.indexOf(config.reasons[i][0].toLowerCase()) === 0) {
        return config.reasons[i][1];
      }
    }
    return config.fallbackReason;
  }

  function stateWords(state, changedAt) {
    var words = config.states[state] || { headline: "Unknown state " + state, detail: "", tone: "off" };
    var since = changedAt ? timeFormat.format(new Date(changedAt)) : "a moment ago";
    return { headline: words.headline.replace(config.since, since), detail: words.detail, tone: words.tone };
  }

  function setTone(tone) {
    var wanted = "tone-" + tone;
    if (box.classList.contains(wanted)) {
      return;
    }
    Array.prototype.slice.call(box.classList).forEach(function (name) {
      if (name.indexOf("tone-") === 0) {
        box.classList.remove(name);
      }
    });
    box.classList.add(wanted);
  }

  function render(status) {
    var session = status.session;
    var words = stateWords(session.state, session.state_changed_at);
    root.setAttribute("data-state", session.state);
    setTone(words.tone);
    setText("headline", words.headline);
    setText("detail", words.detail);
    setText("heartbeat", humanizeAge(session.heartbeat_age_seconds));
    setText("worker", config.workers[status.worker.status] || status.worker.status);
    setText("tenant", config.tenants[status.tenant.status] || status.tenant.status);
    setText("problem", reasonWords(status.worker.last_error) || config.noProblem);
  }

  function hideQr() {
    qrBox.hidden = true;
    qrImage.removeAttribute("src");
    shownQrCount = null;
    qrExpiresAt = null;
  }

  function showQr(qr) {
    if (qrImage.getAttribute("src") !== qr.data_uri) {
      qrImage.setAttribute("src", qr.data_uri);
    }
    qrCount.textContent = config.qrCount.replace("{n}", qr.refresh_count).replace("{max}", qr.max_refreshes);
    qrExpiresAt = Date.now() + (qr.expected_lifetime_seconds - qr.age_seconds) * 1000;
    shownQrCount = qr.refresh_count;
    qrBox.hidden = false;
    tick();
  }

  function tick() {
    if (qrExpiresAt === null) {
      return;
    }
    var left = Math.ceil((qrExpiresAt - Date.now()) / 1000);
    qrCountdown.textContent = left > 0 ? config.qrCountdown.replace("{seconds}", left) : config.qrDue;
  }

  function getJson(url) {
    return fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" }
    });
  }

  // Fetch the code only when it is a new one: the status says which code is on screen.
  function refreshQr(session) {
    if (session.qr_refresh_count === shownQrCount && qrImage.getAttribute("src")) {
      return Promise.resolve();
    }
    return getJson(config.qrUrl).then(function (response) {
      if (response.status === 404) {
        hideQr();  // gone between the two requests: the next poll tells what happened
        return;
      }
      if (!response.ok) {
        throw new Error("qr " + response.status);
      }
      return response.json().then(showQr);
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

  function poll() {
    timer = null;
    inFlight = true;
    getJson(config.statusUrl)
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
        return response.json().then(function (status) {
          render(status);
          if (status.session.state !== "QR") {
            hideQr();
            return;
          }
          return refreshQr(status.session);
        }).then(function () {
          if (!stopped) {
            setLive(true);
          }
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

  var expiresIn = Number(qrCountdown.getAttribute("data-expires-in"));
  if (shownQrCount !== null && expiresIn > 0) {
    qrExpiresAt = Date.now() + expiresIn * 1000;
  }
  window.setInterval(tick, 1000);
  poll();
})();
