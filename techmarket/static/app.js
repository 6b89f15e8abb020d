// Registration form: show only the fields that apply to the chosen account type.
(function () {
  const form = document.getElementById("register-form");
  if (!form) return;
  const type = form.querySelector("#account_type");
  const withOrg = form.querySelector("#broker_with_org");
  const orgFields = document.getElementById("org-fields");
  function update() {
    form.querySelectorAll("[data-show-for]").forEach(function (el) {
      el.classList.toggle("is-hidden", el.dataset.showFor !== type.value);
    });
    const needsOrg = type.value !== "broker" || withOrg.checked;
    orgFields.classList.toggle("is-hidden", !needsOrg);
  }
  type.addEventListener("change", update);
  withOrg.addEventListener("change", update);
  update();
})();
