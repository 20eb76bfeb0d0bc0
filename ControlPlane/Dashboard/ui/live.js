// Live updates for the visible page: GET /v1/events when the director serves it, otherwise polling the page's
// own reads. A director of an older version has no stream, so the fallback stays; the stream is probed again
// every minute, so a director upgraded underneath the page is picked up without a reload.
import { auth, query } from './api.js';
import { EventStream, backoffDelay } from './sse.js';

const POLL_MS = 3000;
const MAX_POLL_MS = 30000;
const REPROBE_MS = 60000;

/** Listeners of the connection state ('live', 'polling', 'connecting', 'retrying'), for the header's indicator. */
const stateListeners = new Set();
export function onLiveState(fn) { stateListeners.add(fn); return () => stateListeners.delete(fn); }
function report(state, detail) { for (const fn of stateListeners) fn(state, detail); }

/**
 * Keeps one page current. `filters` become the stream's query (type, job, state, group, worker); `onEvent` gets
 * each parsed event's JSON; `refresh` re-reads what the page shows (used by polling, after (re)connecting and on
 * `resync`). Returns a handle whose stop() ends everything.
 */
export function watch({ filters = {}, onEvent, refresh, pollMs = POLL_MS }) {
  let stopped = false;
  let stream = null;
  let pollTimer = null;
  let probeTimer = null;
  let failures = 0;

  const poll = async () => {
    pollTimer = null;
    if (stopped) return;
    if (document.visibilityState === 'visible') {
      try {
        await refresh();
        failures = 0;
      } catch {
        failures++;
      }
    }
    if (!stopped && !stream) pollTimer = setTimeout(poll, failures ? Math.min(MAX_POLL_MS, backoffDelay(failures, pollMs, MAX_POLL_MS)) : pollMs);
  };

  const fallBack = () => {
    stream = null;
    report('polling', pollMs);
    if (pollTimer === null) pollTimer = setTimeout(poll, pollMs);
    clearTimeout(probeTimer);
    probeTimer = setTimeout(connect, REPROBE_MS);
  };

  function connect() {
    if (stopped) return;
    stream = new EventStream(`/v1/events${query(filters)}`, {
      headers: () => auth.headers(),
      onState: state => {
        if (stopped) return;
        switch (state) {
          case 'open':
            clearTimeout(pollTimer);
            pollTimer = null;
            report('live');
            // Whatever changed before the stream opened (or while it was down) is read once.
            refresh().catch(() => {});
            break;
          case 'unsupported':
            fallBack();
            break;
          case 'unauthorized':
            stream = null;
            auth.onUnauthorized(null);
            break;
          default:
            report(state);
        }
      },
      onEvent: event => {
        if (stopped) return;
        let data;
        try { data = JSON.parse(event.data); } catch { return; }
        if (event.type === 'resync' || data.type === 'resync') { refresh().catch(() => {}); return; }
        if (event.type === 'cutoff') return; // the stream ends; EventStream reconnects with Last-Event-ID
        onEvent?.(data, event);
      },
    }).start();
  }

  connect();
  return {
    stop() {
      stopped = true;
      stream?.stop();
      clearTimeout(pollTimer);
      clearTimeout(probeTimer);
    },
  };
}
