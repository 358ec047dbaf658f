/* New referral page: show, before sending, whether the holder's consent covers the chosen partner,
   and offer the chosen partner's services only (without JavaScript, every partner's are listed,
   the chosen one's first once the form comes back). */
(function () {
  "use strict";
  var select = document.getElementById("id_to_organisation");
  var output = document.getElementById("consent-check");
  var services = document.getElementById("id_service");
  if (!select || !output) return;
  function show() {
    var option = select.options[select.selectedIndex];
    if (!option || !option.value) { output.textContent = ""; output.className = "consent-check"; return; }
    var covered = option.dataset.covered === "1";
    output.textContent = covered ? output.dataset.ok : output.dataset.ko;
    output.className = "consent-check " + (covered ? "consent-check--ok" : "consent-check--ko");
  }
  function filterServices() {
    if (!services) return;
    var option = select.options[select.selectedIndex];
    var name = option && option.value ? option.dataset.name : null;
    var groups = services.getElementsByTagName("optgroup");
    for (var i = 0; i < groups.length; i++) {
      var other = name !== null && groups[i].label !== name;
      groups[i].hidden = other;
      groups[i].disabled = other;
    }
    var chosen = services.options[services.selectedIndex];
    if (chosen && chosen.parentNode.tagName === "OPTGROUP" && chosen.parentNode.disabled) services.value = "";
  }
  select.addEventListener("change", show);
  select.addEventListener("change", filterServices);
  if (!output.textContent.trim()) show();
  filterServices();
})();
