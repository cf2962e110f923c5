// One key per common decision; `?` shows the keys. No key works while typing.
document.addEventListener("keydown", function (event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  var target = event.target;
  if (target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA")) {
    if (target.type !== "checkbox") return;
  }
  if (event.key === "?") {
    var help = document.getElementById("help");
    if (help) help.hidden = !help.hidden;
    event.preventDefault();
    return;
  }
  if (event.key === "s") {
    var box = document.getElementById("second_opinion");
    if (box) { box.checked = !box.checked; event.preventDefault(); }
    return;
  }
  var button = document.querySelector('button[data-key="' + CSS.escape(event.key) + '"]');
  if (button) {
    event.preventDefault();
    button.click();
  }
});
