// "Copy" buttons: a button with data-copy="<id>" copies the text of the element with that id.
// The buttons stay hidden where the browser can't copy (no clipboard API, or plain HTTP);
// the text can still be selected by hand.
(function () {
  "use strict";

  if (!navigator.clipboard || !window.isSecureContext) {
    return;
  }

  function note(id, text) {
    var node = document.querySelector('[data-copy-note="' + id + '"]');
    if (node) {
      node.textContent = text;
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
    var id = button.getAttribute("data-copy");
    var source = document.getElementById(id);
    if (!source) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(
        function () { note(id, "Copied."); },
        function () { note(id, "Could not copy: select the key and copy it by hand."); }
      );
    });
  });
})();
