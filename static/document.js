// Document page: poll the parse job until it ends, and link each field to its span in the text.
(function () {
  "use strict";

  // Fill the bar with pages read out of the total; with no total yet, a <progress> without
  // a value attribute shows the browser's own moving (indeterminate) bar.
  function showProgress(job, pages, bar) {
    if (job.pages_total) {
      pages.textContent = "อ่านแล้ว " + job.pages_done + " จาก " + job.pages_total + " หน้า";
      bar.max = job.pages_total;
      bar.value = job.pages_done;
    } else {
      pages.textContent = job.pages_done ? "อ่านแล้ว " + job.pages_done + " หน้า" : "";
      bar.removeAttribute("value");
    }
    var message = document.getElementById("job-message");
    if (message && message.firstChild && job.status === "running") {
      message.firstChild.textContent = "กำลังอ่านเอกสาร… ";
    }
  }

  function pollJob(panel) {
    var url = panel.dataset.pollUrl;
    var pages = document.getElementById("job-pages");
    var bar = document.getElementById("job-progress");
    function tick() {
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (job) {
          if (job.status === "done" || job.status === "failed") {
            window.location.reload();
            return;
          }
          showProgress(job, pages, bar);
          window.setTimeout(tick, 1000);
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    }
    window.setTimeout(tick, 500);
  }

  // A span named "references.0" or "references[0]" belongs to the field "references".
  function spanBelongsTo(spanName, field) {
    return spanName === field || spanName.indexOf(field + ".") === 0 || spanName.indexOf(field + "[") === 0;
  }

  function marksFor(letter, field) {
    return Array.prototype.filter.call(letter.querySelectorAll("mark.span"), function (mark) {
      return mark.dataset.spans.split(" ").some(function (name) { return spanBelongsTo(name, field); });
    });
  }

  function clearActive(letter) {
    letter.querySelectorAll(".active").forEach(function (node) { node.classList.remove("active"); });
  }

  function activate(letter, row, scroll) {
    clearActive(letter);
    row.classList.add("active");
    var marks = marksFor(letter, row.dataset.field);
    marks.forEach(function (mark) { mark.classList.add("active"); });
    if (scroll && marks.length) {
      marks[0].scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }

  document.querySelectorAll("section.letter").forEach(function (letter) {
    var pinned = null;
    letter.querySelectorAll("tr.field").forEach(function (row) {
      row.addEventListener("mouseenter", function () { activate(letter, row, false); });
      row.addEventListener("mouseleave", function () {
        if (pinned) { activate(letter, pinned, false); } else { clearActive(letter); }
      });
      row.addEventListener("click", function (event) {
        if (event.target.closest("details")) { return; }
        pinned = row;
        activate(letter, row, true);
      });
      row.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && event.target === row) { pinned = row; activate(letter, row, true); }
      });
    });
    letter.querySelectorAll("mark.span").forEach(function (mark) {
      mark.addEventListener("click", function () {
        var name = mark.dataset.spans.split(" ")[0];
        var row = Array.prototype.find.call(letter.querySelectorAll("tr.field"), function (candidate) {
          return spanBelongsTo(name, candidate.dataset.field);
        });
        if (row) { pinned = row; activate(letter, row, false); row.scrollIntoView({ block: "nearest" }); }
      });
    });
  });

  // After a rejected correction the page comes back with that field's form open: bring it into view.
  var rejected = document.querySelector("tr.field.rejected");
  if (rejected) {
    rejected.scrollIntoView({ block: "center" });
    var input = rejected.querySelector("form input:not([type=hidden]), form select, form textarea");
    if (input) { input.focus({ preventScroll: true }); }
  }

  var panel = document.getElementById("job-panel");
  if (panel && (panel.dataset.status === "queued" || panel.dataset.status === "running")) {
    pollJob(panel);
  }
})();
