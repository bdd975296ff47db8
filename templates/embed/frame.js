(function () {
  "use strict";
  // Options come from the iframe's URL: ?components=api,web (or all) and ?theme=dark|light.
  var params = new URLSearchParams(location.search);
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
