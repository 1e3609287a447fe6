/* MoodLens local chat page.
 *
 * Acts as one Telegram user through the sandbox control API (same origin only) and shows what the real bot
 * does, live from the event feed: the websocket /sandbox/ws, or long-polling /sandbox/events if the socket fails.
 * Message text is only ever put into the page with textContent / text nodes, never parsed into live HTML.
 */
"use strict";

(() => {
  const STORAGE_KEY = "moodlens.sandbox.who";
  const JSON_HEADERS = { "Content-Type": "application/json" };
  const ID_PATTERN = /^[0-9]{1,15}$/;
  const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/g;
  const TYPING_MS = 5000;
  // The browser's language stands in for the Telegram app's: the bot answers in it when it speaks it.
  const myLanguage = navigator.language || "en";
  const CHAT_ACTIONS = {
    typing: "typing",
    upload_photo: "sending a photo",
    upload_document: "sending a file",
    upload_video: "sending a video",
    record_video: "recording a video",
    record_voice: "recording a voice message",
    upload_voice: "sending a voice message",
    choose_sticker: "choosing a sticker",
    find_location: "finding a location",
    record_video_note: "recording a video message",
    upload_video_note: "sending a video message",
  };
  // Telegram HTML tags rebuilt as DOM elements (anything else keeps only its text).
  const SAFE_TAGS = {
    b: "b", strong: "strong", i: "i", em: "em", u: "u", ins: "ins", s: "s", strike: "s", del: "del",
    code: "code", pre: "pre", blockquote: "blockquote", a: "a", "tg-spoiler": "span", span: "span",
  };

  const $ = (id) => document.getElementById(id);
  const ui = {
    botName: $("bot-name"), botAvatar: $("bot-avatar"), status: $("peer-status"),
    whoForm: $("who-form"), whoName: $("who-name"), whoId: $("who-id"), whoRandom: $("who-random"),
    chat: $("chat"), scroll: $("chat-scroll"), log: $("log"), empty: $("empty"), startButton: $("start-button"),
    drop: $("drop-overlay"), typing: $("typing"), typingText: $("typing-text"),
    menu: $("command-menu"), menuButton: $("menu-button"),
    composer: $("composer"), input: $("composer-input"), fileInput: $("file-input"),
    cameraButton: $("camera-button"), cameraDialog: $("camera-dialog"), cameraVideo: $("camera-video"),
    cameraNote: $("camera-note"), cameraShoot: $("camera-shoot"), cameraCancel: $("camera-cancel"),
    toast: $("toast"), error: $("error"), alertDialog: $("alert-dialog"), alertText: $("alert-text"),
  };

  let config = { bot: { first_name: "Bot" }, max_upload_bytes: 0 };
  let me = { id: 0, name: "" };
  let session = 0;
  let lastSeq = 0;
  let feed = null;
  let loaded = false;
  let stickToBottom = true;
  let commands = [];
  let typingTimer = 0;
  let toastTimer = 0;
  let errorTimer = 0;
  let cameraStream = null;
  const messages = new Map(); // message_id -> {key, li}
  const busyButtons = new Map(); // callback_query_id -> button
  const answeredQueries = new Set();

  // -- small helpers ------------------------------------------------------------------------------------------

  function el(tag, attrs = {}, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Whether ``value`` is an absolute http(s) URL (links and url buttons; nothing else is made clickable). */
  function isWebUrl(value) {
    try {
      const url = new URL(String(value));
      return url.protocol === "http:" || url.protocol === "https:";
    } catch (_) {
      return false;
    }
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const botName = () => config.bot.first_name || "Bot";

  function formatSize(bytes) {
    if (!Number.isFinite(bytes) || bytes <= 0) return "";
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1).replace(/\.0$/, "")} MB`;
  }

  function formatTime(unixSeconds) {
    const date = new Date(unixSeconds * 1000);
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  class ApiFailure extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function tooLargeMessage(detail) {
    const stated = /larger than (\d+) bytes/.exec(detail || "");
    const limit = formatSize(stated ? Number(stated[1]) : config.max_upload_bytes);
    return `That file is too large for the sandbox${limit ? ` (the limit is ${limit})` : ""}.`;
  }

  /** fetch() on this origin; resolves to the JSON body or throws ApiFailure with a readable message. */
  async function api(path, options = {}) {
    let response;
    try {
      response = await fetch(path, { credentials: "same-origin", cache: "no-store", ...options });
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      throw new ApiFailure(0, "The sandbox server cannot be reached. Is it still running?");
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (response.status === 413) throw new ApiFailure(413, tooLargeMessage(body && (body.error || body.description)));
    if (!response.ok || !body || body.ok === false) {
      const detail = body && (body.error || body.description);
      throw new ApiFailure(response.status, detail ? `The sandbox said: ${detail}` : `The sandbox answered HTTP ${response.status}.`);
    }
    return body;
  }

  function postJson(path, payload) {
    return api(path, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(payload) });
  }

  // -- toasts, errors, typing -------------------------------------------------------------------------------

  function showToast(text, ms = 2600) {
    clearTimeout(toastTimer);
    ui.toast.textContent = text;
    ui.toast.hidden = false;
    toastTimer = setTimeout(() => { ui.toast.hidden = true; }, ms + Math.min(text.length * 30, 4000));
  }

  function showError(text) {
    clearTimeout(errorTimer);
    ui.error.textContent = text;
    ui.error.hidden = false;
    errorTimer = setTimeout(() => { ui.error.hidden = true; }, 6000);
  }

  function setFeedState(state) {
    document.body.dataset.feed = state;
    if (!ui.typing.classList.contains("active")) renderStatus();
  }

  function renderStatus() {
    const state = document.body.dataset.feed;
    ui.status.textContent = state === "ws" || state === "poll" ? "bot" : state === "off" ? "reconnecting…" : "connecting…";
    ui.status.title = state === "poll" ? "live updates by long polling" : state === "ws" ? "live updates by websocket" : "";
  }

  function showTyping(action, ms = TYPING_MS) {
    const words = CHAT_ACTIONS[action] || String(action || "typing").replace(/_/g, " ");
    ui.typingText.textContent = `${botName()} is ${words}`;
    ui.typing.classList.add("active");
    ui.status.textContent = `${words}…`;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, Math.max(ms, 0));
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    ui.typing.classList.remove("active");
    ui.typingText.textContent = "";
    renderStatus();
  }

  // -- who am I (per tab) -----------------------------------------------------------------------------------

  function randomId() {
    const buf = new Uint32Array(1);
    crypto.getRandomValues(buf);
    return 100000000 + (buf[0] % 900000000);
  }

  function parseId(value) {
    const text = String(value ?? "").trim();
    if (!ID_PATTERN.test(text)) return null;
    const id = Number(text);
    return id > 0 && Number.isSafeInteger(id) ? id : null;
  }

  function defaultName(id) {
    return `Guest ${String(id).slice(-4)}`;
  }

  function loadIdentity() {
    const query = new URLSearchParams(location.search);
    let stored = null;
    try {
      stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "null");
    } catch (_) {
      stored = null;
    }
    const id = parseId(query.get("user_id")) ?? parseId(stored && stored.id) ?? randomId();
    const name = (query.get("name") || (stored && stored.id === id && stored.name) || defaultName(id)).trim().slice(0, 64);
    return { id, name: name || defaultName(id) };
  }

  function saveIdentity() {
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(me));
    } catch (_) {
      /* private mode: the identity just lasts for this page */
    }
    ui.whoName.value = me.name;
    ui.whoId.value = String(me.id);
  }

  function onWhoSubmit(event) {
    event.preventDefault();
    const id = parseId(ui.whoId.value);
    const name = ui.whoName.value.trim().slice(0, 64);
    if (id === null) {
      showError("The user id must be a positive whole number (up to 15 digits).");
      ui.whoId.focus();
      return;
    }
    if (!name) {
      showError("Please enter a name.");
      ui.whoName.focus();
      return;
    }
    const switching = id !== me.id;
    me = { id, name };
    saveIdentity();
    if (switching) {
      showToast(`You are now ${name} (id ${id}).`);
      restart();
    } else {
      showToast(`Your name is now ${name}.`);
    }
  }

  function onWhoRandom() {
    const id = randomId();
    me = { id, name: defaultName(id) };
    saveIdentity();
    showToast(`You are now ${me.name} (id ${id}).`);
    restart();
  }

  // -- rendering messages -----------------------------------------------------------------------------------

  function appendLinkified(into, text) {
    let last = 0;
    for (const match of text.matchAll(URL_PATTERN)) {
      let url = match[0];
      const trail = url.match(/[.,;:!?)\]]+$/);
      if (trail) url = url.slice(0, -trail[0].length);
      if (match.index > last) into.append(document.createTextNode(text.slice(last, match.index)));
      into.append(el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url));
      last = match.index + url.length;
    }
    if (last < text.length) into.append(document.createTextNode(text.slice(last)));
  }

  /** Rebuild Telegram HTML as DOM nodes from a whitelist (the parsed document is inert and never inserted). */
  function copySafe(from, into, inLink) {
    for (const child of from.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        if (inLink) into.append(document.createTextNode(child.data));
        else appendLinkified(into, child.data);
        continue;
      }
      if (child.nodeType !== Node.ELEMENT_NODE) continue;
      const tag = child.localName;
      const spoiler = tag === "tg-spoiler" || (tag === "span" && child.classList.contains("tg-spoiler"));
      if (!SAFE_TAGS[tag] || (tag === "span" && !spoiler)) {
        copySafe(child, into, inLink);
        continue;
      }
      if (tag === "a") {
        const href = child.getAttribute("href") || "";
        if (inLink || !isWebUrl(href)) {
          copySafe(child, into, inLink);
          continue;
        }
        const link = el("a", { href, target: "_blank", rel: "noopener noreferrer" });
        copySafe(child, link, true);
        into.append(link);
        continue;
      }
      const out = document.createElement(SAFE_TAGS[tag]);
      if (spoiler) {
        out.className = "spoiler";
        out.tabIndex = 0;
        out.setAttribute("role", "button");
        out.setAttribute("aria-label", "hidden text, press to reveal");
        const reveal = () => { out.classList.add("revealed"); out.removeAttribute("aria-label"); };
        out.addEventListener("click", reveal);
        out.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") reveal(); });
      }
      copySafe(child, out, inLink);
      into.append(out);
    }
  }

  function renderText(view) {
    const plain = (view.kind === "text" ? view.text : view.caption) || "";
    const box = el("div", { class: "msg-text" });
    if (String(view.parse_mode || "").toUpperCase() === "HTML" && view.source_text) {
      try {
        // DOMParser gives an inert document (no scripts run, nothing loads); only whitelisted nodes and their
        // text are copied out of it, and only if the result reads exactly like the sandbox's plain text.
        const doc = new DOMParser().parseFromString(view.source_text, "text/html");
        const rebuilt = document.createDocumentFragment();
        copySafe(doc.body, rebuilt, false);
        if (rebuilt.textContent === plain) {
          box.append(rebuilt);
          return box;
        }
      } catch (_) {
        /* fall back to the plain text below */
      }
    }
    appendLinkified(box, plain);
    return box;
  }

  function renderFile(view, bubble) {
    const file = view.file;
    // The sandbox serves every stored file under /sandbox/files/; anything else is a URL the bot sent (never loaded).
    const sameOrigin = typeof file.url === "string" && file.url.startsWith("/sandbox/files/");
    const isImage = (view.kind === "photo" || view.kind === "sticker") && /^image\//.test(file.mime_type || "");
    if (isImage && sameOrigin) {
      const who = view.sender === "user" ? "Photo you sent" : `Photo from ${botName()}`;
      const alt = view.caption ? `${who}: ${view.caption}` : who;
      const link = el("a", { class: "photo", href: file.url, target: "_blank", rel: "noopener", title: "Open full size" });
      const img = el("img", { src: file.url, alt, decoding: "async", width: file.width, height: file.height });
      img.addEventListener("load", () => { if (stickToBottom) scrollToBottom(); });
      link.append(img);
      bubble.append(link);
      return true;
    }
    if (!sameOrigin && !isWebUrl(file.url)) {
      bubble.append(el("div", { class: "msg-text deleted-note" }, `(${view.kind})`));
      return false;
    }
    const name = file.file_name || (sameOrigin ? `${view.kind}` : file.url);
    const attrs = sameOrigin
      ? { class: "doc", href: file.url, download: file.file_name || "" }
      : { class: "doc", href: file.url, target: "_blank", rel: "noopener noreferrer" };
    const link = el("a", attrs);
    link.append(el("span", { class: "doc-icon", "aria-hidden": "true" }, view.kind === "photo" ? "🖼" : "📄"));
    const info = el("span", { class: "doc-info" });
    info.append(el("span", { class: "doc-name" }, name));
    const size = formatSize(file.size);
    info.append(el("span", { class: "doc-size" }, sameOrigin ? `${size}${size ? " · " : ""}download` : "external link"));
    link.append(info);
    bubble.append(link);
    return false;
  }

  function renderKeyboard(view) {
    const keyboard = el("div", { class: "keyboard", role: "group", "aria-label": "Message buttons" });
    for (const row of view.buttons) {
      const line = el("div", { class: "kb-row" });
      for (const button of row) {
        const label = String(button.text || "");
        let node;
        if (typeof button.url === "string" && isWebUrl(button.url)) {
          node = el("a", {
            class: "kb-btn", href: button.url, target: "_blank", rel: "noopener noreferrer",
            "aria-label": `${label} (opens in a new tab)`,
          }, label);
          node.append(el("span", { class: "ext", "aria-hidden": "true" }, "↗"));
        } else if (typeof button.callback_data === "string") {
          node = el("button", { type: "button", class: "kb-btn" }, label);
          node.dataset.callbackData = button.callback_data;
          node.addEventListener("click", () => pressButton(view.message_id, button.callback_data, node));
        } else {
          node = el("button", { type: "button", class: "kb-btn", disabled: true, title: "Not supported in the sandbox page" }, label);
        }
        line.append(node);
      }
      keyboard.append(line);
    }
    return keyboard;
  }

  function renderQuote(original) {
    const quote = el("div", { class: "reply" });
    quote.append(el("span", { class: "reply-name" }, original.sender === "user" ? (original.from?.first_name || "You") : botName()));
    const text = (original.kind === "text" ? original.text : original.caption) || "";
    const summary = original.kind === "text" ? text : `${original.kind === "photo" ? "Photo" : "File"}${text ? `: ${text}` : ""}`;
    quote.append(el("span", { class: "reply-text" }, summary.length > 90 ? `${summary.slice(0, 89)}…` : summary));
    return quote;
  }

  function renderMessage(view) {
    const sender = view.sender === "user" ? "user" : "bot";
    const li = el("li", { class: `msg ${sender}` });
    li.dataset.messageId = String(view.message_id);
    li.dataset.sender = sender;
    const bubble = el("div", { class: "bubble" });
    bubble.append(el("span", { class: "visually-hidden" }, sender === "user" ? "You: " : `${botName()}: `));
    const quoted = view.reply_to_message_id ? messages.get(view.reply_to_message_id) : null;
    if (quoted) bubble.append(renderQuote(quoted.view));
    const photo = view.file ? renderFile(view, bubble) : false;
    const text = view.kind === "text" ? view.text : view.caption;
    if (text) bubble.append(renderText(view));
    else if (!view.file) bubble.append(el("div", { class: "msg-text deleted-note" }, `(${view.kind})`));
    if (photo && !text) bubble.classList.add("only-photo");
    const meta = el("span", { class: "meta" });
    if (view.edited) meta.append(el("span", { class: "edited" }, "edited "));
    meta.append(el("time", { datetime: new Date(view.date * 1000).toISOString() }, formatTime(view.date)));
    (bubble.querySelector(".msg-text") || bubble).append(meta);
    li.append(bubble);
    if (Array.isArray(view.buttons) && view.buttons.length) li.append(renderKeyboard(view));
    return li;
  }

  function isNearBottom() {
    const s = ui.scroll;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 120;
  }

  function scrollToBottom() {
    ui.scroll.scrollTop = ui.scroll.scrollHeight;
    stickToBottom = true;
  }

  function updateEmpty() {
    ui.empty.hidden = !loaded || messages.size > 0;
  }

  /** Add, replace (edited) or remove (deleted) one message, keeping message_id order. */
  function upsert(view) {
    if (!view || typeof view.message_id !== "number" || view.chat_id !== me.id) return;
    const id = view.message_id;
    const existing = messages.get(id);
    if (view.deleted) {
      if (existing) {
        existing.li.remove();
        messages.delete(id);
      }
      updateEmpty();
      return;
    }
    const key = JSON.stringify(view);
    if (existing && existing.key === key) return;
    const follow = stickToBottom || isNearBottom() || view.sender === "user";
    const li = renderMessage(view);
    if (existing) {
      const focused = existing.li.contains(document.activeElement) ? document.activeElement : null;
      const focusIndex = focused ? [...existing.li.querySelectorAll(".kb-btn")].indexOf(focused) : -1;
      existing.li.replaceWith(li);
      if (focused) {
        const buttons = li.querySelectorAll(".kb-btn");
        (buttons[Math.min(focusIndex, buttons.length - 1)] || ui.input).focus({ preventScroll: true });
      }
    } else {
      let before = null;
      for (const [otherId, other] of messages) {
        if (otherId > id && (!before || otherId < Number(before.dataset.messageId))) before = other.li;
      }
      ui.log.insertBefore(li, before);
    }
    messages.set(id, { key, li, view });
    if (view.sender === "bot" && !existing) hideTyping();
    updateEmpty();
    if (follow) scrollToBottom();
  }

  function clearLog() {
    messages.clear();
    busyButtons.clear();
    answeredQueries.clear();
    ui.log.replaceChildren();
    loaded = false;
    updateEmpty();
  }

  // -- acting as the user -----------------------------------------------------------------------------------

  function who() {
    return { user_id: me.id, first_name: me.name, language_code: myLanguage };
  }

  async function sendText(raw) {
    const text = raw.replace(/\s+$/, "");
    if (!text.trim()) return false;
    try {
      const body = await postJson("/sandbox/send_message", { ...who(), text });
      upsert(body.message);
      scrollToBottom();
      return true;
    } catch (err) {
      showError(err.message);
      return false;
    }
  }

  async function sendFile(file) {
    if (!file) return;
    const isPhoto = /^image\/(jpeg|png|gif|webp)$/.test(file.type);
    if (config.max_upload_bytes && file.size > config.max_upload_bytes) {
      showError(tooLargeMessage());
      return;
    }
    const form = new FormData();
    form.append("user_id", String(me.id));
    form.append("first_name", me.name);
    form.append("language_code", myLanguage);
    form.append("file", file, file.name || (isPhoto ? "photo.jpg" : "file"));
    const kind = isPhoto ? "photo" : "document";
    ui.composer.setAttribute("aria-busy", "true");
    try {
      const body = await api(`/sandbox/send_${kind}`, { method: "POST", body: form });
      upsert(body.message);
      scrollToBottom();
    } catch (err) {
      showError(err.status === 0 && file.size > 1024 * 1024 ? tooLargeMessage() : err.message);
    } finally {
      ui.composer.removeAttribute("aria-busy");
    }
  }

  async function pressButton(messageId, data, button) {
    if (button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    try {
      const body = await postJson("/sandbox/press_button", { ...who(), message_id: messageId, callback_data: data });
      const queryId = body.callback_query.callback_query_id;
      if (body.callback_query.answered || answeredQueries.has(queryId)) {
        button.removeAttribute("aria-busy");
        return;
      }
      busyButtons.set(queryId, button);
      setTimeout(() => {
        if (busyButtons.get(queryId) === button) {
          busyButtons.delete(queryId);
          button.removeAttribute("aria-busy");
        }
      }, 15000);
    } catch (err) {
      button.removeAttribute("aria-busy");
      showError(err.message);
    }
  }

  function onCallbackAnswer(query) {
    if (!query || query.user_id !== me.id) return;
    answeredQueries.add(query.callback_query_id);
    const button = busyButtons.get(query.callback_query_id);
    if (button) {
      busyButtons.delete(query.callback_query_id);
      button.removeAttribute("aria-busy");
    }
    const answer = query.answer || {};
    if (!answer.text) return;
    if (answer.show_alert && typeof ui.alertDialog.showModal === "function") {
      ui.alertText.textContent = answer.text;
      if (!ui.alertDialog.open) ui.alertDialog.showModal();
    } else {
      showToast(answer.text);
    }
  }

  // -- the bot's command menu -------------------------------------------------------------------------------

  function pickCommands(lists) {
    const lang = myLanguage.split("-")[0].toLowerCase(); // menus are set per language code ("es"), not region
    let best = [];
    let bestScore = -1;
    for (const list of lists || []) {
      const scope = list.scope || {};
      let rank = 0;
      if (scope.type === "chat" && Number(scope.chat_id) === me.id) rank = 3;
      else if (scope.type === "all_private_chats") rank = 2;
      else if (scope.type === "default") rank = 1;
      if (!rank || (list.language_code && list.language_code !== lang)) continue;
      const score = rank * 2 + (list.language_code ? 1 : 0);
      if (score > bestScore) {
        bestScore = score;
        best = list.commands || [];
      }
    }
    return best;
  }

  async function loadCommands() {
    const s = session;
    try {
      const body = await api("/sandbox/commands");
      if (s !== session) return;
      commands = pickCommands(body.command_lists);
    } catch (_) {
      commands = [];
    }
    ui.menuButton.hidden = commands.length === 0;
    if (!commands.length) closeMenu(false);
  }

  function menuItems() {
    return [...ui.menu.querySelectorAll(".menu-item")];
  }

  function openMenu(filter = "", focusFirst = true) {
    const shown = commands.filter((c) => c.command.startsWith(filter));
    if (!shown.length) {
      closeMenu(false);
      return;
    }
    ui.menu.replaceChildren();
    for (const command of shown) {
      const item = el("button", { type: "button", class: "menu-item", role: "menuitem", tabindex: "-1" });
      item.append(el("span", { class: "menu-cmd" }, `/${command.command}`));
      item.append(el("span", { class: "menu-desc" }, command.description));
      item.addEventListener("click", async () => {
        closeMenu(false);
        ui.input.value = "";
        autoGrow();
        ui.input.focus();
        await sendText(`/${command.command}`);
      });
      ui.menu.append(item);
    }
    ui.menu.hidden = false;
    ui.menuButton.setAttribute("aria-expanded", "true");
    if (focusFirst) menuItems()[0].focus();
  }

  function closeMenu(refocus = true) {
    if (ui.menu.hidden) return;
    ui.menu.hidden = true;
    ui.menuButton.setAttribute("aria-expanded", "false");
    if (refocus) ui.menuButton.focus();
  }

  function onMenuKey(event) {
    const items = menuItems();
    const index = items.indexOf(document.activeElement);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      items[(index + step + items.length) % items.length].focus();
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      items[event.key === "Home" ? 0 : items.length - 1].focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      closeMenu(true);
    } else if (event.key === "Tab") {
      closeMenu(false);
    }
  }

  // -- composer ---------------------------------------------------------------------------------------------

  function autoGrow() {
    ui.input.style.height = "auto";
    ui.input.style.height = `${Math.min(ui.input.scrollHeight + 2, 160)}px`;
  }

  async function submitComposer(event) {
    if (event) event.preventDefault();
    const text = ui.input.value;
    if (!text.trim()) return;
    ui.input.value = "";
    autoGrow();
    closeMenu(false);
    const sent = await sendText(text);
    if (!sent && !ui.input.value) {
      ui.input.value = text;
      autoGrow();
    }
  }

  function onInputKey(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitComposer();
    } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && !ui.menu.hidden) {
      event.preventDefault();
      const items = menuItems();
      items[event.key === "ArrowDown" ? 0 : items.length - 1].focus();
    } else if (event.key === "Escape" && !ui.menu.hidden) {
      closeMenu(false);
    }
  }

  function onInputChange() {
    autoGrow();
    const match = /^\/(\w*)$/.exec(ui.input.value);
    if (match && commands.length) openMenu(match[1], false);
    else closeMenu(false);
  }

  function onPaste(event) {
    const files = event.clipboardData && event.clipboardData.files;
    if (files && files.length) {
      event.preventDefault();
      sendFile(files[0]);
    }
  }

  // -- drag and drop ----------------------------------------------------------------------------------------

  function setupDragAndDrop() {
    let depth = 0;
    const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes("Files");
    ui.chat.addEventListener("dragenter", (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth += 1;
      ui.drop.hidden = false;
    });
    ui.chat.addEventListener("dragover", (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
    });
    ui.chat.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (!depth) ui.drop.hidden = true;
    });
    ui.chat.addEventListener("drop", (e) => {
      e.preventDefault();
      depth = 0;
      ui.drop.hidden = true;
      const files = e.dataTransfer ? [...e.dataTransfer.files] : [];
      (async () => {
        for (const file of files.slice(0, 10)) await sendFile(file);
      })();
    });
    // A file dropped anywhere else must not make the browser navigate away from the chat.
    window.addEventListener("dragover", (e) => e.preventDefault());
    window.addEventListener("drop", (e) => e.preventDefault());
  }

  // -- webcam -----------------------------------------------------------------------------------------------

  async function setupCamera() {
    const media = navigator.mediaDevices;
    if (!window.isSecureContext || !media || typeof media.getUserMedia !== "function") return;
    if (typeof ui.cameraDialog.showModal !== "function") return;
    const refresh = async () => {
      try {
        const devices = typeof media.enumerateDevices === "function" ? await media.enumerateDevices() : [];
        ui.cameraButton.hidden = !devices.some((d) => d.kind === "videoinput");
      } catch (_) {
        ui.cameraButton.hidden = true;
      }
    };
    await refresh();
    if (typeof media.addEventListener === "function") media.addEventListener("devicechange", refresh);
  }

  function stopCamera() {
    if (cameraStream) {
      for (const track of cameraStream.getTracks()) track.stop();
      cameraStream = null;
    }
    ui.cameraVideo.srcObject = null;
  }

  async function openCamera() {
    ui.cameraNote.textContent = "Asking for the camera…";
    ui.cameraShoot.disabled = true;
    ui.cameraDialog.showModal();
    try {
      cameraStream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: false,
      });
      if (!ui.cameraDialog.open) {
        stopCamera();
        return;
      }
      ui.cameraVideo.srcObject = cameraStream;
      if (!ui.cameraVideo.videoWidth) {
        await new Promise((resolve) => {
          ui.cameraVideo.addEventListener("loadeddata", resolve, { once: true });
          setTimeout(resolve, 5000);
        });
      }
      if (!ui.cameraDialog.open) return;
      ui.cameraNote.textContent = "Look at the camera, then press “Send photo”.";
      ui.cameraShoot.disabled = false;
      ui.cameraShoot.focus();
    } catch (err) {
      ui.cameraNote.textContent = `The camera is not available (${err && err.name ? err.name : "error"}).`;
      if (err && err.name === "NotFoundError") ui.cameraButton.hidden = true;
    }
  }

  async function shootCamera() {
    const video = ui.cameraVideo;
    if (!cameraStream || !video.videoWidth) {
      ui.cameraNote.textContent = "The camera is not ready yet.";
      return;
    }
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
    ui.cameraDialog.close();
    if (!blob) {
      showError("Could not take the picture.");
      return;
    }
    await sendFile(new File([blob], "selfie.jpg", { type: "image/jpeg" }));
  }

  // -- the live feed: websocket, or long polling if the socket fails --------------------------------------------

  function handleEvent(event) {
    if (!event || typeof event !== "object") return;
    if (typeof event.seq === "number") lastSeq = Math.max(lastSeq, event.seq);
    if (event.chat_id !== null && event.chat_id !== undefined && event.chat_id !== me.id) return;
    switch (event.type) {
      case "message":
      case "edited":
      case "deleted":
        upsert(event.message);
        break;
      case "chat_action":
        showTyping(event.action, TYPING_MS - Math.max(0, Date.now() - event.at * 1000));
        break;
      case "callback_answer":
        onCallbackAnswer(event.callback_query);
        break;
      case "commands":
        loadCommands();
        break;
      case "reset":
        clearLog();
        loaded = true;
        updateEmpty();
        hideTyping();
        loadCommands();
        break;
      default:
        break;
    }
  }

  function startFeed(mySession) {
    let stopped = false;
    let socket = null;
    let poller = null;
    let socketFailures = 0;
    const active = () => !stopped && mySession === session;

    function connectSocket() {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      let opened = false;
      try {
        socket = new WebSocket(`${scheme}//${location.host}/sandbox/ws?after=${lastSeq}`);
      } catch (_) {
        poll();
        return;
      }
      socket.addEventListener("open", () => {
        opened = true;
        socketFailures = 0;
        if (active()) setFeedState("ws");
      });
      socket.addEventListener("message", (e) => {
        if (!active()) return;
        try {
          handleEvent(JSON.parse(e.data));
        } catch (err) {
          console.warn("bad event", err);
        }
      });
      socket.addEventListener("close", () => {
        socket = null;
        if (!active()) return;
        socketFailures += 1;
        if (!opened || socketFailures > 2) {
          poll();
        } else {
          setFeedState("off");
          setTimeout(() => { if (active()) connectSocket(); }, 1000 * socketFailures);
        }
      });
    }

    async function poll() {
      setFeedState("poll");
      let failures = 0;
      while (active()) {
        poller = new AbortController();
        try {
          const body = await api(`/sandbox/events?after=${lastSeq}&timeout=25&chat_id=${me.id}`, { signal: poller.signal });
          if (!active()) return;
          for (const event of body.events) handleEvent(event);
          lastSeq = Math.max(lastSeq, body.last_seq || 0);
          if (failures) setFeedState("poll");
          failures = 0;
        } catch (err) {
          if (!active()) return;
          failures += 1;
          setFeedState("off");
          await sleep(Math.min(1000 * failures, 5000));
        }
      }
    }

    if ("WebSocket" in window) connectSocket();
    else poll();
    return {
      stop() {
        stopped = true;
        if (socket) socket.close();
        if (poller) poller.abort();
      },
    };
  }

  async function restart() {
    session += 1;
    const mySession = session;
    if (feed) feed.stop();
    feed = null;
    clearLog();
    hideTyping();
    closeMenu(false);
    setFeedState("connecting");
    for (let attempt = 1; mySession === session; attempt += 1) {
      try {
        const body = await api(`/sandbox/chats/${me.id}/messages`);
        if (mySession !== session) return;
        clearLog();
        lastSeq = body.last_seq || 0;
        for (const view of body.messages) upsert(view);
        loaded = true;
        updateEmpty();
        const action = body.chat_action;
        if (action && action.active) showTyping(action.action, TYPING_MS - (Date.now() - action.at * 1000));
        scrollToBottom();
        break;
      } catch (err) {
        setFeedState("off");
        if (attempt === 1) showError(err.message);
        await sleep(Math.min(1000 * attempt, 5000));
      }
    }
    if (mySession !== session) return;
    feed = startFeed(mySession);
    loadCommands();
  }

  // -- start ------------------------------------------------------------------------------------------------

  async function loadConfig() {
    try {
      const body = await api("/chat/config.json");
      config = { ...config, ...body };
    } catch (_) {
      /* keep the defaults; the chat still works */
    }
    const name = botName();
    ui.botName.textContent = name;
    ui.botAvatar.textContent = (name.trim()[0] || "B").toUpperCase();
    document.title = `${name} – local chat`;
  }

  function wire() {
    ui.whoForm.addEventListener("submit", onWhoSubmit);
    ui.whoRandom.addEventListener("click", onWhoRandom);
    ui.composer.addEventListener("submit", submitComposer);
    ui.input.addEventListener("keydown", onInputKey);
    ui.input.addEventListener("input", onInputChange);
    ui.input.addEventListener("paste", onPaste);
    ui.startButton.addEventListener("click", () => sendText("/start"));
    ui.fileInput.addEventListener("change", async () => {
      const files = [...ui.fileInput.files];
      ui.fileInput.value = "";
      for (const file of files) await sendFile(file);
    });
    ui.menuButton.addEventListener("click", () => {
      if (ui.menu.hidden) openMenu("", true);
      else closeMenu(true);
    });
    ui.menu.addEventListener("keydown", onMenuKey);
    document.addEventListener("click", (e) => {
      if (!ui.menu.hidden && !ui.menu.contains(e.target) && !ui.menuButton.contains(e.target) && e.target !== ui.input) {
        closeMenu(false);
      }
    });
    ui.scroll.addEventListener("scroll", () => { stickToBottom = isNearBottom(); }, { passive: true });
    ui.cameraButton.addEventListener("click", openCamera);
    ui.cameraShoot.addEventListener("click", shootCamera);
    ui.cameraCancel.addEventListener("click", () => ui.cameraDialog.close());
    ui.cameraDialog.addEventListener("close", stopCamera);
    window.addEventListener("resize", () => { if (stickToBottom) scrollToBottom(); });
    setupDragAndDrop();
  }

  async function main() {
    me = loadIdentity();
    saveIdentity();
    wire();
    setupCamera();
    await loadConfig();
    await restart();
  }

  main();
})();
