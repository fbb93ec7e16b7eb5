/* Accessible names for the admin's JavaScript widgets (issue 13: axe-core serious violations).
   - select2 (autocomplete) leaves its combobox and textbox unnamed: give them their label.
   - SelectFilter2 (filter_horizontal) puts aria-label on a role-less <span>: make it an image.
   Runs after every other load handler (the widgets are built on DOMContentLoaded and load). */
window.addEventListener("load", function () {
  window.setTimeout(function () {
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var label = document.querySelector('label[for="' + select.id + '"]');
      var box = select.nextElementSibling;
      if (!label || !box) { return; }
      if (!label.id) { label.id = select.id + "-label"; }
      box.querySelectorAll('[role="combobox"], [role="textbox"]').forEach(function (el) {
        el.setAttribute("aria-labelledby", label.id);
      });
    });
    document.querySelectorAll(".help-tooltip[aria-label]:not([role])").forEach(function (el) {
      el.setAttribute("role", "img");
    });
  }, 0);
});
