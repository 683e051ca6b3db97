import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { sendJson, type Route } from '@quantmon/shared';

/**
 * Who may connect: a token from a configured list (`?token=` for browsers,
 * which cannot set headers on a WebSocket, or `Authorization: Bearer`),
 * and, for browsers, an allowed Origin.
 */
export interface AccessPolicy {
  tokens: readonly string[];
  allowedOrigins: readonly string[];
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The token a request carries, if any. */
export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  return url.searchParams.get('token') ?? undefined;
}

/** Who made a request when its token has no name, or no tokens are configured. */
export const ANONYMOUS = 'anonymous';

const NAMED = /^([A-Za-z0-9_.@-]{1,64}):(.+)$/;

/**
 * A GATEWAY_TOKENS entry: `name:token` names the token (the name is what
 * the alert history records as who did it); a bare token is anonymous. The
 * name is what precedes the first ':' when it is 1-64 of A-Z a-z 0-9 _ . @ -.
 */
export function parseTokenEntry(entry: string): { name: string; token: string } {
  const m = NAMED.exec(entry);
  return m?.[1] && m[2] ? { name: m[1], token: m[2] } : { name: ANONYMOUS, token: entry };
}

/**
 * The name of the token a request carries: undefined when it is not one of
 * the configured tokens; "anonymous" when no tokens are configured or the
 * token is unnamed. Constant time over the list.
 */
export function tokenName(policy: AccessPolicy, token: string | undefined): string | undefined {
  if (policy.tokens.length === 0) return ANONYMOUS;
  if (!token) return undefined;
  const d = digest(token);
  let name: string | undefined;
  for (const entry of policy.tokens) {
    const t = parseTokenEntry(entry);
    // The whole entry is accepted too: a bare token that happens to contain ':' still works.
    const hit = timingSafeEqual(d, digest(t.token)) || timingSafeEqual(d, digest(entry));
    if (hit && name === undefined) name = t.name;
  }
  return name;
}

/** True when no tokens are configured or the request carries one of them (constant time). */
export function tokenAllowed(policy: AccessPolicy, token: string | undefined): boolean {
  return tokenName(policy, token) !== undefined;
}

const callers = new WeakMap<IncomingMessage, string>();

/** Who made an API request (its token's name, set by apiAuthRoute); "anonymous" otherwise. */
export function callerName(req: IncomingMessage): string {
  return callers.get(req) ?? ANONYMOUS;
}

/**
 * Browsers send Origin on a WebSocket upgrade; other clients usually do
 * not. No Origin: allowed (it is not a browser page). With an allow-list:
 * exact match, or `*`. Without one: same origin only (Origin's host equals
 * the Host header), which stops other sites' pages from opening sockets
 * with the user's network position.
 */
export function originAllowed(policy: AccessPolicy, req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (policy.allowedOrigins.includes('*')) return true;
  if (policy.allowedOrigins.length > 0) return policy.allowedOrigins.includes(origin);
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * Guards `/api/*` with the same tokens as the WebSocket: answers 401 itself
 * or lets the request through to the routes after it.
 */
export function apiAuthRoute(policy: AccessPolicy): Route {
  return (req, res, url) => {
    if (!url.pathname.startsWith('/api/') || url.pathname === '/api/openapi.json') return false;
    const name = tokenName(policy, requestToken(req, url));
    if (name !== undefined) {
      callers.set(req, name);
      return false;
    }
    sendJson(res, 401, { error: 'missing or unknown token' }, { 'www-authenticate': 'Bearer' });
    return true;
  };
}
