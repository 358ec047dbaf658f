/* Relais live updates over the WebSocket of DESIGN.md section 7. No framework, no build step.
 *
 * The page says what it shows through data attributes on <body>: data-live (inbox, sent,
 * referral), data-ws-path and data-after (the last event id rendered by the server, so that
 * events missed between the render and the connection are replayed). Every change also exists
 * as a plain page: without this script, reloading shows the same thing and forms still post.
 *
 * The header's unread count (data-unread-count) goes up when a notification is made for the user:
 * the socket is opened with ?notifications=1 (or /ws/inbox/?notifications=only on a page without
 * live content) and the server sends "notification.created" (messaging/notifications.py).
 */
(function () {
  "use strict";
  var body = document.body;
  var mode = body.dataset.live;
  var counter = document.querySelector("[data-unread-count]");
  if ((!mode && !counter) || !("WebSocket" in window)) return;

  var strings = (document.getElementById("live-strings") || {}).dataset || {};
  var lang = document.documentElement.lang || "fr";
  var lastId = parseInt(body.dataset.after || "0", 10) || 0;
  var socket = null;
  var retryDelay = 1000;
  var pendingNotes = {};
  var liveState = document.getElementById("live-state");
  var announcer = document.getElementById("live-announce") || liveState;

  function say(text) { if (announcer) announcer.textContent = text; }
  function setState(text) { if (liveState) liveState.textContent = text; }
  function statusLabel(code, fallback) {
    // data-status-in_progress is dataset.statusIn_progress: only the letter after "-" is capitalised.
    var key = "status" + code.charAt(0).toUpperCase() + code.slice(1);
    return strings[key] || fallback || code;
  }
  function newUuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }
  function formatDate(iso, withTime) {
    var date = new Date(iso);
    if (isNaN(date)) return "";
    return withTime ? date.toLocaleString(lang) : date.toLocaleDateString(lang);
  }
  function rowsOf(uuid) { return document.querySelectorAll('[data-referral="' + uuid + '"]'); }

  function updateStatus(uuid, code, label, assignee) {
    rowsOf(uuid).forEach(function (row) {
      row.querySelectorAll("[data-status]").forEach(function (badge) {
        badge.textContent = statusLabel(code, label);
        badge.className = "status status--" + code;
      });
      if (assignee) row.querySelectorAll("[data-assignee]").forEach(function (cell) { cell.textContent = assignee; });
    });
    if (mode === "referral" && assignee) {
      document.querySelectorAll("[data-assignee]").forEach(function (cell) { cell.textContent = assignee; });
    }
  }

  function markViewed(uuid, at) {
    rowsOf(uuid).forEach(function (row) {
      row.classList.remove("unread");
      row.querySelectorAll(".badge--new").forEach(function (badge) { badge.remove(); });
      row.querySelectorAll("[data-viewed]").forEach(function (cell) {
        cell.innerHTML = "";
        var badge = document.createElement("span");
        badge.className = "badge badge--read";
        badge.textContent = strings.read || "lu";
        if (at) badge.title = formatDate(at, true);
        cell.appendChild(badge);
      });
    });
  }

  function addInboxRow(event) {
    var data = event.data || {};
    if (body.dataset.organisationId && String(data.to_organisation_id) !== body.dataset.organisationId) return;
    var filter = body.dataset.filterStatus;
    if (filter && filter !== "sent") return;
    if (body.dataset.firstPage !== "true") return; // newest first: it belongs to page 1
    if (rowsOf(event.referral).length) return;
    var template = document.getElementById("inbox-row-template");
    var rows = document.getElementById("inbox-rows");
    if (!template || !rows) return;
    var row = template.content.firstElementChild.cloneNode(true);
    row.dataset.referral = event.referral;
    var link = row.querySelector("a");
    link.href = body.dataset.referralUrl.replace("00000000-0000-0000-0000-000000000000", event.referral);
    link.textContent = data.project_holder || "—";
    row.querySelector('[data-field="neighbourhood"]').textContent = data.neighbourhood || "—";
    row.querySelector('[data-field="from_organisation"]').textContent = data.from_organisation || "";
    row.querySelector('[data-field="service"]').textContent = data.service || "—";
    row.querySelector('[data-field="created_at"]').textContent = formatDate(data.created_at || event.at);
    var badge = row.querySelector("[data-status]");
    badge.textContent = statusLabel("sent", data.status_label);
    var empty = document.getElementById("inbox-empty");
    if (empty) empty.remove();
    rows.insertBefore(row, rows.firstChild);
    say((strings.newReferral || "") + " " + (data.project_holder || "") + " (" + (data.from_organisation || "") + ")");
  }

  function addNote(note) {
    var list = document.getElementById("note-list");
    if (!list || !note || !note.uuid) return;
    if (list.querySelector('[data-note="' + note.uuid + '"]')) return;
    var empty = document.getElementById("note-empty");
    if (empty) empty.remove();
    var item = document.createElement("li");
    item.className = "note note--" + note.visibility + " is-new";
    item.dataset.note = note.uuid;
    var meta = document.createElement("p");
    meta.className = "note__meta";
    var author = document.createElement("strong");
    author.textContent = note.author || "—";
    meta.appendChild(author);
    meta.appendChild(document.createTextNode(" (" + (note.organisation || "") + ") · "));
    var time = document.createElement("time");
    time.dateTime = note.created_at;
    time.textContent = formatDate(note.created_at, true);
    meta.appendChild(time);
    if (note.visibility === "internal") {
      meta.appendChild(document.createTextNode(" · "));
      var badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = strings.internal || "Interne";
      meta.appendChild(badge);
    }
    var text = document.createElement("p");
    text.className = "note__body";
    text.textContent = note.body;
    item.appendChild(meta);
    item.appendChild(text);
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  function addHistory(event) {
    var list = document.getElementById("history");
    if (!list) return;
    var data = event.data || {};
    var item = document.createElement("li");
    var time = document.createElement("time");
    time.dateTime = event.at;
    time.textContent = formatDate(event.at, true);
    item.appendChild(time);
    var who = data.actor ? " · " + data.actor + (data.organisation ? " (" + data.organisation + ")" : "") : "";
    item.appendChild(document.createTextNode(" — " + statusLabel(data.to, data.status_label) + who));
    if (data.comment) {
      item.appendChild(document.createElement("br"));
      var quote = document.createElement("span");
      quote.className = "quote";
      quote.textContent = data.comment;
      item.appendChild(quote);
    }
    list.appendChild(item);
  }

  function handleEvent(event) {
    if (typeof event.id === "number") {
      if (event.id <= lastId) return;
      lastId = event.id;
    }
    var data = event.data || {};
    if (event.type === "referral.created") {
      if (mode === "inbox") addInboxRow(event);
    } else if (event.type === "referral.status_changed") {
      updateStatus(event.referral, data.to, data.status_label, data.assigned_to);
      if (mode === "referral") {
        addHistory(event);
        setState((strings.statusChanged || "") + " " + statusLabel(data.to, data.status_label));
      }
    } else if (event.type === "referral.viewed") {
      markViewed(event.referral, data.viewed_at);
    } else if (event.type === "note.created") {
      if (mode === "referral" && event.referral === body.dataset.pageReferral) {
        addNote(data);
        if (data.author) say((strings.newNote || "") + " " + data.author);
      }
    }
  }

  function countNotification() {
    if (!counter) return;
    var value = (parseInt(counter.dataset.unreadCount, 10) || 0) + 1;
    var cap = parseInt(counter.dataset.unreadCap, 10) || 99;
    counter.dataset.unreadCount = String(value);
    counter.textContent = value > cap ? cap + "+" : String(value);
  }

  function socketUrl() {
    var base = (location.protocol === "https:" ? "wss://" : "ws://") + location.host;
    if (!mode) return base + "/ws/inbox/?notifications=only";
    return base + body.dataset.wsPath + "?after=" + lastId + (counter ? "&notifications=1" : "");
  }

  function handleAck(message) {
    var pending = pendingNotes[message.client_id];
    if (pending) {
      clearTimeout(pending.timer);
      delete pendingNotes[message.client_id];
    }
    addNote(message.note);
    var form = document.getElementById("note-form");
    if (form && pending) {
      form.querySelector("textarea").value = "";
      form.querySelector('input[name="client_id"]').value = newUuid();
      var button = form.querySelector('button[type="submit"]');
      if (button) button.disabled = false;
    }
  }

  function handleError(message) {
    var box = document.getElementById("note-error");
    var pending = message.client_id && pendingNotes[message.client_id];
    if (pending) {
      clearTimeout(pending.timer);
      delete pendingNotes[message.client_id];
    }
    var form = document.getElementById("note-form");
    if (form) { var button = form.querySelector('button[type="submit"]'); if (button) button.disabled = false; }
    if (box) {
      box.hidden = false;
      box.textContent = (strings.noteError || "") + " " + (message.detail || message.message || "");
    }
  }

  function connect() {
    socket = new WebSocket(socketUrl());
    socket.addEventListener("open", function () {
      retryDelay = 1000;
      body.dataset.liveConnected = "true";
      setState(strings.liveOn || "");
    });
    socket.addEventListener("message", function (raw) {
      var message;
      try { message = JSON.parse(raw.data); } catch (error) { return; }
      // A notification carries the id of the event it tells of, but is no event of the stream:
      // it never moves lastId (the replay's starting point).
      if (message.type === "notification.created") countNotification();
      else if (message.type === "ack") handleAck(message);
      else if (message.type === "error") handleError(message);
      else if (message.referral) handleEvent(message);
    });
    socket.addEventListener("close", function (closing) {
      body.dataset.liveConnected = "false";
      socket = null;
      // 4401 / 4403: logged out or no longer allowed; the page itself will say so on reload.
      if (closing.code === 4401 || closing.code === 4403) { setState(""); return; }
      setState(strings.liveOff || "");
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  var noteForm = document.getElementById("note-form");
  if (noteForm) {
    noteForm.addEventListener("submit", function (submitEvent) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return; // the plain form posts
      var text = noteForm.querySelector("textarea").value.trim();
      if (!text) return; // the server explains what is missing
      submitEvent.preventDefault();
      var clientInput = noteForm.querySelector('input[name="client_id"]');
      if (!clientInput.value) clientInput.value = newUuid();
      var checked = noteForm.querySelector('input[name="visibility"]:checked');
      var clientId = clientInput.value;
      var box = document.getElementById("note-error");
      if (box) box.hidden = true;
      var button = noteForm.querySelector('button[type="submit"]');
      if (button) button.disabled = true;
      // No answer in time: post the plain form; the same client_id never makes two notes.
      pendingNotes[clientId] = { timer: setTimeout(function () { noteForm.submit(); }, 8000) };
      socket.send(JSON.stringify({
        type: "note.create",
        client_id: clientId,
        body: text,
        visibility: checked ? checked.value : "shared"
      }));
    });
  }

  connect();
})();
