// The dashboard's router: one page per hash path (#/runs, #/runs/RUN, #/escalations, #/spend, #/keys, #/login).
import { api, session } from './api.js';
import { replace } from './dom.js';
import { renderEscalations } from './views/escalations.js';
import { renderKeys } from './views/keys.js';
import { renderLogin } from './views/login.js';
import { renderRun } from './views/run-detail.js';
import { renderRuns } from './views/runs.js';
import { renderSpend } from './views/spend.js';

const routes = [
  { pattern: /^\/login$/, page: 'login', render: renderLogin },
  { pattern: /^\/runs$/, page: 'runs', render: renderRuns },
  { pattern: /^\/runs\/([^/]+)$/, page: 'runs', render: renderRun },
  { pattern: /^\/escalations$/, page: 'escalations', render: renderEscalations },
  { pattern: /^\/spend$/, page: 'spend', render: renderSpend },
  { pattern: /^\/keys$/, page: 'keys', render: renderKeys },
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
/** What the current page stops when it is left (its polling). */
let leave;

function route() {
  const [path, queryText = ''] = (location.hash.slice(1) || '/runs').split('?');
  if (session.token === null && path !== '/login') {
    location.hash = '#/login';
    return;
  }
  leave?.();
  leave = undefined;
  const match = routes.map((candidate) => ({ candidate, found: candidate.pattern.exec(path) })).find(({ found }) => found !== null);
  nav.hidden = session.token === null;
  document.getElementById('signed-in').textContent = session.token === null ? '' : `signed in as ${session.name}`;
  for (const link of nav.querySelectorAll('a[data-page]')) {
    if (link.dataset.page === match?.candidate.page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (match === undefined) {
    replace(main);
    location.hash = '#/runs';
    return;
  }
  const params = match.found.slice(1).map((part) => decodeURIComponent(part));
  leave = match.candidate.render(main, { params, query: new URLSearchParams(queryText) }) ?? undefined;
  if (session.token !== null) void refreshWaitingCount();
}

/** The number beside Escalations: how many runs wait for a person. */
async function refreshWaitingCount() {
  const counter = document.getElementById('waiting-count');
  try {
    const { escalations } = await api('/escalations');
    counter.textContent = escalations.length === 0 ? '' : String(escalations.length);
  } catch {
    counter.textContent = '';
  }
}

document.getElementById('sign-out').addEventListener('click', () => {
  session.signOut();
  location.hash = '#/login';
});
window.addEventListener('hashchange', route);
window.addEventListener('keel-decided', () => void refreshWaitingCount());
route();
