// Gap report: a section's body is fetched from its data-src the first time it is opened, so a
// phone's first page carries only the summary.  Without script the section keeps its link to the
// location's own report (or to the XLSX).
(function () {
  "use strict";
  document.querySelectorAll("details[data-src]").forEach(function (section) {
    section.addEventListener("toggle", function () {
      if (!section.open || section.dataset.loaded) { return; }
      section.dataset.loaded = "loading";
      var body = section.querySelector(".gap-detail");
      fetch(section.getAttribute("data-src"), {credentials: "same-origin", headers: {"Accept": "text/html"}})
        .then(function (response) {
          // Signed out meanwhile (sent to the sign-in page) or refused: keep the link instead.
          if (!response.ok || response.redirected) { throw new Error(String(response.status)); }
          return response.text();
        })
        .then(function (html) {
          body.innerHTML = html;
          section.dataset.loaded = "1";
        })
        .catch(function () {
          delete section.dataset.loaded;  // keep the fallback link; a later open tries again
        });
    });
  });
})();
