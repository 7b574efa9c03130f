// Asks before a form that carries data-confirm is sent. The question is read from the attribute as text, so
// nothing in it (a relation or application name chosen by whoever created the table) is ever run as script;
// the Content-Security-Policy allows no inline script at all.
document.addEventListener('submit', function (event) {
  var form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm !== undefined && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
