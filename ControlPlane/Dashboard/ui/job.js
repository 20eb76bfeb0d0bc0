// One job: spec, the attempt timeline, output tail, explain, cancel.
import { api, ApiError } from './api.js';
import { h, fmtTime, fmtDuration, stateBadge, notice, FrameBatch, debounce } from './dom.js';
import { watch } from './live.js';

const TERMINAL = ['Succeeded', 'Failed', 'Cancelled', 'Skipped'];

// One bar per phase of the current attempt: queued (created → assigned), assigned (→ started), running (→ finished or now).
function timeline(job, seen) {
  const t = iso => (iso ? new Date(iso).getTime() : null);
  const created = t(job.createdAt);
  const assigned = t(job.assignedAt);
  const started = t(job.startedAt);
  const finished = t(job.finishedAt);
  const end = finished ?? Date.now();
  const span = Math.max(1, end - created);
  const phases = [
    ['queued', created, assigned ?? (job.state === 'Pending' ? end : null)],
    ['assigned', assigned, started ?? (job.state === 'Assigned' ? end : null)],
    ['running', started, started ? end : null],
  ].filter(([, a, b]) => a !== null && b !== null && b >= a);
  const width = 600;
  const svg = h('svg:svg', { viewBox: `0 0 ${width} 26`, preserveAspectRatio: 'none', class: 'timeline', role: 'img', 'aria-label': 'attempt timeline' });
  for (const [name, a, b] of phases) {
    const x = ((a - created) / span) * width;
    const w = Math.max(2, ((b - a) / span) * width);
    svg.append(h('svg:rect', { x: x.toFixed(1), y: 4, width: w.toFixed(1), height: 18, class: `phase ${name}` },
      h('svg:title', {}, `${name}: ${fmtDuration(b - a)}`)));
  }

  const rows = seen.map(a => h('tr', { 'data-attempt': a.attempt },
    h('td', {}, String(a.attempt)), h('td', {}, a.workerId ?? ''), h('td', {}, String(a.epoch)), h('td', {}, `${a.epoch}/${a.attempt}`),
    h('td', {}, fmtTime(a.assignedAt)), h('td', {}, fmtTime(a.startedAt)), h('td', {}, a.state)));
  return h('div', {},
    svg,
    h('div', { class: 'ends muted' }, h('span', {}, fmtTime(job.createdAt)), h('span', {}, `${fmtDuration(end - created)} · `, finished ? fmtTime(job.finishedAt) : 'now')),
    h('div', { class: 'legend' }, ['queued', 'assigned', 'running'].map(p => h('span', { class: `key ${p}` }, p))),
    h('table', { class: 'attempts' },
      h('thead', {}, h('tr', {}, ['Attempt', 'Worker', 'Epoch', 'Fencing token', 'Assigned', 'Started', 'Last state'].map(x => h('th', {}, x)))),
      h('tbody', {}, rows)),
    h('p', { class: 'muted' }, job.attempt > 1 || job.interruptions > 0
      ? `The API keeps only the current attempt (${job.attempt}, ${job.interruptions} interruption(s) not counted against maxAttempts): earlier attempts are listed only if this page saw them.`
      : 'The API keeps only the current attempt; attempts this page sees are added as they happen.'));
}

