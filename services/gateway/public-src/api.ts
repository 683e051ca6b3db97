import type {
  AlertEvent,
  AlertsResponse,
  AuditEvent,
  HistoryPage,
  ScoreUpdate,
  SystemSample,
  Topic,
} from '@quantmon/shared';

/** The token from `?token=` (kept for the session so reloads keep working). */
export function authToken(): string | null {
  const fromUrl = new URLSearchParams(location.search).get('token');
  if (fromUrl) sessionStorage.setItem('quantmon-token', fromUrl);
  return fromUrl ?? sessionStorage.getItem('quantmon-token');
}

function headers(): Record<string, string> {
  const t = authToken();
  return t ? { authorization: `Bearer ${t}` } : {};
}

/**
 * How long the dashboard waits for an answer before it says so: a gateway
 * that took a request and went silent (a stopped replica behind the
 * balancer, a route stuck on Redis) must not leave a button disabled or a
 * poll stopped for good with nothing on screen.
 */
export const REQUEST_TIMEOUT_MS = 10_000;

/** `fetch` with that deadline; past it, an Error naming the request. */
export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(path, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    if ((err as Error).name !== 'TimeoutError') throw err;
    const what = `${init.method ?? 'GET'} ${path.split('?')[0]}`;
    throw new Error(`${what}: no answer in ${REQUEST_TIMEOUT_MS / 1000} s`, { cause: err });
  }
}

/** A history entry: its position in its partition's stream (`part` absent: partition 0). */
export type HistoryPoint<T> = { pos: string; part?: number; data: T };

/** `GET /api/history` for one topic over the last `minutes`. */
export async function history<T extends ScoreUpdate | SystemSample | AlertEvent>(
  topic: Topic,
  minutes: number,
  limit: number,
): Promise<HistoryPoint<T>[]> {
  const from = Date.now() - minutes * 60_000;
  const q = new URLSearchParams({ topic, from: String(from), limit: String(limit) });
  const res = await request(`/api/history?${q}`, { headers: headers() });
  if (!res.ok) throw new Error(`history ${topic}: HTTP ${res.status}`);
  const page = (await res.json()) as HistoryPage;
  return page.points as HistoryPoint<T>[];
}

/**
 * `POST /api/alerts/{incidentId}/ack`. Resolves with null on success or a
 * message to show (the route may not exist on this gateway yet).
 */
export async function acknowledge(incidentId: string, by = 'dashboard'): Promise<string | null> {
  try {
    const res = await request(`/api/alerts/${encodeURIComponent(incidentId)}/ack`, {
      method: 'POST',
      headers: { ...headers(), 'content-type': 'application/json' },
      body: JSON.stringify({ by }),
    });
    if (res.ok) return null;
    if (res.status === 404 || res.status === 405 || res.status === 501) {
      return `acknowledge is not available on this gateway (HTTP ${res.status})`;
    }
    let detail = '';
    try {
      detail = ((await res.json()) as { error?: string }).error ?? '';
    } catch {
      // not JSON
    }
    return `acknowledge failed: HTTP ${res.status}${detail ? ` ${detail}` : ''}`;
  } catch (err) {
    return `acknowledge failed: ${(err as Error).message}`;
  }
}

/**
 * The `audit` of `GET /api/alerts` over the last `minutes` (who acknowledged,
 * silenced, unsilenced what), newest first; empty on a gateway without it.
 */
export async function alertAudit(minutes: number, limit: number): Promise<AuditEvent[]> {
  const q = new URLSearchParams({
    from: String(Date.now() - minutes * 60_000),
    limit: String(limit),
  });
  const res = await request(`/api/alerts?${q}`, { headers: headers() });
  if (res.status === 404 || res.status === 405 || res.status === 501) return [];
  if (!res.ok) throw new Error(`alerts audit: HTTP ${res.status}`);
  return ((await res.json()) as AlertsResponse).audit ?? [];
}

/** What the gateway says about the caller: name, role and what it may do (GET /api/me). */
export interface Me {
  name: string;
  role: 'viewer' | 'operator' | 'admin';
  via: string;
  can: { acknowledge: boolean; silence: boolean; rules: boolean };
}

/** A JSON request; throws an Error carrying the gateway's `error` text on a non-2xx answer. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await request(path, {
    method,
    headers: {
      ...headers(),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = json as {
      error?: string;
      issues?: { path?: string; field?: string; message: string }[];
    };
    const issues = (e?.issues ?? []).map((i) => `${i.path ?? i.field ?? ''}: ${i.message}`);
    throw new Error(
      `HTTP ${res.status}${e?.error ? ` ${e.error}` : ''}${issues.length ? ` (${issues.join('; ')})` : ''}`,
    );
  }
  return json as T;
}
