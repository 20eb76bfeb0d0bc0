// Workers: labels, slots used, state, drain and undrain; one page at a time.
import { api, ApiError, query } from './api.js';
import { h, fmtAgo, fmtTime, notice, FrameBatch, debounce } from './dom.js';
import { watch } from './live.js';

const LIMIT = 100;

export function mount(root, { params, role }) {
  const cursors = [params.get('cursor')];
  let page = null;
  const confirming = new Set();
  const message = h('div');
  const tbody = h('tbody', { id: 'workers-body' });
  const prev = h('button', { type: 'button', id: 'prev', on: { click: () => { if (cursors.length > 1) { cursors.pop(); load(); } } } }, '← Previous');
  const next = h('button', { type: 'button', id: 'next', on: { click: () => { if (page?.cursor) { cursors.push(page.cursor); load(); } } } }, 'Next →');
  const pageInfo = h('span', { class: 'muted' });
  root.append(h('h1', {}, 'Workers'), message,
    h('table', { id: 'workers' }, h('thead', {}, h('tr', {}, ['Id', 'Host', 'Labels', 'Slots used', 'State', 'Heartbeat', 'Version', ''].map(t => h('th', {}, t)))), tbody),
    h('div', { class: 'pager' }, prev, pageInfo, next));
  const rows = new Map();
  const workers = new Map();

  async function act(id, action) {
    confirming.delete(id);
    try {
      await api(`/workers/${encodeURIComponent(id)}/${action}`, { method: 'POST' });
      message.replaceChildren();
      // The state shows once the agent or the store says so: re-read now rather than wait for the next change.
      load().catch(() => {});
    } catch (e) {
      const why = e instanceof ApiError && e.status === 404 && action === 'undrain'
        ? `${e.message} (a director without POST /v1/workers/{id}/undrain answers 404 too)`
        : e.message;
      message.replaceChildren(notice(`${action} of ${id} failed: ${why}`));
      update(id);
    }
  }

  function buttons(w) {
    if (role !== 'full') return [];
    if (w.state === 'draining') {
      return [h('button', { type: 'button', 'data-action': 'undrain', 'data-worker': w.id, on: { click: () => act(w.id, 'undrain') } }, 'Undrain')];
    }
    if (confirming.has(w.id)) {
      return [h('span', {}, 'Drain? '),
        h('button', { type: 'button', class: 'danger', 'data-action': 'confirm-drain', 'data-worker': w.id, on: { click: () => act(w.id, 'drain') } }, 'Yes, drain'),
        h('button', { type: 'button', 'data-action': 'keep', on: { click: () => { confirming.delete(w.id); update(w.id); } } }, 'No')];
    }
    return [h('button', { type: 'button', 'data-action': 'drain', 'data-worker': w.id, on: { click: () => { confirming.add(w.id); update(w.id); } } }, 'Drain')];
  }

  function row(w) {
    const used = w.slotsUsed;
    const meter = h('meter', { min: 0, max: w.slots, value: used ?? 0 });
    return h('tr', { 'data-id': w.id },
      h('td', { class: 'mono' }, w.id),
      h('td', {}, w.host),
      h('td', {}, Object.entries(w.labels ?? {}).map(([k, v]) => h('span', { class: 'label' }, `${k}=${v}`))),
      h('td', {}, used === undefined || used === null ? h('span', { class: 'muted', title: 'this agent does not report its load' }, `? / ${w.slots}`) : [meter, ` ${used} / ${w.slots}`]),
      h('td', { class: 'state' }, h('span', { class: `badge worker-${w.state}`, 'data-state': w.state }, w.state)),
      h('td', { title: fmtTime(w.heartbeatAt) }, fmtAgo(w.heartbeatAt)),
      h('td', {}, w.version),
      h('td', { class: 'actions' }, buttons(w)));
  }

  function update(id) {
    const w = workers.get(id);
    const current = rows.get(id);
    if (!w || !current) return;
    const r = row(w);
    current.replaceWith(r);
    rows.set(id, r);
  }

  function render() {
    rows.clear();
    workers.clear();
    tbody.replaceChildren(...page.items.map(w => { workers.set(w.id, w); const r = row(w); rows.set(w.id, r); return r; }));
    if (page.items.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No workers on this page.')));
    prev.disabled = cursors.length <= 1;
    next.disabled = !page.cursor;
    pageInfo.textContent = `page ${cursors.length} · ${page.items.length} workers · revision ${page.revision}`;
    root.setAttribute('data-loaded', 'true');
  }

  async function load() {
    try {
      page = await api(`/workers${query({ limit: LIMIT, cursor: cursors[cursors.length - 1] })}`);
      message.replaceChildren();
      render();
    } catch (e) {
      message.replaceChildren(notice(`Could not read workers: ${e.message}`));
      throw e;
    }
  }

  const reload = debounce(() => load().catch(() => {}), 2000);
  const batch = new FrameBatch(changes => {
    for (const [id, ev] of changes) {
      if (ev.deleted || !ev.worker) {
        if (rows.has(id)) reload();
        continue;
      }
      if (rows.has(id)) {
        workers.set(id, ev.worker);
        update(id);
      } else {
        // Ids are listed in order: a new worker within (or past the end of the last) page re-reads it.
        const items = page?.items ?? [];
        const first = cursors.length > 1 && items.length ? items[0].id : '';
        const last = items.length ? items[items.length - 1].id : '';
        if (id >= first && (id <= last || !page?.cursor)) reload();
      }
    }
  });
  const live = watch({
    filters: { type: 'worker' },
    onEvent: ev => { if (ev.type === 'worker' && ev.id) batch.put(ev.id, ev); },
    refresh: load,
  });
  load().catch(() => {});
  return () => { live.stop(); batch.cancel(); reload.cancel(); };
}
