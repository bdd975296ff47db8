(function () {
  "use strict";
  // Options come from the iframe's URL: ?components=api,web (or all), ?theme=dark|light and
  // ?lang=de (one of site.yaml's languages; de-AT finds de; anything else keeps the site's).
  var params = new URLSearchParams(location.search);
  var asked = (params.get("lang") || "").toLowerCase();
  var own = document.documentElement.lang.toLowerCase();
  if (asked && asked !== own) {
    // Each language's box is its own page, listed in <link rel="alternate" hreflang>.
    var alternates = Array.prototype.slice.call(document.querySelectorAll('link[rel="alternate"][hreflang]'));
    var primary = function (tag) { return tag.split("-")[0]; };
    var find = function (same) {
      return alternates.filter(function (link) { return same(link.hreflang.toLowerCase()); })[0];
    };
    var target = find(function (tag) { return tag === asked; }) ||
      (primary(own) === primary(asked) ? null : find(function (tag) { return primary(tag) === primary(asked); }));
    if (target) {
      location.replace(target.href + location.search + location.hash);  // keeps every other option
      return;
    }
  }
  var box = document.getElementById("hg");
  var theme = params.get("theme");
  if (theme === "dark" || theme === "light") box.setAttribute("data-theme", theme);
  var wanted = (params.get("components") || "").split(",").map(function (id) { return id.trim(); });
  var list = box.querySelector(".hg-list");
  var shown = 0;
  Array.prototype.forEach.call(list.children, function (item) {
    var show = wanted.indexOf("all") !== -1 || wanted.indexOf(item.getAttribute("data-component")) !== -1;
    item.hidden = !show;
    if (show) shown += 1;
  });
  list.hidden = shown === 0;
  // Read after it missed a rebuild (data-outdated-from: the page is rebuilt at least hourly),
  // each component fresh when built is marked stale; checked again each minute for a page left open.
  var warning = document.getElementById("hg-stale");
  var words = function (name) { return box.getAttribute("data-stale-" + name); };
  var outdated = Number(box.getAttribute("data-outdated-from")), timer;
  var markDue = function () {
    if (!(Date.now() > outdated)) return;
    clearInterval(timer);
    Array.prototype.forEach.call(list.querySelectorAll("li[data-since]"), function (item) {
      var since = item.getAttribute("data-since");
      item.querySelector(".hg-state").textContent += " " + words("label");
      var note = item.appendChild(document.createElement("p"));
      note.className = "hg-stale";
      note.textContent = words("note").replace("%(time)s", function () { return since; });
    });
    var notes = list.querySelectorAll("li > .hg-stale");
    warning.textContent = notes.length > 1 ? words("many").replace("%(n)s", String(notes.length))
      : notes[0].parentNode.querySelector(".hg-name").textContent + ": " + notes[0].textContent;
    warning.hidden = false;
  };
  if (warning && outdated) {
    timer = setInterval(markDue, 60000);
    markDue();
  }
  // Below 260 px names and states wrap rather than being cut off (the widget does the same).
  var narrow = function () { box.classList.toggle("hg-narrow", box.getBoundingClientRect().width < 260); };
  narrow();
  if (window.ResizeObserver) new ResizeObserver(narrow).observe(box);
  // The embedding page may size the iframe to fit: it receives {heliograph: "embed-height", height},
  // the box's own height (the document's scrollHeight never shrinks below the iframe's).
  if (window.parent !== window) {
    var last = -1;
    var report = function () {
      var height = Math.ceil(box.getBoundingClientRect().height);
      if (height === last) return;
      last = height;
      window.parent.postMessage({ heliograph: "embed-height", height: height }, "*");
    };
    report();
    if (window.ResizeObserver) new ResizeObserver(report).observe(box);
    else window.addEventListener("resize", report);
  }
})();
