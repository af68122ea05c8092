/*
 * Candor recommendations widget. One dependency-free file; embed it with
 *
 *   <script src="https://candor.example/static/widget.js" data-key="pk_..."
 *           data-customer-token="..." data-slot="home" async></script>
 *
 * Optional: data-n (1-20 cards), data-api (API origin, default: where this file came from),
 * data-target (id of an element to render into), data-product-url ("/p/{external_id}").
 *
 * It renders into a Shadow DOM (the host page's CSS cannot reach in, ours cannot leak out),
 * writes text only with textContent (a product name is never parsed as HTML), sends no
 * cookies, and never breaks the host page: on any failure it renders nothing and logs one
 * console warning.
 */
(function () {
  "use strict";

  var POPULAR = "Popular right now";
  var CSS = [
    ":host{all:initial;display:block;font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328}",
    ".cw{margin:1rem 0}",
    ".cw-title{font-size:1.05rem;font-weight:600;margin:0 0 .6rem}",
    ".cw-list{list-style:none;margin:0;padding:0;display:grid;gap:.75rem;grid-template-columns:repeat(auto-fill,minmax(160px,1fr))}",
    ".cw-card{border:1px solid #d0d7de;border-radius:8px;padding:.7rem;background:#fff;display:flex;flex-direction:column;gap:.3rem}",
    ".cw-img{width:100%;height:110px;object-fit:cover;border-radius:4px;background:#f3f4f6}",
    ".cw-name{font-weight:600;margin:0;overflow-wrap:anywhere}",
    ".cw-name a{color:inherit}",
    ".cw-meta{color:#57606a;margin:0;font-size:.85rem}",
    ".cw-actions{display:flex;gap:.5rem;flex-wrap:wrap;margin-top:auto}",
    "button{font:inherit;font-size:.85rem;cursor:pointer;border:1px solid #d0d7de;background:#f6f8fa;border-radius:6px;padding:.15rem .55rem;color:inherit}",
    "button:focus-visible,a:focus-visible{outline:2px solid #0969da;outline-offset:2px}",
    ".cw-why{font-size:.85rem;background:#f6f8fa;border-radius:6px;padding:.45rem .55rem}",
    ".cw-why[hidden]{display:none}",
    ".cw-why p{margin:0 0 .35rem}",
    ".cw-why a{color:#0969da}",
    ".cw-status{font-size:.85rem;color:#57606a;margin:.5rem 0 0}"
  ].join("\n");

  function findScript() {
    var current = document.currentScript;
    if (current && current.hasAttribute("data-key") && !current.hasAttribute("data-candor-mounted")) {
      return current;
    }
    var candidates = document.querySelectorAll("script[data-key]");
    for (var i = 0; i < candidates.length; i++) {
      var src = candidates[i].getAttribute("src") || "";
      if (src.indexOf("widget.js") !== -1 && !candidates[i].hasAttribute("data-candor-mounted")) {
        return candidates[i];
      }
    }
    return null;
  }

  function Widget(script) {
    this.script = script;
    this.warned = false;
    this.host = null;
    this.key = script.getAttribute("data-key") || "";
    this.token = script.getAttribute("data-customer-token") || "";
    this.slot = script.getAttribute("data-slot") || "home";
    var n = parseInt(script.getAttribute("data-n") || "8", 10);
    this.n = n >= 1 && n <= 20 ? n : 8;
    this.base = new URL(script.src, document.baseURI).origin;
    this.api = (script.getAttribute("data-api") || this.base).replace(/\/+$/, "");
    this.productUrl = script.getAttribute("data-product-url") || "";
    this.personalized = false;
  }

  // Exactly one warning per widget, whatever went wrong, and nothing visible.
  Widget.prototype.fail = function (reason) {
    try {
      if (this.host && this.host.parentNode) {
        this.host.parentNode.removeChild(this.host);
      }
      this.host = null;
    } catch (e) { /* the host page may have moved things: nothing to clean */ }
    if (this.warned) { return; }
    this.warned = true;
    try { console.warn("Candor widget: nothing shown (" + reason + ")"); } catch (e) { /* no console */ }
  };

  Widget.prototype.url = function (path) {
    return this.api + path + "?key=" + encodeURIComponent(this.key);
  };

  Widget.prototype.headers = function (extra) {
    var headers = extra || {};
    if (this.token) { headers.Authorization = "Bearer " + this.token; }
    return headers;
  };

  Widget.prototype.start = function () {
    if (!this.key) { return this.fail("no data-key"); }
    if (typeof fetch !== "function" || typeof Element.prototype.attachShadow !== "function") {
      return this.fail("browser not supported");
    }
    var self = this;
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, 8000) : null;
    var url = this.url("/api/v1/widget/recommendations") +
      "&slot=" + encodeURIComponent(this.slot) + "&n=" + this.n;
    fetch(url, {
      method: "GET",
      mode: "cors",
      credentials: "omit",
      headers: this.headers(),
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      if (timer) { clearTimeout(timer); }
      if (response.status !== 200) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) {
      try {
        self.render(data);
      } catch (e) {
        self.fail("render error: " + (e && e.message ? e.message : e));
      }
    }).catch(function (e) {
      if (timer) { clearTimeout(timer); }
      self.fail(e && e.message ? e.message : "network error");
    });
  };

  Widget.prototype.mount = function () {
    var host = document.createElement("div");
    host.className = "candor-widget";
    host.setAttribute("data-candor-slot", this.slot);
    var target = this.script.getAttribute("data-target");
    var container = target ? document.getElementById(target) : null;
    if (container) {
      container.appendChild(host);
    } else if (this.script.parentNode && this.script.parentNode !== document.head) {
      this.script.parentNode.insertBefore(host, this.script.nextSibling);
    } else {
      document.body.appendChild(host);
    }
    this.host = host;
    var root = host.attachShadow({ mode: "open" });
    // A constructed stylesheet is not inline style as far as a host CSP is concerned;
    // older browsers get a <style> element inside the shadow root instead.
    if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function") {
      try {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        root.adoptedStyleSheets = [sheet];
        return root;
      } catch (e) { /* fall through to <style> */ }
    }
    var style = document.createElement("style");
    style.textContent = CSS;
    root.appendChild(style);
    return root;
  };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function safeHttpUrl(value, base) {
    if (!value) { return ""; }
    try {
      var u = new URL(String(value), base);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : "";
    } catch (e) {
      return "";
    }
  }

  Widget.prototype.render = function (data) {
    if (!data || !Array.isArray(data.items) || data.items.length === 0) {
      return; // nothing to recommend is not an error: show nothing, say nothing
    }
    if (!document.body) {
      var self = this;
      document.addEventListener("DOMContentLoaded", function () {
        try { self.render(data); } catch (e) { self.fail("render error"); }
      });
      return;
    }
    this.personalized = data.personalized === true && !!this.token;
    var root = this.mount();
    var section = el("section", "cw");
    var label = this.personalized ? String(data.label || "Recommended for you") : POPULAR;
    section.setAttribute("aria-label", label);
    section.appendChild(el("h2", "cw-title", label));
    var list = el("ul", "cw-list");
    var status = el("p", "cw-status");
    status.setAttribute("role", "status");
    var ids = [];
    for (var i = 0; i < data.items.length; i++) {
      var item = data.items[i] || {};
      ids.push(item.product_id);
      list.appendChild(this.card(item, i, status));
    }
    section.appendChild(list);
    section.appendChild(status);
    root.appendChild(section);
    if (this.personalized) {
      this.send("impression", ids);
    }
  };

  Widget.prototype.card = function (item, index, status) {
    var self = this;
    var li = el("li", "cw-card");
    li.setAttribute("data-product-id", String(item.product_id));
    var image = safeHttpUrl(item.image_url, this.base);
    if (image) {
      var img = el("img", "cw-img");
      img.alt = "";
      img.loading = "lazy";
      img.referrerPolicy = "no-referrer";
      img.src = image;
      li.appendChild(img);
    }
    var name = el("p", "cw-name");
    var href = this.productUrl
      ? safeHttpUrl(this.productUrl.replace("{external_id}", encodeURIComponent(item.external_id || "")), document.baseURI)
      : "";
    if (href) {
      var link = el("a", null, item.name);
      link.href = href;
      link.addEventListener("click", function () { self.send("click", [item.product_id]); });
      name.appendChild(link);
    } else {
      name.textContent = String(item.name || "");
    }
    li.appendChild(name);
    var meta = [item.category, item.price].filter(function (v) { return v; }).join(" · ");
    li.appendChild(el("p", "cw-meta", meta));

    var whyId = "cw-why-" + this.slot + "-" + index;
    var why = el("div", "cw-why");
    why.id = whyId;
    why.hidden = true;
    why.appendChild(el("p", "cw-why-text", item.why ||
      (this.personalized ? "Based on your activity with this brand." : "Popular with this brand's customers right now; not based on you.")));
    var manage = el("a", "cw-manage", "Manage my data");
    manage.href = this.base + "/me/data/";
    if (this.personalized && typeof item.product_id === "number") {
      // A personal card: its reasons on the Recommendations page, each of them to see,
      // switch off or delete (the connect link below lands there too).
      manage.setAttribute("data-product", String(item.product_id));
      manage.href = this.base + "/me/recommendations/#rec-product-" + item.product_id;
    }
    manage.target = "_blank";
    manage.rel = "noopener noreferrer";
    why.appendChild(manage);

    var actions = el("div", "cw-actions");
    var toggle = el("button", "cw-why-toggle", "Why?");
    toggle.type = "button";
    toggle.setAttribute("aria-expanded", "false");
    toggle.setAttribute("aria-controls", whyId);
    toggle.addEventListener("click", function () {
      var open = why.hidden;
      why.hidden = !open;
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) { self.manageLink(); }
    });
    actions.appendChild(toggle);
    if (this.personalized) {
      var dont = el("button", "cw-dont", "Don't use this");
      dont.type = "button";
      dont.addEventListener("click", function () {
        self.send("not_interested", [item.product_id]);
        if (li.parentNode) { li.parentNode.removeChild(li); }
        status.textContent = "Got it: we won't use this for your recommendations.";
      });
      actions.appendChild(dont);
    }
    li.appendChild(actions);
    li.appendChild(why);
    return li;
  };

  // "Manage my data" for a token holder: a one-time connect link, asked for when a "Why?"
  // first opens (and again once it is close to expiring), so the person lands on their own
  // data in Candor, not on an empty dashboard: a personal card's link on that card's
  // reasons (&product=), the others on My data. Without a token, or on any error, the links
  // keep pointing at the dashboard.
  var LINK_FRESH_MS = 8 * 60 * 1000;

  Widget.prototype.manageLink = function () {
    if (!this.token || !this.host) { return; }
    var now = Date.now();
    if (this.linkAskedAt && now - this.linkAskedAt < LINK_FRESH_MS) { return; }
    this.linkAskedAt = now;
    var self = this;
    try {
      fetch(this.url("/api/v1/widget/link"), {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        headers: this.headers()
      }).then(function (response) {
        if (response.status !== 200) { throw new Error("HTTP " + response.status); }
        return response.json();
      }).then(function (data) {
        var href = safeHttpUrl(data && data.url, self.base);
        if (!href || !self.host || !self.host.shadowRoot) { return; }
        var links = self.host.shadowRoot.querySelectorAll(".cw-manage");
        for (var i = 0; i < links.length; i++) {
          var product = links[i].getAttribute("data-product");
          var target = new URL(href);
          if (product) { target.searchParams.set("product", product); }
          links[i].href = target.href;
        }
      }).catch(function () { self.linkAskedAt = 0; });
    } catch (e) {
      this.linkAskedAt = 0;
    }
  };

  // Events only ever leave for a token holder; the server checks consent again.
  Widget.prototype.send = function (type, productIds) {
    if (!this.personalized || !this.token) { return; }
    var ids = [];
    for (var i = 0; i < productIds.length; i++) {
      if (typeof productIds[i] === "number") { ids.push(productIds[i]); }
    }
    if (!ids.length) { return; }
    var self = this;
    try {
      fetch(this.url("/api/v1/widget/events"), {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        keepalive: true,
        headers: this.headers({ "Content-Type": "application/json" }),
        body: JSON.stringify({ type: type, product_ids: ids.slice(0, 20) })
      }).then(function (response) {
        if (response.status !== 204) { self.warnOnce("event not recorded (HTTP " + response.status + ")"); }
      }).catch(function () { self.warnOnce("event not sent"); });
    } catch (e) {
      self.warnOnce("event not sent");
    }
  };

  Widget.prototype.warnOnce = function (reason) {
    if (this.warned) { return; }
    this.warned = true;
    try { console.warn("Candor widget: " + reason); } catch (e) { /* no console */ }
  };

  try {
    var script = findScript();
    if (script) {
      script.setAttribute("data-candor-mounted", "");
      new Widget(script).start();
    }
  } catch (e) {
    try { console.warn("Candor widget: nothing shown (" + (e && e.message ? e.message : e) + ")"); } catch (e2) { /* no console */ }
  }
})();
