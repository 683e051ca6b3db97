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

/** True when no tokens are configured or the request carries one of them (constant time). */
export function tokenAllowed(policy: AccessPolicy, token: string | undefined): boolean {
  if (policy.tokens.length === 0) return true;
  if (!token) return false;
  const d = digest(token);
  let ok = false;
  for (const t of policy.tokens) ok = timingSafeEqual(d, digest(t)) || ok;
  return ok;
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
    if (tokenAllowed(policy, requestToken(req, url))) return false;
    sendJson(res, 401, { error: 'missing or unknown token' }, { 'www-authenticate': 'Bearer' });
    return true;
  };
}
