/* newsdesk site widget: one <script> tag adds a chat button and panel that answer from the archive.
 *
 * <script src="https://NEWSDESK/widget.js" data-title="Ask our archive" data-outlets="Press TV" async></script>
 *
 * Plain JavaScript, no framework, nothing else to load: it talks to POST /api/ask/stream (Server-Sent
 * Events) and renders each answer with numbered sources. Everything from the server is inserted with
 * textContent, never as HTML. It lives in a shadow root, so the page's CSS cannot break it; theme it
 * with CSS custom properties on the page: --newsdesk-accent, --newsdesk-bg, --newsdesk-fg,
 * --newsdesk-muted, --newsdesk-font, --newsdesk-radius. Optional: data-api-key (sent as a Bearer token;
 * anything in a page is public, so give the widget its own key).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.newsdeskWidget) return;
  var base = script.src.replace(/\/widget\.js(\?.*)?$/, "");
  var opts = script.dataset;
  var title = opts.title || "Ask our archive";
  var outlets = (opts.outlets || "").split(",").map(function (s) { return s.trim(); }).filter(Boolean);
  var MAX_HISTORY = 20;
  var STAGES = { retrieving: "Searching the articles…", drafting: "Writing the answer…" };
  var UNAVAILABLE = "Chat unavailable on this site";
  var history = [];
  var busy = false;

  var CSS =
    ":host{all:initial;--a:var(--newsdesk-accent,#1a56db);--bg:var(--newsdesk-bg,#fff);--fg:var(--newsdesk-fg,#1b1b1b);" +
    "--mu:var(--newsdesk-muted,#555);font:15px/1.45 var(--newsdesk-font,system-ui,sans-serif);color:var(--fg)}" +
    ".btn{position:fixed;right:16px;bottom:16px;z-index:2147483000;border:0;border-radius:999px;padding:12px 18px;" +
    "background:var(--a);color:#fff;font:inherit;font-weight:600;cursor:pointer;box-shadow:0 2px 10px rgba(0,0,0,.25)}" +
    ".btn[aria-disabled=true]{background:#595959;cursor:not-allowed}" +
    ".panel{position:fixed;right:16px;bottom:76px;z-index:2147483001;width:min(400px,calc(100vw - 32px));" +
    "height:min(600px,calc(100vh - 96px));display:flex;flex-direction:column;background:var(--bg);color:var(--fg);" +
    "border-radius:var(--newsdesk-radius,12px);box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}" +
    ".panel[hidden]{display:none}" +
    "@media (max-width:480px){.panel{left:8px;right:8px;width:auto;bottom:72px;height:calc(100vh - 88px)}}" +
    "header{display:flex;align-items:center;justify-content:space-between;padding:8px 8px 8px 14px;background:var(--a);color:#fff}" +
    "h2{font-size:16px;margin:0}" +
    ".close{background:transparent;border:0;color:#fff;font-size:24px;line-height:1;cursor:pointer;padding:4px 10px}" +
    ".log{flex:1;overflow-y:auto;padding:12px 14px}" +
    ".msg{margin:0 0 14px}.q{font-weight:600;margin:0 0 4px}.a p{margin:0 0 4px;white-space:pre-wrap}" +
    ".status{color:var(--mu);font-style:italic}.err{color:#b00020}" +
    ".srch{font-weight:600;margin:8px 0 2px}ol{padding-left:24px;margin:0;font-size:13px}li{margin:0 0 6px}" +
    ".meta{color:var(--mu)}blockquote{margin:4px 0 0 8px;color:var(--mu)}summary{cursor:pointer;color:var(--mu)}" +
    "a{color:var(--a)}" +
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #ddd}" +
    "textarea{flex:1;resize:none;font:inherit;padding:8px;border:1px solid #767676;border-radius:8px;height:42px;" +
    "box-sizing:border-box;color:var(--fg);background:var(--bg)}" +
    ".send{background:var(--a);color:#fff;border:0;border-radius:8px;padding:0 16px;font:inherit;font-weight:600;cursor:pointer}" +
    ".send:disabled{opacity:.6;cursor:wait}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    ":focus-visible{outline:3px solid #ffbf47;outline-offset:2px}";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text != null) node.textContent = String(text);
    return node;
  }

  // The answer marks the words that answer the question as **bold**; the parts become text nodes and
  // <strong> elements, so article text is still never parsed as HTML.
  function setMarked(node, text) {
    node.replaceChildren();
    String(text).split("**").forEach(function (part, i) {
      if (part) node.append(i % 2 ? el("strong", {}, part) : document.createTextNode(part));
    });
  }

  var host = el("div", { id: "newsdesk-widget" });
  var root = host.attachShadow({ mode: "open" });
  var style = el("style", null, CSS);
  var button = el("button", { type: "button", class: "btn", "aria-haspopup": "dialog", "aria-expanded": "false",
    "aria-controls": "nd-panel" }, title);
  var panel = el("div", { id: "nd-panel", class: "panel", role: "dialog", "aria-modal": "true", "aria-labelledby": "nd-title" });
  panel.hidden = true;
  var header = el("header");
  var close = el("button", { type: "button", class: "close", "aria-label": "Close chat" }, "×");
  header.append(el("h2", { id: "nd-title" }, title), close);
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0" });
  log.append(el("p", { class: "status" }, "Answers quote the archive's articles and name the outlet and file behind each claim."));
  var form = el("form");
  var box = el("textarea", { id: "nd-question", rows: "1", placeholder: "Ask a question…" });
  var send = el("button", { type: "submit", class: "send" }, "Ask");
  form.append(el("label", { for: "nd-question", class: "sr" }, "Your question"), box, send);
  panel.append(header, log, form);
  var note = el("span", { id: "nd-note", class: "sr" });
  root.append(style, button, panel, note);

  function authHeaders(extra) {
    var headers = extra || {};
    if (opts.apiKey) headers.Authorization = "Bearer " + opts.apiKey;
    return headers;
  }

  function setOpen(open) {
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    (open ? box : button).focus();
  }

  function markUnavailable() {
    button.textContent = UNAVAILABLE;
    button.setAttribute("aria-disabled", "true");
    button.setAttribute("aria-describedby", "nd-note");
    note.textContent = "This site is not allowed to use the newsdesk archive, or the archive cannot be reached.";
    button.title = note.textContent;
    if (!panel.hidden) setOpen(false);
  }

  function focusables() {
    return Array.prototype.filter.call(
      panel.querySelectorAll("button,textarea,a[href],summary,[tabindex='0']"),
      function (node) { return !node.disabled && node.getClientRects().length; });
  }

  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); setOpen(false); return; }
    if (event.key !== "Tab") return;
    var items = focusables(), first = items[0], last = items[items.length - 1];
    var active = root.activeElement;
    if (event.shiftKey && (active === first || !panel.contains(active))) { event.preventDefault(); last.focus(); }
    else if (!event.shiftKey && (active === last || !panel.contains(active))) { event.preventDefault(); first.focus(); }
  });
  button.addEventListener("click", function () {
    if (button.getAttribute("aria-disabled") !== "true") setOpen(panel.hidden);
  });
  close.addEventListener("click", function () { setOpen(false); });
  box.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = box.value.trim();
    if (question && !busy) ask(question);
  });

  function safeUrl(url) {
    try { var parsed = new URL(url); } catch (e) { return null; }
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  }

  function sources(citations) {
    var list = el("ol");
    citations.forEach(function (c) {
      var item = el("li");
      item.value = c.id;
      var url = c.url && safeUrl(c.url);
      var name = c.title ? "“" + c.title + "”" : c.source;
      item.append(el("strong", null, c.outlet));
      if (c.outlet_basis) item.append(" ", el("span", { class: "meta" }, "(found by " + c.outlet_basis + ")"));
      item.append(", ");
      if (url) item.append(el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, name));
      else item.append(name);
      item.append(" ", el("span", { class: "meta" }, [c.source].concat(c.published ? [c.published] : []).join(", ")));
      var quote = el("details");
      quote.append(el("summary", null, "Quote"), el("blockquote", null, c.quote));
      item.append(quote);
      list.append(item);
    });
    return list;
  }

  function parseEvents(buffer, onEvent) {
    var blocks = buffer.split(/\r?\n\r?\n/);
    var rest = blocks.pop();
    blocks.forEach(function (block) {
      var kind = "message", data = [];
      block.split(/\r?\n/).forEach(function (line) {
        if (line.indexOf("event:") === 0) kind = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
      });
      if (data.length) onEvent(kind, JSON.parse(data.join("\n")));
    });
    return rest;
  }

  function ask(question) {
    busy = true;
    send.disabled = true;
    box.value = "";
    var turn = el("div", { class: "msg" });
    var reply = el("div", { class: "a" });
    var status = el("p", { class: "status" }, STAGES.retrieving);
    var text = el("p");
    reply.append(status, text);
    turn.append(el("p", { class: "q" }, question), reply);
    log.append(turn);
    log.scrollTop = log.scrollHeight;
    var body = JSON.stringify({ question: question, history: history.slice(-MAX_HISTORY), outlets: outlets });
    var streamed = "";

    function onEvent(kind, data) {
      if (kind === "progress") status.textContent = STAGES[data.stage] || status.textContent;
      else if (kind === "draft") { text.textContent += data.text; status.textContent = "Draft, being checked against the articles…"; }
      else if (kind === "text") { streamed += data.text; setMarked(text, streamed); }
      else if (kind === "answer") {
        status.remove();
        setMarked(text, data.answer);
        if (data.citations.length) reply.append(el("p", { class: "srch" }, "Sources"), sources(data.citations));
        history.push(question);
      } else if (kind === "error") { status.className = "err"; status.textContent = data.message; }
      log.scrollTop = log.scrollHeight;
    }

    fetch(base + "/api/ask/stream", { method: "POST", body: body,
      headers: authHeaders({ "Content-Type": "application/json", Accept: "text/event-stream" }) })
      .then(function (response) {
        if (!response.ok) {
          return response.json().then(function (j) { throw new Error(j.detail || "HTTP " + response.status); });
        }
        var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) return;
            buffer = parseEvents(buffer + decoder.decode(chunk.value, { stream: true }), onEvent);
            return pump();
          });
        }
        return pump();
      })
      .catch(function (error) {
        status.className = "err";
        status.textContent = error instanceof TypeError ? UNAVAILABLE + "." : error.message;
      })
      .then(function () { busy = false; send.disabled = false; });
  }

  window.newsdeskWidget = { open: function () { setOpen(true); }, close: function () { setOpen(false); } };
  function mount() {
    document.body.append(host);
    fetch(base + "/api/health", { headers: authHeaders() })
      .then(function (response) { if (!response.ok) markUnavailable(); }, markUnavailable);
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
