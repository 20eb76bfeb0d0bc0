// Server-Sent Events over fetch(): EventSource cannot send an Authorization header, so the dashboard reads
// GET /v1/events as a byte stream and parses it here, following the WHATWG "event stream interpretation"
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).

/** Parses the text/event-stream format chunk by chunk; chunks may split lines (and \r\n) anywhere. */
export class SseParser {
  constructor() {
    this.buffer = '';
    this.data = [];
    this.eventType = '';
    this.lastEventId = '';
    this.retry = null;
    this.started = false;
  }

  /** Feeds decoded text; returns the events it completed, each {type, data, id}. */
  push(text) {
    if (!this.started) {
      // A leading byte-order mark is not part of the first field name.
      if (text.length === 0) return [];
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.started = true;
    }
    this.buffer += text;
    const events = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c !== '\n' && c !== '\r') continue;
      // A \r at the very end may be the first half of \r\n: wait for the next chunk to tell.
      if (c === '\r' && i === this.buffer.length - 1) break;
      this.line(this.buffer.slice(start, i), events);
      if (c === '\r' && this.buffer[i + 1] === '\n') i++;
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  line(line, events) {
    if (line === '') {
      // A blank line dispatches; an event without data lines is dropped (its type is reset).
      if (this.data.length > 0) {
        events.push({ type: this.eventType || 'message', data: this.data.join('\n'), id: this.lastEventId });
      }
      this.data = [];
      this.eventType = '';
      return;
    }
    if (line[0] === ':') return; // a comment (servers send them as keep-alives)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    switch (field) {
      case 'event': this.eventType = value; break;
      case 'data': this.data.push(value); break;
      case 'id': if (!value.includes('\0')) this.lastEventId = value; break;
      case 'retry': if (/^[0-9]+$/.test(value)) this.retry = Number(value); break;
      default: break; // unknown fields are ignored
    }
  }
}

/** Bounded exponential backoff with jitter: min, 2×min, … capped at max, each scaled by 0.5–1. */
export function backoffDelay(attempt, min, max) {
  const base = Math.min(max, min * 2 ** Math.min(attempt, 16));
  return Math.round(base * (0.5 + Math.random() / 2));
}

/**
 * Reads one SSE URL with fetch(), reconnecting with Last-Event-ID after errors and after a `cutoff`, with bounded
 * backoff. States reported through onState: 'connecting', 'open', 'retrying', 'unsupported' (404/405/501: the
 * director has no stream; the caller falls back to polling) and 'unauthorized' (401); the last two end the stream.
 */
export class EventStream {
  constructor(url, { headers = () => ({}), onEvent, onState = () => {}, fetchImpl = (...a) => fetch(...a), minDelay = 500, maxDelay = 15000 } = {}) {
    Object.assign(this, { url, headers, onEvent, onState, fetchImpl, minDelay, maxDelay });
    this.lastEventId = '';
    this.stopped = false;
    this.controller = null;
  }

  start() { this.run(); return this; }

  stop() {
    this.stopped = true;
    this.controller?.abort();
  }

  async run() {
    let failures = 0;
    // Bounded by stop(): each pass is one connection; each wait between them is at most maxDelay.
    while (!this.stopped) {
      this.onState('connecting');
      this.controller = new AbortController();
      let retryHint = null;
      try {
        const headers = { Accept: 'text/event-stream', ...this.headers() };
        if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
        const res = await this.fetchImpl(this.url, { headers, signal: this.controller.signal, cache: 'no-store' });
        if (res.status === 404 || res.status === 405 || res.status === 501) { this.onState('unsupported', res.status); return; }
        if (res.status === 401) { this.onState('unauthorized', res.status); return; }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        this.onState('open');
        const parser = new SseParser();
        const decoder = new TextDecoder();
        const reader = res.body.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const event of parser.push(decoder.decode(value, { stream: true }))) {
            failures = 0; // the stream delivers: the next break reconnects quickly
            if (event.id) this.lastEventId = event.id;
            this.onEvent(event);
          }
          if (parser.retry !== null) retryHint = parser.retry;
        }
      } catch (e) {
        if (this.stopped) return;
      }
      if (this.stopped) return;
      this.onState('retrying');
      const delay = retryHint !== null && failures === 0 ? Math.min(retryHint, this.maxDelay) : backoffDelay(failures, this.minDelay, this.maxDelay);
      failures++;
      await sleep(delay, this.controller.signal);
    }
  }
}

function sleep(ms, signal) {
  return new Promise(resolve => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
