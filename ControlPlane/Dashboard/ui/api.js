// The /v1 API with the tab's bearer token. The token lives in sessionStorage: it survives a reload of the tab,
// is not shared with other tabs, and is gone when the tab closes.
const TOKEN_KEY = 'controlplane.token';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export const auth = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  set(token) { sessionStorage.setItem(TOKEN_KEY, token); },
  clear() { sessionStorage.removeItem(TOKEN_KEY); },
  headers() {
    const token = this.token;
    return token ? { Authorization: `Bearer ${token}` } : {};
  },
  /** Called with the problem of any 401: the app asks for a token. */
  onUnauthorized: () => {},
};

/** Calls /v1{path}; resolves to the parsed JSON (null for an empty body); rejects with ApiError. */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = { Accept: 'application/json', ...auth.headers() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`/v1${path}`, {
    method, headers, signal, cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  if (text) {
    try { json = JSON.parse(text); } catch { json = { detail: text }; }
  }
  if (res.status === 401) auth.onUnauthorized(json);
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

/** Query string of the defined, non-empty entries of obj. */
export function query(obj) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}
