// relbot sandbox page: draws the state the sandbox renders (HTML fragments escaped on the
// server), and turns what a person does into requests: a /release command, a click on a
// control (by its action_id on the message it was drawn from), a modal submitted or closed,
// App Home opened. Server-sent events say when to draw again. No framework, nothing fetched
// from elsewhere.
"use strict";

const $ = (id) => document.getElementById(id);
const page = {
  user: localStorage.getItem("relbot.sandbox.user") || "UALEX",
  view: "channel",
  state: null,
  modalKey: "",
  fetching: false,
  again: false,
};

function post(path, body) {
  return fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(Object.assign({ user: page.user }, body)),
  }).then(async (res) => {
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) {
      notice(answer.error || "The sandbox could not do that (" + res.status + ").", true);
    }
    return res.ok;
  });
}

function notice(text, bad) {
  const n = $("notice");
  n.textContent = text || "";
  n.className = bad ? "bad" : "";
}

// --- drawing ---------------------------------------------------------------------------------

function draw() {
  const s = page.state;
  if (!s || s.user !== page.user) {
    return; // another person's state (the switcher just changed): theirs is on its way
  }
  const me = s.cast.find((p) => p.id === page.user) || s.cast[0];
  const picker = $("user");
  if (picker.options.length !== s.cast.length) {
    picker.textContent = "";
    for (const p of s.cast) {
      const o = document.createElement("option");
      o.value = p.id;
      o.textContent = "@" + p.name + " — " + p.real_name;
      picker.appendChild(o);
    }
  }
  picker.value = page.user;
  $("part").textContent = me.part;
  $("connection").textContent = s.connected ? "relbot is connected" : "relbot is connecting…";
  $("connection").className = "connection " + (s.connected ? "up" : "down");
  $("dm-count").textContent = s.dm.count ? String(s.dm.count) : "";
  for (const b of document.querySelectorAll("#nav .nav")) {
    b.classList.toggle("active", b.dataset.view === page.view);
  }
  const titles = {
    channel: "# " + s.channel.name,
    dm: "relbot — direct messages with @" + me.name,
    home: "relbot — Home of @" + me.name,
  };
  $("title").textContent = titles[page.view];
  drawMessages(s);
  drawUpcoming(s);
  drawModal(s);
  $("composer").hidden = page.view === "home";
  $("messages").dataset.user = s.user; // whose view is drawn (the browser test waits on it)
  $("messages").dataset.view = page.view;
}

function drawMessages(s) {
  const box = $("messages");
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  let html = page.view === "channel" ? s.channel.html : page.view === "dm" ? s.dm.html : s.home.html;
  if (!html) {
    html =
      page.view === "home"
        ? '<p class="empty">relbot has not published your Home tab yet.</p>'
        : '<p class="empty">No messages yet. Try <code>/release start v1.0</code>.</p>';
  }
  if (html === page.drawn) {
    return; // unchanged: nothing is replaced under the person's pointer
  }
  page.drawn = html;
  // A menu that was open stays open across a redraw.
  const open = [...box.querySelectorAll(".menu")].findIndex((m) => !m.hidden);
  box.innerHTML = html; // rendered and escaped by the sandbox (block_html.cpp)
  const menus = box.querySelectorAll(".menu");
  if (open >= 0 && open < menus.length) {
    menus[open].hidden = false;
  }
  if (nearBottom || page.scrollDown) {
    box.scrollTop = box.scrollHeight;
    page.scrollDown = false;
  }
}

function drawUpcoming(s) {
  const list = $("upcoming-list");
  list.textContent = "";
  if (!s.upcoming.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = "Nothing scheduled yet.";
    list.appendChild(li);
  }
  for (const u of s.upcoming) {
    const li = document.createElement("li");
    const when = document.createElement("div");
    when.className = "when";
    when.textContent = relative(u.at);
    const what = document.createElement("div");
    what.innerHTML = u.html; // escaped by the sandbox
    li.append(when, what);
    list.appendChild(li);
  }
}

