/* The source reader: turns the mouse selection in #reader-text into source
 * offsets in Unicode code points (the unit the server stores; JavaScript
 * strings count UTF-16 units, so an emoji is 2 here and 1 there) and fills
 * the attach form. The server re-checks the quote at those offsets. */
(function () {
  "use strict";

  function codePoints(str) {
    var n = 0;
    for (var i = 0; i < str.length; i++) {
      var c = str.charCodeAt(i);
      // A high surrogate followed by a low one is one code point.
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) {
        var d = str.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) i++;
      }
      n++;
    }
    return n;
  }

  function init() {
    var text = document.getElementById("reader-text");
    var form = document.getElementById("attach-form");
    if (!text || !form) return;
    var segs = Array.prototype.slice.call(text.querySelectorAll(".seg"));
    var total = parseInt(text.getAttribute("data-length"), 10);
    var info = document.getElementById("selection-info");
    var submit = document.getElementById("attach-submit");

    // The code-point offset of a DOM point inside #reader-text.
    function offsetOf(node, offset) {
      if (node.nodeType === Node.TEXT_NODE) {
        var seg = node.parentElement.closest(".seg");
        return parseInt(seg.getAttribute("data-start"), 10) + codePoints(node.data.slice(0, offset));
      }
      var point = document.createRange();
      point.setStart(node, offset);
      for (var i = 0; i < segs.length; i++) {
        if (point.comparePoint(segs[i], 0) >= 0) return parseInt(segs[i].getAttribute("data-start"), 10);
      }
      return total;
    }

    function update() {
      var sel = window.getSelection();
      if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return;
      var range = sel.getRangeAt(0);
      if (!text.contains(range.startContainer) || !text.contains(range.endContainer)) return;
      var start = offsetOf(range.startContainer, range.startOffset);
      var end = offsetOf(range.endContainer, range.endOffset);
      if (end <= start) return;
      form.elements.start.value = start;
      form.elements.end.value = end;
      var quote = range.toString();
      form.elements.quote.value = quote;
      document.getElementById("selection-quote").textContent = quote;
      info.textContent = "Selected " + start + "–" + end + " (" + (end - start) + " characters).";
      submit.disabled = false;
    }

    document.addEventListener("selectionchange", update);
    // Highlights are <mark>s, not links, so a drag can start inside one; a
    // plain click (no selection made) opens the innermost quote's proposal.
    text.addEventListener("click", function (event) {
      var mark = event.target.closest && event.target.closest("mark[data-href]");
      var sel = window.getSelection();
      if (mark && (!sel || sel.isCollapsed) && event.button === 0) window.location.href = mark.getAttribute("data-href");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
