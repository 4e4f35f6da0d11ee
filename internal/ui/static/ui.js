// dadns operator pages: the only script. Pages work without it; with it,
// pages that ask for it (data-refresh on <body>) reload themselves every
// few seconds, unless the operator is typing in a form.
(function () {
  "use strict";
  var secs = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  if (!secs) {
    return;
  }
  var typing = function () {
    var el = document.activeElement;
    return el && (el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA") && el.value !== el.defaultValue;
  };
  window.setInterval(function () {
    if (!document.hidden && !typing()) {
      window.location.reload();
    }
  }, secs * 1000);
})();
