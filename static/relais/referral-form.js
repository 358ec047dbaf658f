/* New referral page: show, before sending, whether the holder's consent covers the chosen partner. */
(function () {
  "use strict";
  var select = document.getElementById("id_to_organisation");
  var output = document.getElementById("consent-check");
  if (!select || !output) return;
  function show() {
    var option = select.options[select.selectedIndex];
    if (!option || !option.value) { output.textContent = ""; output.className = "consent-check"; return; }
    var covered = option.dataset.covered === "1";
    output.textContent = covered ? output.dataset.ok : output.dataset.ko;
    output.className = "consent-check " + (covered ? "consent-check--ok" : "consent-check--ko");
  }
  select.addEventListener("change", show);
  if (!output.textContent.trim()) show();
})();
