// Schedules: list (paged), pause, resume, trigger.
import { api, query } from './api.js';
import { h, fmtTime, notice, FrameBatch, debounce } from './dom.js';
import { watch } from './live.js';

const LIMIT = 50;

export function mount(root, { params, role }) {
  const cursors = [params.get('cursor')];
  let page = null;
  const message = h('div');
  const tbody = h('tbody', { id: 'schedules-body' });
  const prev = h('button', { type: 'button', id: 'prev', on: { click: () => { if (cursors.length > 1) { cursors.pop(); load(); } } } }, '← Previous');
  const next = h('button', { type: 'button', id: 'next', on: { click: () => { if (page?.cursor) { cursors.push(page.cursor); load(); } } } }, 'Next →');
  const pageInfo = h('span', { class: 'muted' });
  root.append(h('h1', {}, 'Schedules'), message,
    h('table', { id: 'schedules' }, h('thead', {}, h('tr', {}, ['Id', 'Name', 'Cron', 'Zone', 'State', 'Next tick', 'Last tick', 'Fired / skipped / missed / by hand', ''].map(t => h('th', {}, t)))), tbody),
    h('div', { class: 'pager' }, prev, pageInfo, next));
  const rows = new Map();

  async function act(id, action) {
    try {
      const result = await api(`/schedules/${id}/${action}`, { method: 'POST' });
      message.replaceChildren(action === 'trigger' && result?.id
        ? notice(h('span', {}, 'Triggered job ', h('a', { href: `#/job/${result.id}` }, result.id)), 'note')
        : '');
      load().catch(() => {});
    } catch (e) {
      message.replaceChildren(notice(`${action} failed: ${e.message}`));
    }
  }

  function row(s) {
    const paused = s.spec.paused;
    const buttons = role !== 'full' ? [] : [
      paused
        ? h('button', { type: 'button', 'data-action': 'resume', on: { click: () => act(s.id, 'resume') } }, 'Resume')
        : h('button', { type: 'button', 'data-action': 'pause', on: { click: () => act(s.id, 'pause') } }, 'Pause'),
      h('button', { type: 'button', 'data-action': 'trigger', on: { click: () => act(s.id, 'trigger') } }, 'Trigger now'),
    ];
    return h('tr', { 'data-id': s.id },
      h('td', { class: 'mono' }, h('a', { href: `#/jobs?schedule=${s.id}`, title: 'its jobs' }, s.id)),
      h('td', {}, s.spec.name ?? ''),
      h('td', { class: 'mono' }, s.spec.cron),
      h('td', {}, s.spec.timeZone ?? 'UTC'),
      h('td', {}, h('span', { class: `badge ${paused ? 'paused' : 'sched-active'}` }, paused ? 'paused' : 'active')),
      h('td', {}, fmtTime(s.nextTick)),
      h('td', {}, fmtTime(s.lastTick)),
      h('td', {}, `${s.fired} / ${s.skipped} / ${s.missed} / ${s.triggered}`),
      h('td', { class: 'actions' }, buttons));
  }

  function render() {
    rows.clear();
    tbody.replaceChildren(...page.items.map(s => { const r = row(s); rows.set(s.id, r); return r; }));
    if (page.items.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No schedules.')));
    prev.disabled = cursors.length <= 1;
    next.disabled = !page.cursor;
    pageInfo.textContent = `page ${cursors.length} · ${page.items.length} schedules`;
    root.setAttribute('data-loaded', 'true');
  }

  async function load() {
    try {
      page = await api(`/schedules${query({ limit: LIMIT, cursor: cursors[cursors.length - 1] })}`);
      render();
    } catch (e) {
      message.replaceChildren(notice(`Could not read schedules: ${e.message}`));
      throw e;
    }
  }

  const reload = debounce(() => load().catch(() => {}), 2000);
  const batch = new FrameBatch(changes => {
    for (const [id, ev] of changes) {
      const current = rows.get(id);
      if (current && ev.schedule && !ev.deleted) {
        const r = row(ev.schedule);
        current.replaceWith(r);
        rows.set(id, r);
      } else {
        reload();
      }
    }
  });
  const live = watch({
    filters: { type: 'schedule' },
    onEvent: ev => { if (ev.type === 'schedule' && ev.id) batch.put(ev.id, ev); },
    refresh: load,
    pollMs: 5000,
  });
  load().catch(() => {});
  return () => { live.stop(); batch.cancel(); reload.cancel(); };
}
