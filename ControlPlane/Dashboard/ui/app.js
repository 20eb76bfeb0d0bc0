// The dashboard's shell: asks for a token when needed, learns its role, routes #/page to a page module.
import { api, auth, ApiError } from './api.js';
import { onLiveState } from './live.js';
import * as overview from './overview.js';
import * as jobs from './jobs.js';
import * as job from './job.js';
import * as workers from './workers.js';
import * as schedules from './schedules.js';
import * as workflow from './workflow.js';

const pages = { overview, jobs, job, workers, schedules, workflow };
const view = document.getElementById('view');
const login = document.getElementById('login');
const tokenInput = document.getElementById('token');
const loginError = document.getElementById('login-error');
const roleBadge = document.getElementById('role');
const liveBadge = document.getElementById('live');
const signout = document.getElementById('signout');

let role = null;
let unmount = null;

function showLogin(reason) {
  if (unmount) { unmount(); unmount = null; }
  role = null;
  view.replaceChildren();
  view.removeAttribute('data-loaded');
  document.body.dataset.role = '';
  roleBadge.textContent = '';
  login.hidden = false;
  loginError.textContent = reason ?? '';
  tokenInput.focus();
}

auth.onUnauthorized = () => {
  const had = auth.token;
  auth.clear();
  if (role !== null || had) showLogin(had ? 'The token was not accepted (or is no longer): enter one.' : '');
};

async function whoami() {
  try {
    const me = await api('/whoami');
    return me.role;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    // An older director has no /v1/whoami: assume read-only, so no button is offered that could be refused.
    if (e instanceof ApiError && e.status === 404) return 'read-only';
    throw e;
  }
}

async function start() {
  let who;
  try {
    who = await whoami();
  } catch (e) {
    view.replaceChildren(Object.assign(document.createElement('div'), { className: 'notice error', textContent: `The director did not answer: ${e.message}` }));
    return;
  }
  if (who === null) { showLogin(); return; }
  role = who;
  login.hidden = true;
  document.body.dataset.role = role;
  roleBadge.textContent = role === 'full' ? 'full access' : 'read-only';
  roleBadge.className = `role ${role}`;
  signout.hidden = !auth.token;
  route();
}

function route() {
  if (role === null) return;
  const hash = location.hash.replace(/^#\/?/, '') || 'overview';
  const [path, search] = hash.split('?');
  const [name, id] = path.split('/');
  const params = new URLSearchParams(search ?? '');
  if (id) params.set('id', decodeURIComponent(id));
  const page = pages[name] ?? overview;
  if (unmount) unmount();
  view.replaceChildren();
  view.removeAttribute('data-loaded');
  view.dataset.page = pages[name] ? name : 'overview';
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === (name === 'job' || name === 'workflow' ? 'jobs' : name));
  unmount = page.mount(view, { params, role, navigate: to => { location.hash = to; } });
}

login.addEventListener('submit', async e => {
  e.preventDefault();
  const token = tokenInput.value.trim();
  if (!token) return;
  auth.set(token);
  loginError.textContent = '';
  try {
    const who = await whoami();
    if (who === null) { loginError.textContent = 'The token was not accepted.'; auth.clear(); return; }
  } catch (err) {
    loginError.textContent = `The director did not answer: ${err.message}`;
    return;
  }
  tokenInput.value = '';
  start();
});

signout.addEventListener('click', () => { auth.clear(); showLogin('Token forgotten.'); });
window.addEventListener('hashchange', route);

const liveText = { live: 'live', polling: 'polling', connecting: 'connecting…', retrying: 'reconnecting…' };
onLiveState((state, detail) => {
  liveBadge.textContent = state === 'polling' ? `polling every ${Math.round(detail / 1000)} s` : liveText[state] ?? state;
  liveBadge.dataset.state = state;
  liveBadge.title = state === 'polling' ? 'This director has no event stream (GET /v1/events): the page re-reads what it shows.' : 'Server-Sent Events from GET /v1/events';
});

start();
