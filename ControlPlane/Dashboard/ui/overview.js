// Overview: jobs by state, throughput, leader and epoch, directors, the store.
import { api, ApiError } from './api.js';
import { h, fmtTime, fmtAgo, stateBadge, notice, lineChart } from './dom.js';
import { watch } from './live.js';

// The leader counts its job records, in which a started job is still Assigned (the start is in the assignment
// record): one tile for both, linking to the Running filter, which the API answers with the overlay applied.
const TILES = [
  ['Waiting', ['Waiting'], 'Waiting'],
  ['Pending', ['Pending'], 'Pending'],
  ['Assigned or running', ['Assigned', 'Running'], 'Running'],
  ['Succeeded', ['Succeeded'], 'Succeeded'],
  ['Failed', ['Failed'], 'Failed'],
  ['Cancelled', ['Cancelled'], 'Cancelled'],
  ['Skipped', ['Skipped'], 'Skipped'],
];
const FINISHED = ['Succeeded', 'Failed', 'Cancelled', 'Skipped'];
const WINDOW_MS = 10 * 60 * 1000;
const REFRESH_MS = 5000;

// Samples of the finished-job total, kept for the tab's life (module state): throughput is their slope.
const samples = [];

function record(counts, at) {
  const finished = FINISHED.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  samples.push({ t: at, finished });
  while (samples.length > 2 && samples[0].t < at - WINDOW_MS) samples.shift();
}

function throughput() {
  const points = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = (samples[i].t - samples[i - 1].t) / 1000;
    // Retention removes finished jobs, so the total can drop: a drop is not negative throughput.
    if (dt > 0) points.push({ t: samples[i].t, v: Math.max(0, samples[i].finished - samples[i - 1].finished) / dt });
  }
  return points;
}

export function mount(root) {
  const countsBox = h('section', { class: 'card', id: 'counts' }, h('h2', {}, 'Jobs by state'));
  const chartBox = h('section', { class: 'card', id: 'throughput' }, h('h2', {}, 'Throughput (finished jobs/s)'));
  const leaderBox = h('section', { class: 'card', id: 'leader' }, h('h2', {}, 'Leader'));
  const storeBox = h('section', { class: 'card', id: 'store' }, h('h2', {}, 'Store'));
  const directorsBox = h('section', { class: 'card wide', id: 'directors' }, h('h2', {}, 'Directors'));
  root.append(h('div', { class: 'grid' }, countsBox, chartBox, leaderBox, storeBox, directorsBox));

  const body = (box, ...content) => {
    box.replaceChildren(box.firstChild, ...content);
  };

  async function refreshCounts() {
    try {
      const c = await api('/jobs/counts');
      record(c.counts, Date.now());
      body(countsBox,
        h('div', { class: 'counts' }, TILES.map(([label, states, link]) => h('a', { class: 'count', href: `#/jobs?state=${link}`, 'data-state': link },
          h('span', { class: 'n' }, String(states.reduce((sum, s) => sum + (c.counts[s] ?? 0), 0))), stateBadge(label)))),
        h('p', { class: 'muted' }, `Counted by the leader (epoch ${c.epoch}) ${fmtAgo(c.at)}; finished jobs count until retention removes them.`));
    } catch (e) {
      const why = e instanceof ApiError && e.status === 404
        ? 'This director does not publish counts (an older version): use the Jobs page filters.'
        : e instanceof ApiError && e.status === 503 ? 'No counts yet: no leader has published them (election in progress?).' : `Counts unavailable: ${e.message}`;
      body(countsBox, notice(why, 'note'));
    }
    body(chartBox, lineChart(throughput(), { unit: 'jobs/s' }),
      h('p', { class: 'muted' }, `From the counts, sampled every ${REFRESH_MS / 1000} s while this page is open (last ${WINDOW_MS / 60000} min).`));
  }

  async function refreshCluster() {
    try {
      const c = await api('/cluster');
      const leader = c.leader;
      body(leaderBox, leader
        ? h('dl', {}, h('dt', {}, 'Director'), h('dd', { id: 'leader-id' }, leader.directorId),
          h('dt', {}, 'Epoch'), h('dd', { id: 'leader-epoch' }, String(leader.epoch)),
          h('dt', {}, 'URL'), h('dd', {}, leader.url),
          h('dt', {}, 'Since'), h('dd', {}, `${fmtTime(leader.since)} (${fmtAgo(leader.since)})`))
        : notice('No director leads right now (an election may be in progress).', 'warn'));
      const s = c.store;
      body(storeBox, h('dl', {},
        h('dt', {}, 'Backend'), h('dd', { id: 'store-backend' }, s.backend),
        h('dt', {}, 'Members'), h('dd', {}, s.members.join(', ')),
        h('dt', {}, 'Root'), h('dd', {}, s.root),
        h('dt', {}, 'Revision'), h('dd', {}, String(s.revision)),
        h('dt', {}, 'Session'), h('dd', {}, `${s.sessionState}, ${s.sessionTimeoutSeconds} s timeout`)));
      body(directorsBox, h('table', {},
        h('thead', {}, h('tr', {}, ['Id', 'URL', 'Version', 'Started', ''].map(t => h('th', {}, t)))),
        h('tbody', {}, c.directors.map(d => h('tr', { 'data-id': d.id },
          h('td', {}, d.id), h('td', {}, d.url), h('td', {}, d.version), h('td', {}, fmtTime(d.startedAt)),
          h('td', {}, leader && leader.directorId === d.id ? h('span', { class: 'badge leader' }, 'leader') : ''))))));
    } catch (e) {
      body(leaderBox, notice(`Cluster unavailable: ${e.message}`));
    }
  }

  const refresh = () => Promise.all([refreshCounts(), refreshCluster()]).then(() => root.setAttribute('data-loaded', 'true'));
  refresh();
  // Counts and the store revision change all the time: re-read on a timer, stream or not (two small reads).
  const timer = setInterval(() => { if (document.visibilityState === 'visible') refreshCounts(); }, REFRESH_MS);
  const live = watch({ filters: { type: 'leader' }, onEvent: () => refreshCluster(), refresh: refreshCluster, pollMs: REFRESH_MS * 2 });
  return () => { clearInterval(timer); live.stop(); };
}
