// Small DOM helpers: no framework, no inline styles or scripts (the director's CSP allows neither).

/** Creates an element: h('a', {href, class, on: {click}}, child...); strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function fmtAgo(iso, now = Date.now()) {
  if (!iso) return '';
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (Number.isNaN(s)) return '';
  if (Math.abs(s) < 60) return `${s} s ago`;
  if (Math.abs(s) < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 120000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60000)} min`;
}

export function stateBadge(state) {
  return h('span', { class: `badge state-${String(state).toLowerCase().split(' ').pop()}`, 'data-state': state }, state);
}

/** A page-level message (error or note) shown above the content. */
export function notice(text, kind = 'error') {
  return h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/**
 * Coalesces updates by key and applies them once per animation frame: a burst of events for one job costs one
 * render, and a burst for many jobs one frame. Hidden tabs get no frames; a timer bounds the wait instead.
 */
export class FrameBatch {
  constructor(apply) {
    this.apply = apply;
    this.pending = new Map();
    this.scheduled = false;
  }

  put(key, value) {
    this.pending.set(key, value);
    if (this.scheduled) return;
    this.scheduled = true;
    const flush = () => {
      if (!this.scheduled) return;
      this.scheduled = false;
      const batch = this.pending;
      this.pending = new Map();
      this.apply(batch);
    };
    requestAnimationFrame(flush);
    setTimeout(flush, 1000);
  }

  cancel() { this.scheduled = false; this.pending.clear(); }
}

/** A debounced call: at most one run per `ms`, the last request wins. */
export function debounce(fn, ms) {
  let timer = null;
  const call = () => { if (timer === null) timer = setTimeout(() => { timer = null; fn(); }, ms); };
  call.cancel = () => { clearTimeout(timer); timer = null; };
  return call;
}

/** An inline SVG line chart of [{t, v}] (t in ms), with the axis labels the overview needs. */
export function lineChart(points, { width = 560, height = 140, unit = '' } = {}) {
  const pad = { l: 40, r: 8, t: 8, b: 18 };
  const svg = h('svg:svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': `chart ${unit}` });
  const w = width - pad.l - pad.r;
  const ht = height - pad.t - pad.b;
  const max = Math.max(1, ...points.map(p => p.v));
  const t0 = points.length ? points[0].t : 0;
  const t1 = points.length ? points[points.length - 1].t : 1;
  const x = t => pad.l + (t1 === t0 ? w : ((t - t0) / (t1 - t0)) * w);
  const y = v => pad.t + ht - (v / max) * ht;
  for (const f of [0, 0.5, 1]) {
    const yy = y(max * f);
    svg.append(h('svg:line', { x1: pad.l, x2: width - pad.r, y1: yy, y2: yy, class: 'grid' }));
    svg.append(h('svg:text', { x: pad.l - 4, y: yy + 4, class: 'axis', 'text-anchor': 'end' }, (max * f).toFixed(max * f < 10 ? 1 : 0)));
  }
  if (points.length > 1) {
    svg.append(h('svg:polyline', { class: 'series', points: points.map(p => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ') }));
    const span = Math.round((t1 - t0) / 1000);
    svg.append(h('svg:text', { x: pad.l, y: height - 4, class: 'axis' }, `-${span} s`));
    svg.append(h('svg:text', { x: width - pad.r, y: height - 4, class: 'axis', 'text-anchor': 'end' }, 'now'));
  } else {
    svg.append(h('svg:text', { x: pad.l + 8, y: pad.t + ht / 2, class: 'axis' }, 'collecting samples…'));
  }
  return svg;
}
