/* Control page of the WhatsApp Web simulator: a thin client of /sim/control/. */
(function () {
  "use strict";

  const REFRESH_MS = 1000;
  const status = document.getElementById("status");
  const sessionsBody = document.getElementById("sessions");
  const sentBody = document.getElementById("sent");
  const sentTitle = document.getElementById("sent-session");
  const incomingForm = document.getElementById("incoming-form");
  const groupForm = document.getElementById("group-form");
  const ackForm = document.getElementById("ack-form");
  let sentSession = null;
  let renderedKey = null;
  const lastSeenCells = new Map();

  function lastSeenText(session) {
    return session.last_seen_seconds.toFixed(1) + " s ago";
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (className) td.className = className;
    return td;
  }

  function report(message, isError) {
    status.textContent = message;
    status.className = isError ? "error" : "";
  }

  function call(method, path, body) {
    const options = { method: method, cache: "no-store" };
    if (body !== undefined) {
      options.headers = { "Content-Type": "application/json" };
      options.body = JSON.stringify(body);
    }
    return fetch("/sim/control" + path, options).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || "request failed (" + response.status + ")");
        return data;
      });
    });
  }

  function act(label, path, body) {
    return call("POST", path, body)
      .then(function (result) {
        report(label + ": done" + (result.data_id ? " (" + result.data_id + ")" : ""), false);
        refresh();
        return result;
      })
      .catch(function (error) {
        report(label + ": " + error.message, true);
      });
  }

  function actionButton(label, onClick) {
    const node = document.createElement("button");
    node.type = "button";
    node.textContent = label;
    node.addEventListener("click", onClick);
    return node;
  }

  function sessionActions(session) {
    const path = "/sessions/" + encodeURIComponent(session.id);
    const buttons = [];
    if (session.qr) {
      buttons.push(
        actionButton("Link", function () {
          const phone = document.getElementById("link-phone").value;
          act("Link", "/link", { qr: session.qr, phone: phone });
        }),
        actionButton("Expire QR", function () {
          act("Expire QR", path + "/expire-qr");
        }),
      );
    }
    if (session.phone) {
      buttons.push(
        actionButton("Conflict", function () {
          act("Conflict", path + "/conflict");
        }),
        actionButton(session.state === "phone_offline" ? "Phone online" : "Phone offline", function () {
          act("Phone", path + (session.state === "phone_offline" ? "/phone-online" : "/phone-offline"));
        }),
        actionButton("Log out", function () {
          act("Log out", path + "/logout");
        }),
      );
    }
    buttons.push(
      actionButton("TOS block", function () {
        act("TOS block", path + "/tos-block");
      }),
      actionButton("Deprecated version", function () {
        act("Deprecated version", path + "/deprecated-version");
      }),
      actionButton("Unblock", function () {
        act("Unblock", path + "/unblock");
      }),
    );
    buttons.push(
      actionButton(session.frozen ? "Unfreeze" : "Freeze", function () {
        act(session.frozen ? "Unfreeze" : "Freeze", path + (session.frozen ? "/unfreeze" : "/freeze"));
      }),
      actionButton("Sent", function () {
        sentSession = session.id;
        refreshSent();
      }),
    );
    return buttons;
  }

  function sessionsKey(sessions) {
    // What the table shows, minus the ever-changing counters, so buttons are
    // only rebuilt when something real changed (a rebuild can eat a click).
    return JSON.stringify(sessions.map((s) => Object.assign({}, s, { last_seen_seconds: 0, page_polls: 0 })));
  }

  function renderSessions(sessions) {
    const key = sessionsKey(sessions);
    if (key === renderedKey) {
      sessions.forEach(function (session) {
        const seen = lastSeenCells.get(session.id);
        if (seen) seen.textContent = lastSeenText(session);
      });
      return;
    }
    renderedKey = key;
    lastSeenCells.clear();
    sessionsBody.textContent = "";
    if (!sessions.length) {
      const row = document.createElement("tr");
      const empty = cell("No sessions yet: open the simulated page in a browser.");
      empty.colSpan = 7;
      row.appendChild(empty);
      sessionsBody.appendChild(row);
    }
    sessions.forEach(function (session) {
      const row = document.createElement("tr");
      const state = session.state + (session.frozen ? " (frozen: " + session.frozen + ")" : "");
      const counts = [session.chats, session.unread, session.held, session.sent].join(" / ");
      [
        cell(session.id),
        cell(state),
        cell(session.phone),
        cell(session.qr, "qr"),
        cell(counts),
      ].forEach((td) => row.appendChild(td));
      const seen = cell(lastSeenText(session));
      lastSeenCells.set(session.id, seen);
      row.appendChild(seen);
      const actions = cell("", "actions");
      sessionActions(session).forEach((node) => actions.appendChild(node));
      row.appendChild(actions);
      sessionsBody.appendChild(row);
    });
    renderSessionChoices(sessions);
  }

  function renderSessionChoices(sessions) {
    renderSessionSelect(incomingForm.elements.session, sessions);
    renderSessionSelect(groupForm.elements.session, sessions);
    renderSessionSelect(ackForm.elements.session, sessions);
  }

  function renderSessionSelect(select, sessions) {
    const chosen = select.value;
    const ids = sessions.filter((s) => s.phone).map((s) => s.id);
    const current = Array.from(select.options, (option) => option.value);
    if (ids.join() === current.join()) return; // keep the user's choice and focus
    select.textContent = "";
    ids.forEach(function (id) {
      const session = sessions.find((s) => s.id === id);
      const option = document.createElement("option");
      option.value = id;
      option.textContent = id + " (" + session.phone + ")";
      select.appendChild(option);
    });
    if (ids.includes(chosen)) select.value = chosen;
  }

  // A file the worker sent: what it claimed, and a link to the bytes WhatsApp got.
  function mediaCell(message) {
    const td = document.createElement("td");
    if (!message.media) return td;
    const media = message.media;
    const link = document.createElement("a");
    link.href = "/sim/control/sessions/" + encodeURIComponent(sentSession) + "/media?id=" + encodeURIComponent(message.data_id);
    link.textContent = media.type + ", " + (media.filename || "no name") + ", " + media.mimetype + ", " + media.size + " bytes";
    link.className = "sent-media";
    td.appendChild(link);
    return td;
  }

  function refreshSent() {
    if (!sentSession) return Promise.resolve();
    sentTitle.textContent = sentSession;
    return call("GET", "/sessions/" + encodeURIComponent(sentSession) + "/sent")
      .then(function (sent) {
        sentBody.textContent = "";
        sent.messages.forEach(function (message) {
          const row = document.createElement("tr");
          [
            cell(message.time),
            cell(message.chat),
            cell(message.status + " (" + message.ack + ")"),
            cell(message.id),
            cell(message.text, "text"),
            mediaCell(message),
          ].forEach((td) => row.appendChild(td));
          sentBody.appendChild(row);
        });
      })
      .catch(function (error) {
        report("Sent: " + error.message, true);
        sentSession = null;
      });
  }

  function refresh() {
    return call("GET", "/sessions")
      .then(function (data) {
        renderSessions(data.sessions);
        return refreshSent();
      })
      .catch(function (error) {
        report("Refresh failed: " + error.message, true);
      });
  }

  document.getElementById("link-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const form = event.target;
    act("Link", "/link", { qr: form.elements.qr.value.trim(), phone: form.elements.phone.value });
  });

  incomingForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const form = event.target.elements;
    const body = { from: form.from.value, text: form.text.value, duplicate: form.duplicate.checked };
    if (form.name.value.trim()) body.name = form.name.value.trim();
    if (form.id.value.trim()) body.id = form.id.value.trim();
    ["group", "lid", "quoted"].forEach(function (name) {
      if (form[name].value.trim()) body[name] = form[name].value.trim();
    });
    if (!body.from.trim() && body.lid) delete body.from; // a lid nobody can resolve
    if (form.status.checked) body.status = true;
    if (form.group_name.value.trim()) body.group_name = form.group_name.value.trim();
    if (form.mention.checked) body.mentions = ["me"];
    if (form.media.value) body.media = { type: form.media.value };
    if (!body.text.trim()) delete body.text;
    act("Deliver", "/sessions/" + encodeURIComponent(form.session.value) + "/incoming", body);
  });

  groupForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const form = groupForm.elements;
    const body = {
      group: form.group.value.trim(),
      action: form.action.value,
      participants: form.participants.value.split(/[\s,]+/).filter(Boolean),
    };
    if (form.name.value.trim()) body.name = form.name.value.trim();
    act("Group", "/sessions/" + encodeURIComponent(form.session.value) + "/group-change", body);
  });

  document.getElementById("link-code-form").addEventListener("submit", function (event) {
    event.preventDefault();
    act("Link by code", "/link-code", { code: event.target.elements.code.value.trim() });
  });

  ackForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const form = ackForm.elements;
    const path = "/sessions/" + encodeURIComponent(form.session.value);
    if (event.submitter && event.submitter.name === "set-ack") {
      act("Ack", path + "/ack", { id: form.id.value.trim(), ack: Number(form.ack.value) });
    } else {
      act("Ack mode", path + "/acks", { mode: form.mode.value });
    }
  });

  document.getElementById("invalid-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const numbers = event.target.elements.numbers.value.split(/[\s,]+/).filter(Boolean);
    act("Invalid numbers", "/invalid-numbers", { numbers: numbers });
  });

  call("GET", "/invalid-numbers").then(function (data) {
    document.getElementById("invalid-form").elements.numbers.value = data.numbers.join(", ");
  });

  refresh();
  setInterval(refresh, REFRESH_MS);
})();
