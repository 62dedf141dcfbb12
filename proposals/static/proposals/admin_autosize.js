/* Text boxes as tall as their text, for browsers without the CSS
 * `field-sizing: content` (admin.css); a no-op where it is supported. */
(function () {
  "use strict";
  if (window.CSS && CSS.supports && CSS.supports("field-sizing", "content")) return;
  function fit(box) {
    box.style.height = "auto";
    box.style.height = box.scrollHeight + box.offsetHeight - box.clientHeight + "px";
  }
  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("#content-main textarea"), fit);
    document.addEventListener("input", function (event) {
      if (event.target.tagName === "TEXTAREA") fit(event.target);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
