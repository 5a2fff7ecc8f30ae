// SPDX-License-Identifier: MIT
// A tiny client-side router: every route is answered by index.html, which renders here.
(function () {
  const base = new URL(document.baseURI).pathname;
  const view = document.getElementById('view');
  function render() {
    const route = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : location.pathname;
    if (route === '' || route === '/') view.textContent = 'Home';
    else if (route === 'about') view.textContent = 'About this app (served from ' + base + ')';
    else if (route.startsWith('users/')) view.textContent = 'User ' + route.slice('users/'.length);
    else view.textContent = 'Not found: ' + route;
  }
  document.addEventListener('click', function (e) {
    const a = e.target.closest('a[data-route]');
    if (!a) return;
    e.preventDefault();
    history.pushState(null, '', a.href);
    render();
  });
  window.addEventListener('popstate', render);
  render();
})();
