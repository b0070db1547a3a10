// Small progressive enhancements; every page works without them.
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-autosubmit]");
  if (select) select.form.requestSubmit();
});

// A submit button that needs at least one ticked checkbox of a group stays disabled until then.
function updateNeedsChecked(root) {
  root.querySelectorAll("button[data-needs-checked]").forEach((button) => {
    const name = button.dataset.needsChecked;
    button.disabled = !button.form.querySelector(`input[name="${name}"]:checked`);
  });
}
document.addEventListener("DOMContentLoaded", () => updateNeedsChecked(document));
document.addEventListener("change", (event) => {
  if (event.target.form) updateNeedsChecked(event.target.form);
});

// "Copy" buttons copy the value of the field they point at.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  if (!field) return;
  await navigator.clipboard.writeText(field.value);
  const label = button.textContent;
  button.textContent = button.dataset.copied;
  setTimeout(() => { button.textContent = label; }, 1500);
});
