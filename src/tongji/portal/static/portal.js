// The one script the portal serves (no inline script: the content security policy forbids it).
// Ask before actions that return a workbook, report up or reset a password; everything works without it too.
// A form is sent once: clicked again while its answer is awaited (a 区's 汇总 takes a while), it made a second
// summary, a second upload a second version, a second 审核通过 a refusal of what the first had just done.
var sending = false;
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var post = event.target.method === "post";
  if (post && sending) {
    event.preventDefault();
    return;
  }
  // the question is the page's, in its language (a button's label and "?" read 退回? in Chinese)
  if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  sending = post;
});
// the page shown again (the browser's back button keeps it as it was): its forms may be sent again
window.addEventListener("pageshow", function () {
  sending = false;
});
