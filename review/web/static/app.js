// Keyboard shortcuts of the focus view. Plain script, no dependencies.
(function () {
  "use strict";
  function typing(el) {
    if (!el) return false;
    var t = el.tagName;
    return t === "INPUT" || t === "TEXTAREA" || t === "SELECT" || el.isContentEditable;
  }
  function submit(id) {
    var f = document.getElementById(id);
    if (!f) return false;
    var b = f.querySelector("button[type=submit]");
    if (b) b.disabled = true; // one submit per form; the nonce makes a second one harmless anyway
    f.submit();
    return true;
  }
  function follow(id) {
    var a = document.getElementById(id);
    if (a) window.location.assign(a.href);
    return !!a;
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) {
      if (ev.key === "Escape" && ev.target.blur) ev.target.blur();
      return;
    }
    var done = false;
    switch (ev.key) {
      case "a": done = submit("approve-form"); break;
      // Focus moves after the key event has finished, so the typed letter
      // never lands in the field that gets the focus.
      case "r": {
        var r = document.getElementById("reason");
        if (r) { setTimeout(function () { r.focus(); }, 0); done = true; }
        break;
      }
      case "e": {
        var d = document.getElementById("edit-details");
        var t = document.getElementById("edit-target");
        if (d && t) { d.open = true; setTimeout(function () { t.focus(); }, 0); done = true; }
        break;
      }
      case "j": done = follow("next"); break;
      case "k": done = follow("prev"); break;
      case "u": done = submit("undo-form"); break;
    }
    if (done) ev.preventDefault();
  });
  document.addEventListener("submit", function (ev) {
    var b = ev.target.querySelector("button[type=submit]");
    if (b) setTimeout(function () { b.disabled = true; }, 0);
  });
})();
