// Alert centre: "tick all open alerts on this page" for the one-post acknowledgement.
// Without JavaScript the box stays disabled and each alert is ticked by hand.
(function () {
  "use strict";
  var all = document.getElementById("tick-all");
  if (!all) { return; }
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input.alert-tick"));
  all.disabled = boxes.length === 0;
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
  boxes.forEach(function (box) {
    box.addEventListener("change", function () {
      all.checked = boxes.every(function (b) { return b.checked; });
    });
  });
})();