function relative(at) {
  const seconds = Math.round(at - Date.now() / 1000);
  const time = new Date(at * 1000).toISOString().slice(11, 16) + " UTC";
  if (seconds < 90) {
    return "in " + Math.max(seconds, 0) + " s · " + time;
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) {
    return "in " + minutes + " min · " + time;
  }
  const hours = Math.round(minutes / 60);
  return "in " + hours + " h · " + new Date(at * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

// A modal is drawn again only when relbot changed it (or answered with errors): what the
// person typed is kept across the redraw.
function drawModal(s) {
  const layer = $("modal-layer");
  if (!s.modal) {
    layer.hidden = true;
    page.modalKey = "";
    $("modal").textContent = ""; // nothing typed in a closed modal reaches the next one
    return;
  }
  if (s.modal.key !== page.modalKey) {
    // What the person typed is kept only when relbot redraws the same modal (errors, update).
    const sameView = page.modalKey.split("/")[0] === s.modal.key.split("/")[0];
    const kept = sameView ? modalValues() : {};
    $("modal").innerHTML = s.modal.html; // rendered and escaped by the sandbox
    for (const [name, value] of Object.entries(kept)) {
      const field = $("modal").querySelector('[name="' + CSS.escape(name) + '"]');
      if (field && value !== "") {
        field.value = value;
      }
    }
    const first = $("modal").querySelector("input, textarea, select");
    if (first && page.modalKey === "") {
      first.focus();
    }
    page.modalKey = s.modal.key;
  }
  layer.hidden = false;
}

function modalValues() {
  const out = {};
  for (const field of $("modal").querySelectorAll("[name]")) {
    out[field.name] = field.value;
  }
  return out;
}

// --- state -----------------------------------------------------------------------------------

async function refresh() {
  if (page.fetching) {
    page.again = true;
    return;
  }
  page.fetching = true;
  try {
    const res = await fetch("/api/state?user=" + encodeURIComponent(page.user), { cache: "no-store" });
    if (res.ok) {
      page.state = await res.json();
      draw();
    } else if (res.status === 400 && page.user !== "UALEX") {
      // A saved person the sandbox no longer has: back to the release manager.
      localStorage.removeItem("relbot.sandbox.user");
      page.user = "UALEX";
      page.again = true;
    }
  } catch (e) {
    $("connection").textContent = "the sandbox is not answering";
    $("connection").className = "connection down";
  } finally {
    page.fetching = false;
    if (page.again) {
      page.again = false;
      refresh();
    }
  }
}

function listen() {
  const events = new EventSource("/api/events");
  events.onmessage = () => refresh();
  events.onerror = () => {
    $("connection").textContent = "reconnecting to the sandbox…";
    $("connection").className = "connection down";
  };
}

// --- actions ---------------------------------------------------------------------------------

function show(view) {
  page.view = view;
  page.scrollDown = true;
  notice("");
  if (view === "home") {
    post("/api/home", {}); // Slack sends app_home_opened each time the tab is opened
  }
  draw();
}

function clickControl(el, optionValue) {
  const send = () =>
    post("/api/click", {
      in: el.dataset.surface,
      ts: el.dataset.ts || "",
      block_id: el.dataset.blockId || "",
      action_id: el.dataset.actionId,
      option_value: optionValue || "",
    }).then((ok) => ok && notice(""));
  if (el.dataset.confirm) {
    ask(JSON.parse(el.dataset.confirm), send);
  } else {
    send();
  }
}

function textOf(t) {
  return t && typeof t === "object" ? t.text || "" : t || "";
}

function ask(confirm, then) {
  $("confirm-title").textContent = textOf(confirm.title) || "Are you sure?";
  $("confirm-text").textContent = textOf(confirm.text);
  $("confirm-yes").textContent = textOf(confirm.confirm) || "Confirm";
  $("confirm-no").textContent = textOf(confirm.deny) || "Cancel";
  $("confirm-layer").hidden = false;
  $("confirm-yes").onclick = () => {
    $("confirm-layer").hidden = true;
    then();
  };
  $("confirm-no").onclick = () => {
    $("confirm-layer").hidden = true;
  };
}

function closeMenus(except) {
  for (const m of document.querySelectorAll(".menu")) {
    if (m !== except) {
      m.hidden = true;
    }
  }
}

document.addEventListener("click", (event) => {
  const el = event.target.closest("button.control");
  if (!el || el.closest("#confirm")) {
    if (!event.target.closest(".menu")) {
      closeMenus(null);
    }
    return;
  }
  if (el.closest("#modal") && (el.classList.contains("modal-submit") || el.classList.contains("modal-close"))) {
    return; // the modal's own buttons, below
  }
  event.preventDefault();
  if (el.classList.contains("option")) {
    closeMenus(null);
    clickControl(el, el.dataset.optionValue);
    return;
  }
  if (el.dataset.type === "overflow") {
    const menu = el.nextElementSibling;
    if (menu && menu.classList.contains("menu")) {
      closeMenus(menu);
      menu.hidden = !menu.hidden;
    }
    return;
  }
  clickControl(el, "");
});

document.addEventListener("change", (event) => {
  const el = event.target;
  if (el.matches("select.control") && !el.closest("#modal") && el.value) {
    clickControl(el, el.value);
    el.selectedIndex = 0; // back to the placeholder: the same choice can be made again
  }
});

// The modal: Submit sends every field by its block id (empty ones left out); Cancel closes.
function submitModal() {
  const button = $("modal").querySelector(".modal-submit");
  if (button && button.disabled) {
    return; // already sent: one view_submission per press
  }
  const values = {};
  for (const field of $("modal").querySelectorAll("[name]")) {
    let value = field.value;
    if (field.type === "datetime-local" && value) {
      value = String(Math.round(Date.parse(value + ":00Z") / 1000)); // the page shows UTC
    }
    // Text goes as typed (relbot answers an empty or blank reason next to the field); a
    // select or date-time left empty is not chosen.
    if (value !== "" || field.tagName === "TEXTAREA" || field.type === "text") {
      values[field.name] = value;
    }
  }
  if (button) {
    button.disabled = true;
  }
  post("/api/submit", { values }).finally(() => {
    if (button) {
      button.disabled = false;
    }
  });
}

$("modal").addEventListener("click", (event) => {
  const el = event.target.closest("button");
  if (!el) {
    return;
  }
  if (el.classList.contains("modal-submit")) {
    event.preventDefault();
    submitModal();
  } else if (el.classList.contains("modal-close")) {
    event.preventDefault();
    post("/api/close", {});
  }
});

$("modal").addEventListener("submit", (event) => {
  event.preventDefault();
  submitModal();
});

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("box").value.trim();
  if (!text) {
    return;
  }
  const m = /^\/release(\s+|$)(.*)$/s.exec(text);
  if (!m) {
    notice("relbot answers /release commands here: try /release help.", true);
    return;
  }
  notice("Sent: " + text);
  page.scrollDown = true;
  post("/api/command", { text: m[2] }).then((ok) => {
    if (ok) {
      $("box").value = "";
    }
  });
});

$("user").addEventListener("change", () => {
  page.user = $("user").value;
  localStorage.setItem("relbot.sandbox.user", page.user);
  page.modalKey = "";
  page.drawn = "";
  $("modal").textContent = "";
  $("messages").textContent = ""; // nothing of the previous person's stays clickable
  show(page.view);
  refresh();
});

for (const b of document.querySelectorAll("#nav .nav")) {
  b.addEventListener("click", () => show(b.dataset.view));
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    closeMenus(null);
    $("confirm-layer").hidden = true;
  }
});

setInterval(() => page.state && drawUpcoming(page.state), 30000);
listen();
refresh();
