// The one script the portal serves (no inline script: the content security policy forbids it).
// Ask before actions that lock or return a workbook; everything works without it too.
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  if (button && (button.id === "return" || button.id === "report-up") && !window.confirm(button.textContent + "?")) {
    event.preventDefault();
  }
});
