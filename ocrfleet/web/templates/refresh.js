// Reloads the page every data-refresh seconds, but not while someone fills
// in a form: a reload would throw away what they typed. Without this
// script the page's <noscript> refresh does the reloading.
(function () {
  var seconds = parseInt(document.body.getAttribute("data-refresh"), 10) || 30;
  var busy = false;
  document.addEventListener("focusin", function (e) {
    if (e.target.form) { busy = true; }
  });
  document.addEventListener("input", function () { busy = true; });
  document.addEventListener("focusout", function (e) {
    var form = e.target.form;
    if (form && !Array.prototype.some.call(form.elements, function (f) {
      return f.value && f.type !== "hidden" && f.tagName !== "SELECT" && f.tagName !== "BUTTON";
    })) { busy = false; }
  });
  setInterval(function () { if (!busy) { window.location.reload(); } }, seconds * 1000);
}());
