// Start-up: sign-in (a token pasted, or handed over in the URL fragment), the tabs, and the way
// back to sign-in whenever the API refuses the token.
import { api, token, onUnauthorized, ApiError } from './client.js';
import { h } from './dom.js';
import { Overview } from './overview.js';
import { placesView, businessesView, domainsView, sitemapsView, pagesView, scansView, jobsView } from './views.js';

const $ = (id) => document.getElementById(id);
let views = null, current = null;

// A token in the fragment (`/#token=...`, as ./scripts/run prints it) never reaches the server or
// its logs; it is taken into this tab's storage and removed from the address at once.
function takeTokenFromFragment() {
  const m = /^#token=([^&]+)/.exec(location.hash);
  if (!m) return false;
  token.set(decodeURIComponent(m[1]));
  history.replaceState(null, '', location.pathname + location.search + '#overview');
  return true;
}

function buildViews() {
  const scans = scansView();
  const list = [new Overview(), placesView(), businessesView(),
    domainsView((jobId, name) => { location.hash = '#scans'; scans.watch(jobId, name); }),
    sitemapsView(), pagesView(), scans, jobsView()];
  const nav = $('tabs');
  nav.replaceChildren(...list.map((v) => h('a', { href: '#' + v.id, id: 'tab-' + v.id }, v.title)));
  for (const v of list) $('views').append(v.el);
  return list;
}

function route() {
  if (!views) return;
  const id = location.hash.replace(/^#/, '') || 'overview';
  const next = views.find((v) => v.id === id) || views[0];
  if (next === current) return;
  if (current) current.hide();
  current = next;
  for (const v of views) {
    const tab = $('tab-' + v.id);
    if (v === next) tab.setAttribute('aria-current', 'page'); else tab.removeAttribute('aria-current');
  }
  document.title = `${next.title} · ScraperSky`;
  next.show();
}

function showSignIn(text) {
  if (current) current.hide();
  current = null;
  if (views) for (const v of views) v.el.hidden = true;
  $('tabs').hidden = true;
  $('sign-out').hidden = true;
  $('signin').hidden = false;
  $('signin-message').textContent = text || '';
  $('token-input').focus();
}

async function signIn() {
  // One authenticated call decides: the API is the only judge of a token.
  try {
    await api('GET', '/api/v3/queues');
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) showSignIn('The server could not be reached: ' + e.message);
    return;
  }
  $('signin').hidden = true;
  $('tabs').hidden = false;
  $('sign-out').hidden = false;
  if (!views) views = buildViews();
  current = null;
  route();
}

onUnauthorized((detail) => {
  token.clear();
  showSignIn('The server refused the token' + (detail ? ` (${detail})` : '') +
    '. It may have expired or been signed with another secret. Paste a fresh one.');
});

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = $('token-input').value.trim().replace(/^Bearer\s+/i, '');
  if (!t) return;
  token.set(t);
  $('token-input').value = '';
  signIn();
});
$('sign-out').addEventListener('click', () => { token.clear(); showSignIn('Signed out.'); });
window.addEventListener('hashchange', () => {
  if (takeTokenFromFragment()) signIn();
  else if (token.get() && !$('tabs').hidden) route();
});

takeTokenFromFragment();
if (token.get()) signIn(); else showSignIn('');