export function mount(root, { params, role }) {
  const id = params.get('id');
  const head = h('div', { class: 'job-head' });
  const message = h('div');
  const sections = {
    timeline: h('section', { class: 'card wide' }, h('h2', {}, 'Attempts')),
    explain: h('section', { class: 'card wide', id: 'explain' }, h('h2', {}, 'Explain')),
    output: h('section', { class: 'card wide' }, h('h2', {}, 'Output (tail)')),
    spec: h('section', { class: 'card wide' }, h('h2', {}, 'Spec')),
  };
  root.append(head, message, h('div', { class: 'grid' }, Object.values(sections)));
  const fill = (box, ...content) => box.replaceChildren(box.firstChild, ...content);

  let job = null;
  let confirming = false;
  const seen = []; // attempts seen by this page: {attempt, epoch, workerId, ...}

  function remember(j) {
    if (!j.workerId && j.state === 'Pending') return;
    const last = seen[seen.length - 1];
    const entry = { attempt: j.attempt, epoch: j.epoch, workerId: j.workerId, assignedAt: j.assignedAt, startedAt: j.startedAt, state: j.state };
    if (last && last.attempt === j.attempt && last.epoch === j.epoch && last.workerId === j.workerId) seen[seen.length - 1] = { ...last, ...entry };
    else seen.push(entry);
  }

  function actions() {
    if (role !== 'full' || !job || TERMINAL.includes(job.state)) return [];
    if (job.cancelRequested) return [h('span', { class: 'muted' }, 'cancellation requested…')];
    if (!confirming) {
      return [h('button', { type: 'button', class: 'danger', 'data-action': 'cancel', on: { click: () => { confirming = true; render(); } } }, 'Cancel job')];
    }
    return [
      h('span', {}, 'Cancel this job? '),
      h('button', { type: 'button', class: 'danger', 'data-action': 'confirm-cancel', on: { click: cancel } }, 'Yes, cancel'),
      h('button', { type: 'button', 'data-action': 'keep', on: { click: () => { confirming = false; render(); } } }, 'No'),
    ];
  }

  async function cancel() {
    confirming = false;
    try {
      job = await api(`/jobs/${id}`, { method: 'DELETE' });
      remember(job);
      message.replaceChildren();
    } catch (e) {
      message.replaceChildren(notice(e instanceof ApiError && e.status === 409 ? 'The job has already finished.' : `Cancel failed: ${e.message}`));
    }
    render();
    explain();
  }

  function render() {
    head.replaceChildren(
      h('h1', {}, 'Job ', h('span', { class: 'mono', id: 'job-id' }, id)),
      h('div', { class: 'job-state', id: 'job-state' }, stateBadge(job.state), ` attempt ${job.attempt} of ${job.spec.maxAttempts}`,
        job.workerId ? ` on ${job.workerId}` : '', ` · epoch ${job.epoch}`, job.exitCode !== undefined && job.exitCode !== null ? ` · exit ${job.exitCode}` : '',
        job.waitingFor ? h('span', { id: 'waiting-for' }, ` · waiting for ${job.waitingFor}`) : ''),
      h('div', { class: 'actions' }, actions()));
    fill(sections.timeline, timeline(job, seen));
    fill(sections.output, job.output ? h('pre', { class: 'output', id: 'output' }, job.output) : h('p', { class: 'muted' }, 'No output yet.'),
      job.error ? h('p', { class: 'error-text' }, job.error) : '');
    fill(sections.spec, h('pre', { class: 'spec' }, JSON.stringify(job.spec, null, 2)),
      (job.spec.dependsOn ?? []).length ? h('p', {}, 'Depends on ', ...job.spec.dependsOn.flatMap((d, i) => [i ? ', ' : '',
        h('a', { href: `#/job/${d.job}`, class: 'mono' }, d.job), ` (${String(d.on ?? 'Success').toLowerCase()})`])) : '',
      job.workflowId ? h('p', {}, 'Node ', h('b', {}, job.workflowRef ?? ''), ' of workflow ', h('a', { href: `#/workflow/${job.workflowId}`, class: 'mono', id: 'workflow-link' }, job.workflowId)) : '',
      job.scheduleId ? h('p', {}, 'Created by schedule ', h('a', { href: `#/jobs?schedule=${job.scheduleId}` }, job.scheduleId), ` for ${fmtTime(job.scheduledFor)}`) : '',
      // The job's trace (submission, placements, runs) in whatever tracing backend the cluster exports to.
      job.traceId ? h('p', {}, 'Trace ', h('span', { class: 'mono', id: 'trace-id' }, job.traceId)) : '');
    root.setAttribute('data-loaded', 'true');
  }

  async function explain() {
    try {
      const x = await api(`/jobs/${id}/explain`);
      fill(sections.explain, h('p', {}, x.summary), h('ul', {}, x.reasons.map(r => h('li', { 'data-code': r.code }, h('code', {}, r.code), ' ', r.message))));
    } catch (e) {
      fill(sections.explain, notice(`Explain unavailable: ${e.message}`, 'note'));
    }
  }

  async function load() {
    let fresh;
    try {
      fresh = await api(`/jobs/${id}`);
    } catch (e) {
      message.replaceChildren(notice(e instanceof ApiError && e.status === 404 ? `No job ${id} (finished jobs are removed after the retention period).` : `Could not read the job: ${e.message}`));
      throw e;
    }
    // An unchanged job is not drawn again: a poll must not replace the buttons under the user's pointer.
    if (job && fresh.revision === job.revision && fresh.state === job.state) return;
    job = fresh;
    message.replaceChildren();
    remember(job);
    render();
  }

  // Explain costs the director more than a read: at most once every 2 s, and only when the job changed.
  const explainSoon = debounce(explain, 2000);
  const batch = new FrameBatch(changes => {
    const ev = changes.get(id);
    if (!ev) return;
    if (ev.deleted) { message.replaceChildren(notice('The job was removed (retention).', 'note')); return; }
    if (ev.job && (!job || ev.job.revision >= job.revision)) {
      const changed = !job || ev.job.state !== job.state || ev.job.attempt !== job.attempt;
      job = ev.job;
      remember(job);
      render();
      if (changed) explainSoon();
    }
  });
  let previous = null;
  const live = watch({
    filters: { type: 'job', job: id },
    onEvent: ev => { if (ev.type === 'job' && ev.id === id) batch.put(id, ev); },
    refresh: async () => {
      await load();
      const key = `${job.state}/${job.attempt}/${job.revision}`;
      if (key !== previous) { previous = key; explainSoon(); }
    },
  });
  load().then(explain).catch(() => {});
  return () => { live.stop(); batch.cancel(); explainSoon.cancel(); };
}
