/*! Heliograph status widget: <script src="https://status.example.com/embed/status.js" async></script>
 * Renders the page's status after the script tag, or into each element with a data-heliograph
 * attribute. Options, on that element or on the script tag: data-components="api,web" (or "all"),
 * data-theme="dark|light", data-lang="de" (one of the site's languages; de-AT finds de).
 * Reads api/status.json from the site the script itself came from, again every 5 minutes while open. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src || !window.fetch || !Element.prototype.attachShadow) return;
  var root = new URL("../", script.src).href;  // this file is embed/status.js on the status site
  var CSS = "__HELIOGRAPH_CSS__";
  var WORDS = "__HELIOGRAPH_WORDS__";  // the site language's words: embed.widget_words
  // Each of the site's languages: {tag: {prefix: "de/", words: {...}}}; the first's words are WORDS.
  var LANGUAGES = "__HELIOGRAPH_LANGUAGES__";
  var POLL_MS = 5 * 60 * 1000;
  var INDICATOR_STATUS = { none: "operational", minor: "degraded_performance", major: "partial_outage",
                           critical: "major_outage", maintenance: "under_maintenance" };

  function sameSite(value) {
    try { return !value || new URL(value, location.href).href === root; } catch (e) { return false; }
  }

  function hosts() {
    var found = Array.prototype.filter.call(document.querySelectorAll("[data-heliograph]"), function (el) {
      return !el.hasAttribute("data-heliograph-ready") && sameSite(el.getAttribute("data-heliograph"));
    });
    if (found.length) return found;
    var box = document.createElement("div");
    if (script.parentNode && script.parentNode !== document.head) {
      script.parentNode.insertBefore(box, script.nextSibling);
    } else {
      document.body.appendChild(box);
    }
    return [box];
  }

  function option(host, name) {
    return host.getAttribute("data-" + name) || script.getAttribute("data-" + name) || "";
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);  // data never becomes markup
    return node;
  }

  // The language asked for with data-lang (exactly, else by its first part), else the site's.
  function language(host) {
    var tags = Object.keys(LANGUAGES);
    var asked = option(host, "lang").toLowerCase();
    var primary = function (tag) { return tag.toLowerCase().split("-")[0]; };
    var tag = tags.filter(function (t) { return t.toLowerCase() === asked; })[0] ||
              tags.filter(function (t) { return asked && primary(t) === primary(asked); })[0] || tags[0];
    var chosen = LANGUAGES[tag] || {};
    return { tag: tag, prefix: chosen.prefix || "", words: chosen.words || WORDS };
  }

  function link(lang, path, className) {
    var a = el("a", className);
    a.href = root + lang.prefix + path;
    a.target = "_blank";
    a.rel = "noopener";
    return a;
  }

  function show(host, build) {
    host.setAttribute("data-heliograph-ready", "");
    var shadow = host.shadowRoot || host.attachShadow({ mode: "open" });
    shadow.textContent = "";
    shadow.appendChild(el("style", "", CSS));
    var box = el("div", "hg");
    var theme = option(host, "theme");
    if (theme === "dark" || theme === "light") box.setAttribute("data-theme", theme);
    var lang = language(host);
    if (lang.tag) box.lang = lang.tag;
    if (lang.words.dir) box.dir = lang.words.dir;
    build(box, host, lang);
    shadow.appendChild(box);
    // Below 260 px names and states wrap rather than being cut off.
    var narrow = function () { box.classList.toggle("hg-narrow", box.getBoundingClientRect().width < 260); };
    narrow();
    if (window.ResizeObserver) new ResizeObserver(narrow).observe(box);
  }

  function say(lang, message, values) {
    return (lang.words[message] || message).replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  }

  // Read after the page missed a rebuild (outdated_from: the page is rebuilt at least hourly).
  function isOutdated(data) { return Date.now() > Date.parse(data.outdated_from); }

  // Stale when built, or checked then and read once outdated.
  function isStale(c, data) { return c.monitored && (c.stale || (!!c.last_checked && isOutdated(data))); }

  function staleNote(lang, c) {  // ComponentState.stale_note's words
    if (!c.last_checked) return say(lang, "Not checked yet.");
    var t = c.last_checked.slice(0, 16).replace("T", " ") + " UTC";
    return say(lang, "No check result since %(time)s: the status shown may be out of date.", { time: t });
  }

  function summary(data) {
    return function (box, host, lang) {
      var overall = link(lang, "", "hg-overall s-" + (INDICATOR_STATUS[data.status.indicator] || "unknown"));
      overall.appendChild(el("span", "hg-dot"));
      overall.appendChild(el("span", "hg-desc", lang.words["i:" + data.status.indicator] || data.status.description));
      overall.appendChild(el("span", "hg-site", data.page.name));
      box.appendChild(overall);
      // The same warning as the page's: api/status.json marks each component whose checks stopped.
      var stale = data.components.filter(function (c) { return isStale(c, data); });
      if (stale.length === 1) {
        box.appendChild(el("p", "hg-stale", stale[0].name + ": " + staleNote(lang, stale[0])));
      } else if (stale.length > 1) {
        box.appendChild(el("p", "hg-stale", say(lang, "%(n)s components have no recent check result: the status shown may be out of date.",
                                                 { n: stale.length })));
      }
      var wanted = option(host, "components").split(",").map(function (id) { return id.trim(); });
      var chosen = data.components.filter(function (c) {
        return wanted.indexOf("all") !== -1 || wanted.indexOf(c.id) !== -1;
      });
      if (!chosen.length) return;
      var list = el("ul", "hg-list");
      chosen.forEach(function (c) {
        var item = el("li", "s-" + c.status);
        var a = link(lang, "components/" + encodeURIComponent(c.id) + "/");
        a.appendChild(el("span", "hg-dot"));
        a.appendChild(el("span", "hg-name", c.name));
        a.appendChild(el("span", "hg-state", (lang.words["s:" + c.status] || c.status_label) +
                                              (isStale(c, data) ? " " + say(lang, "(stale)") : "")));
        item.appendChild(a);
        if (isStale(c, data)) item.appendChild(el("p", "hg-stale", staleNote(lang, c)));
        list.appendChild(item);
      });
      box.appendChild(list);
    };
  }

  function unavailable(box, host, lang) {
    var a = link(lang, "", "hg-overall");
    a.appendChild(el("span", "hg-dot"));
    a.appendChild(el("span", "hg-desc", say(lang, "Status unavailable: open the status page")));
    box.appendChild(a);
  }

  function loading(box, host, lang) {
    box.appendChild(el("span", "hg-desc", say(lang, "Loading status…")));
  }

  var targets = hosts();
  // The shadow root hides what the host element holds (a fallback for when this script cannot
  // load at all) from now on.
  targets.forEach(function (host) { show(host, loading); });
  function load(cache) {  // "no-cache" asks the host whether its copy changed (GitHub Pages caches for 10 minutes)
    return fetch(root + "api/status.json", { credentials: "omit", cache: cache || "default" }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
  }
  function draw(data) { targets.forEach(function (host) { show(host, summary(data)); }); }
  load().then(function (data) {
    draw(data);
    // Left open: asks again every 5 minutes, and draws a newer build, or the copy it has once outdated.
    var asked = Date.now(), outdated = isOutdated(data);
    setInterval(function () {
      if (Date.now() - asked >= POLL_MS) {
        asked = Date.now();
        load("no-cache").then(function (fresh) {
          if (fresh.generated_at === data.generated_at) return;
          data = fresh;
          outdated = isOutdated(data);
          draw(data);
        }, function () {});  // unanswered: its copy's age is judged below, as before
      }
      if (!outdated && isOutdated(data)) {
        outdated = true;
        draw(data);
      }
    }, 60000);
  }, function () {
    targets.forEach(function (host) { show(host, unavailable); });
  });
})();
