// keyflow's one script: copy buttons, confirmation dialogs, and the key
// form showing only the scopes its chosen type may carry. Every page
// works without it except copying: a button that opens a dialog is a
// form that leads to a confirmation page when this script is absent.
(function () {
  "use strict";

  var statusTimer;
  function announce(message) {
    var status = document.getElementById("live-status");
    if (!status) return;
    status.textContent = message;
    clearTimeout(statusTimer);
    statusTimer = setTimeout(function () { status.textContent = ""; }, 4000);
  }

  function copy(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) return;
    var label = button.getAttribute("aria-label") || "Copy";
    var what = label.replace(/^Copy /, "");
    navigator.clipboard.writeText(target.textContent.trim()).then(function () {
      button.textContent = "Copied";
      announce(what + " copied to the clipboard");
      setTimeout(function () { button.textContent = "Copy"; }, 2000);
    }, function () {
      announce("Could not copy " + what + ": select it and copy it by hand");
    });
  }

  function openDialog(opener) {
    var dialog = document.getElementById(opener.getAttribute("data-dialog"));
    if (!dialog || typeof dialog.showModal !== "function") return false;
    dialog.showModal();
    // Focus goes into the dialog: its first choice, not the confirm button.
    var first = dialog.querySelector("input, select, textarea, button");
    if (first) first.focus();
    dialog.addEventListener("close", function () { opener.focus(); }, { once: true });
    return true;
  }

  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-copy], [data-dialog], [data-dialog-close]");
    if (!el) return;
    if (el.hasAttribute("data-copy")) {
      copy(el);
    } else if (el.hasAttribute("data-dialog")) {
      if (openDialog(el)) event.preventDefault();
    } else {
      var dialog = el.closest("dialog");
      if (dialog) dialog.close();
    }
  });

  // A scope the chosen key type may not carry is hidden and unchecked; the
  // server refuses it anyway, so without this script nothing is lost.
  function fitScopes(select) {
    var form = select.closest("form");
    if (!form) return;
    form.querySelectorAll("[data-key-types]").forEach(function (row) {
      var allowed = row.getAttribute("data-key-types").split(" ").indexOf(select.value) >= 0;
      row.hidden = !allowed;
      if (!allowed) row.querySelectorAll("input").forEach(function (i) { i.checked = false; });
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-key-type]")) fitScopes(event.target);
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-key-type]").forEach(fitScopes);
    if (!navigator.clipboard) return;
    document.querySelectorAll("button[data-copy]").forEach(function (b) {
      b.hidden = false;
    });
  });
})();
