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

// A decision for a whole cluster is confirmed first.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var box = form.querySelector ? form.querySelector("#cluster") : null;
  if (!box || !box.checked) return;
  var asking = form.querySelector("#second_opinion");
  if (asking && asking.checked) return;  // the cluster waits for the second opinion
  var others = box.getAttribute("data-others");
  if (!window.confirm("Apply this decision to " + others + " more items of the cluster?")) {
    event.preventDefault();
  }
});
