// zinepress serve: reloads this page when what it shows has been rebuilt, keeping the scroll position.
(function () {
  "use strict";
  var script = new URL(document.currentScript.src);
  var kind = script.searchParams.get("kind");
  var since = script.searchParams.get("since");
  var key = "zinepress-scroll:" + location.pathname;
  var saved = sessionStorage.getItem(key);
  if (saved !== null) {
    sessionStorage.removeItem(key);
    window.scrollTo(0, Number(saved));
    window.addEventListener("load", function () { window.scrollTo(0, Number(saved)); });
  }
  var events = new EventSource("/_zinepress/events?since=" + since);
  events.onmessage = function (message) {
    var parts = JSON.parse(message.data).parts;
    if (kind === "error" || parts.indexOf(kind) >= 0 || parts.indexOf("error") >= 0) {
      events.close();
      if (kind !== "error") { sessionStorage.setItem(key, String(window.scrollY)); }
      location.reload();
    }
  };
})();
