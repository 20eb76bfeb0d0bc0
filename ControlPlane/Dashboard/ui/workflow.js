// One workflow: its state and counts, its jobs as a graph drawn in layers (each node right of what it depends on),
// and cancel. Re-read every few seconds until it has finished: GET /v1/workflows/{id} reads every job of it, so the
// pause grows with its size.
import { api, ApiError } from './api.js';
import { h, fmtTime, stateBadge, notice } from './dom.js';

// Graphs with more nodes than this are listed, not drawn.
const MAX_DRAWN = 400;

// Layer of each node: 0 for a node without dependencies in the workflow, else one more than its deepest dependency.
// The API refuses cycles, so the walk ends; it is iterative so a 10,000-node chain cannot overflow the stack.
function layers(nodes) {
  const byJob = new Map(nodes.map(n => [n.job, n]));
  const layer = new Map();
  for (const start of nodes) {
    const stack = [start];
    while (stack.length) {
      const node = stack[stack.length - 1];
      if (layer.has(node.job)) { stack.pop(); continue; }
      const parents = (node.dependsOn ?? []).map(d => byJob.get(d.job)).filter(Boolean);
      const pending = parents.filter(p => !layer.has(p.job));
      if (pending.length) { stack.push(...pending); continue; }
      layer.set(node.job, parents.length ? 1 + Math.max(...parents.map(p => layer.get(p.job))) : 0);
      stack.pop();
    }
  }
  return layer;
}

function graph(nodes) {
  const layer = layers(nodes);
  const columns = [];
  for (const n of nodes) (columns[layer.get(n.job)] ??= []).push(n);
  const boxW = 120, boxH = 26, gapX = 50, gapY = 10;
  const at = new Map();
  columns.forEach((column, x) => column.forEach((n, y) => at.set(n.job, { x: x * (boxW + gapX), y: y * (boxH + gapY) })));
  const width = columns.length * (boxW + gapX) - gapX;
  const height = Math.max(...columns.map(c => c.length)) * (boxH + gapY) - gapY;
  const svg = h('svg:svg', { viewBox: `-2 -2 ${width + 4} ${height + 4}`, width: width + 4, height: height + 4, class: 'workflow-graph', role: 'img', 'aria-label': 'workflow graph' });
  for (const n of nodes) {
    for (const d of n.dependsOn ?? []) {
      const from = at.get(d.job);
      if (!from) continue; // a job outside the workflow
      const to = at.get(n.job);
      svg.append(h('svg:line', { x1: from.x + boxW, y1: from.y + boxH / 2, x2: to.x, y2: to.y + boxH / 2, class: `edge on-${String(d.on ?? 'Success').toLowerCase()}` }));
    }
  }
  for (const n of nodes) {
    const { x, y } = at.get(n.job);
    const state = String(n.state ?? 'Removed').toLowerCase();
    svg.append(h('svg:a', { href: `#/job/${n.job}`, 'data-ref': n.ref ?? '', 'data-state': n.state ?? 'Removed' },
      h('svg:rect', { x, y, width: boxW, height: boxH, rx: 4, class: `node state-${state}` }),
      h('svg:text', { x: x + 6, y: y + 17, class: 'node-label' }, (n.ref ?? n.job).slice(0, 16)),
      h('svg:title', {}, `${n.ref ?? n.job}: ${n.state ?? 'removed'}${n.error ? ` — ${n.error}` : ''}`)));
  }
  return h('div', { class: 'graph-scroll' }, svg);
}

export function mount(root, { params, role }) {
  const id = params.get('id');
  const head = h('div', { class: 'job-head' });
  const message = h('div');
  const body = h('div', { class: 'grid' });
  root.append(head, message, body);
  let workflow = null;
  let confirming = false;
  let timer = null;
  let stopped = false;

  function actions() {
    if (role !== 'full' || !workflow || workflow.finished || workflow.cancelRequested || workflow.state === 'Aborted') return [];
    if (!confirming) return [h('button', { type: 'button', class: 'danger', 'data-action': 'cancel', on: { click: () => { confirming = true; render(); } } }, 'Cancel workflow')];
    return [
      h('span', {}, 'Cancel what has not run? '),
      h('button', { type: 'button', class: 'danger', 'data-action': 'confirm-cancel', on: { click: cancel } }, 'Yes, cancel'),
      h('button', { type: 'button', 'data-action': 'keep', on: { click: () => { confirming = false; render(); } } }, 'No'),
    ];
  }

  async function cancel() {
    confirming = false;
    try {
      workflow = await api(`/workflows/${id}`, { method: 'DELETE' });
      message.replaceChildren();
    } catch (e) {
      message.replaceChildren(notice(`Cancel failed: ${e.message}`));
    }
    render();
  }

  function render() {
    const w = workflow;
    const counts = Object.entries(w.counts ?? {}).filter(([, n]) => n > 0).map(([s, n]) => h('span', { class: 'count', 'data-count': s }, stateBadge(s), ` ${n}`));
    head.replaceChildren(
      h('h1', {}, 'Workflow ', h('span', { class: 'mono', id: 'workflow-id' }, id), w.name ? ` · ${w.name}` : ''),
      h('div', { class: 'job-state', id: 'workflow-state', 'data-finished': String(w.finished) },
        h('span', { class: 'badge', 'data-state': w.state }, w.state), w.cancelRequested ? ' · cancelled' : '',
        ` · ${w.jobs.length} jobs · created ${fmtTime(w.createdAt)}`, w.error ? h('span', { class: 'error-text' }, ` · ${w.error}`) : ''),
      h('div', { class: 'counts' }, counts),
      h('div', { class: 'actions' }, actions()));
    const rows = w.jobs.map(n => h('tr', { 'data-ref': n.ref ?? '' },
      h('td', {}, n.ref ?? '—'), h('td', {}, h('a', { href: `#/job/${n.job}`, class: 'mono' }, n.job)), h('td', {}, n.state ? stateBadge(n.state) : 'removed'),
      h('td', {}, (n.dependsOn ?? []).map(d => `${d.ref ?? d.job.slice(0, 8)}${d.on && d.on !== 'Success' ? ` (${d.on.toLowerCase()})` : ''}`).join(', ')),
      h('td', { class: 'error-text' }, n.error ?? '')));
    body.replaceChildren(
      h('section', { class: 'card wide', id: 'workflow-graph' }, h('h2', {}, 'Graph'),
        w.jobs.length <= MAX_DRAWN ? graph(w.jobs) : h('p', { class: 'muted' }, `${w.jobs.length} jobs: too many to draw; listed below.`)),
      h('section', { class: 'card wide' }, h('h2', {}, 'Jobs'),
        h('table', {}, h('thead', {}, h('tr', {}, ['Ref', 'Job', 'State', 'Depends on', 'Error'].map(x => h('th', {}, x)))), h('tbody', { id: 'workflow-jobs' }, rows))));
    root.setAttribute('data-loaded', 'true');
  }

  async function load() {
    try {
      workflow = await api(`/workflows/${id}`);
      message.replaceChildren();
      render();
    } catch (e) {
      message.replaceChildren(notice(e instanceof ApiError && e.status === 404 ? `No workflow ${id} (removed after its jobs, or never submitted).` : `Could not read the workflow: ${e.message}`));
    }
    if (stopped || workflow?.finished) return;
    // 2 s for small graphs, up to 20 s for 10,000 jobs (each read costs the director one store read per job).
    const pause = Math.min(20000, 2000 + (workflow?.jobs.length ?? 0) * 2);
    timer = setTimeout(load, pause);
  }

  load();
  return () => { stopped = true; clearTimeout(timer); };
}
