// Jobs: filters (state, group, schedule), one page at a time (the API's cursors), live updates.
import { api, query } from './api.js';
import { h, fmtTime, fmtAgo, stateBadge, notice, FrameBatch, debounce } from './dom.js';
import { watch } from './live.js';

const STATES = ['Waiting', 'Pending', 'Assigned', 'Running', 'Succeeded', 'Failed', 'Cancelled', 'Skipped'];
const LIMIT = 50;

/** The API's list order: bucket (the id's last two hex digits), then id. */
export const orderKey = id => id.slice(-2) + id;

/** Whether a job (as GET /v1/jobs/{id} shows it) passes the filters. */
export function matches(job, f) {
  return (!f.state || job.state === f.state) && (!f.group || job.spec?.group === f.group) && (!f.schedule || job.scheduleId === f.schedule);
}

function row(job) {
  return h('tr', { 'data-id': job.id },
    h('td', { class: 'mono' }, h('a', { href: `#/job/${job.id}` }, job.id)),
    h('td', {}, job.spec?.name ?? ''),
    h('td', {}, job.spec?.executor ?? ''),
    h('td', { class: 'state' }, stateBadge(job.state), job.cancelRequested && !['Succeeded', 'Failed', 'Cancelled', 'Skipped'].includes(job.state) ? h('span', { class: 'muted' }, ' cancelling') : ''),
    h('td', {}, String(job.attempt)),
    h('td', {}, job.workerId ?? ''),
    h('td', {}, job.spec?.group ?? ''),
    h('td', { title: fmtTime(job.createdAt) }, fmtAgo(job.createdAt)),
    h('td', { title: fmtTime(job.finishedAt) }, job.finishedAt ? fmtAgo(job.finishedAt) : ''));
}

export function mount(root, { params, navigate }) {
  const f = { state: params.get('state') ?? '', group: params.get('group') ?? '', schedule: params.get('schedule') ?? '' };
  const cursors = [params.get('cursor')]; // cursors[i] reads page i; the first is null (or from the URL)
  let page = null;

  const state = h('select', { name: 'state', id: 'filter-state' }, h('option', { value: '' }, 'any state'),
    STATES.map(s => h('option', { value: s, selected: s === f.state }, s)));
  const group = h('input', { name: 'group', id: 'filter-group', placeholder: 'FIFO group', value: f.group, maxlength: 128 });
  const schedule = h('input', { name: 'schedule', id: 'filter-schedule', placeholder: 'schedule id', value: f.schedule, size: 34, pattern: '[0-9a-f]{32}' });
  const form = h('form', { class: 'filters', on: { submit: e => {
    e.preventDefault();
    navigate(`#/jobs${query({ state: state.value, group: group.value.trim(), schedule: schedule.value.trim() })}`);
  } } }, state, group, schedule, h('button', { type: 'submit' }, 'Filter'));
  const message = h('div');
  const tbody = h('tbody', { id: 'jobs-body' });
  const prev = h('button', { type: 'button', id: 'prev', on: { click: () => { if (cursors.length > 1) { cursors.pop(); load(); } } } }, '← Previous');
  const next = h('button', { type: 'button', id: 'next', on: { click: () => { if (page?.cursor) { cursors.push(page.cursor); load(); } } } }, 'Next →');
  const pageInfo = h('span', { class: 'muted' });
  root.append(h('h1', {}, 'Jobs'), form, message,
    h('table', { id: 'jobs' }, h('thead', {}, h('tr', {}, ['Id', 'Name', 'Executor', 'State', 'Attempt', 'Worker', 'Group', 'Created', 'Finished'].map(t => h('th', {}, t)))), tbody),
    h('div', { class: 'pager' }, prev, pageInfo, next));

  const rows = new Map(); // id → <tr> of the page on screen

  function render() {
    rows.clear();
    tbody.replaceChildren(...page.items.map(job => { const r = row(job); rows.set(job.id, r); return r; }));
    if (page.items.length === 0) {
      tbody.append(h('tr', {}, h('td', { colspan: 9, class: 'muted' }, page.cursor
        ? 'Nothing matched in the part of the store this page examined; Next looks further.'
        : 'No jobs.')));
    }
    prev.disabled = cursors.length <= 1;
    next.disabled = !page.cursor;
    pageInfo.textContent = `page ${cursors.length} · ${page.items.length} jobs · revision ${page.revision}`;
    root.setAttribute('data-loaded', 'true');
  }

  async function load() {
    try {
      page = await api(`/jobs${query({ ...f, limit: LIMIT, cursor: cursors[cursors.length - 1] })}`);
      message.replaceChildren();
      render();
    } catch (e) {
      message.replaceChildren(notice(`Could not read jobs: ${e.message}`));
      throw e;
    }
  }

  // Whether a job not on screen belongs on this page: its place in the order is within the page's range
  // (or past it on a page that is the last one).
  function inRange(id) {
    if (!page || page.items.length === 0) return !page?.cursor;
    const k = orderKey(id);
    const first = cursors.length > 1 ? orderKey(page.items[0].id) : '';
    const last = orderKey(page.items[page.items.length - 1].id);
    return k >= first && (k <= last || !page.cursor);
  }

  // A change of membership (a job enters or leaves the page) re-reads the page, at most every 2 s; a change
  // to a row on screen is applied in place, batched per frame.
  const reload = debounce(() => load().catch(() => {}), 2000);
  const batch = new FrameBatch(changes => {
    for (const [id, ev] of changes) {
      const current = rows.get(id);
      if (ev.deleted || !ev.job || !matches(ev.job, f)) {
        if (current) reload();
        continue;
      }
      if (current) {
        const updated = row(ev.job);
        current.replaceWith(updated);
        rows.set(id, updated);
      } else if (inRange(id)) {
        reload();
      }
    }
  });
  const live = watch({
    // Not the state: a job leaving the filtered state must still reach the page, to leave it. A group never changes.
    filters: { type: 'job', group: f.group },
    onEvent: ev => { if (ev.type === 'job' && ev.id) batch.put(ev.id, ev); },
    refresh: load,
  });
  load().catch(() => {});
  return () => { live.stop(); batch.cancel(); reload.cancel(); };
}
