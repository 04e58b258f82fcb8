// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // A form is submitted once: a second tap while the first post is under way is ignored.
  // (The server refuses a repeated post of the same form anyway.)
  document.querySelectorAll("form[method='post']").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.hasAttribute("formnovalidate")) { return; }
      if (form.dataset.submitted === "1") { event.preventDefault(); return; }
      form.dataset.submitted = "1";
    });
  });
  // Filter long lists as the keeper types (name, code or lot).
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var rows = document.querySelectorAll(input.getAttribute("data-filter"));
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      rows.forEach(function (row) {
        var text = (row.getAttribute("data-text") || row.textContent).toLowerCase();
        row.hidden = q !== "" && text.indexOf(q) === -1;
        // A folded item opens when the search matches it.
        if (row.tagName === "DETAILS" && q !== "" && !row.hidden) { row.open = true; }
      });
    });
  });
})();
