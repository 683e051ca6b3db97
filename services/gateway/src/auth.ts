import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { sendJson, type Route } from '@quantmon/shared';
import {
  DEFAULT_TOKEN_ROLE,
  permissions,
  proxyIdentity,
  requiredRole,
  Role,
  roleAtLeast,
  type ProxyAuth,
} from './roles.js';

/**
 * Who may connect: a token from a configured list (`?token=` for browsers,
 * which cannot set headers on a WebSocket, or `Authorization: Bearer`),
 * and, for browsers, an allowed Origin.
 */
export interface AccessPolicy {
  tokens: readonly string[];
  allowedOrigins: readonly string[];
  /** Trusted proxy headers (off when absent): see roles.ts. */
  proxy?: ProxyAuth | undefined;
}

/** Who made a request: a token's (or the proxy's user's) name and role. */
export interface Caller {
  name: string;
  role: Role;
  /** How it was identified: a token, the trusted proxy's headers, or an open gateway (no tokens). */
  via: 'token' | 'proxy' | 'open';
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
const ROLED = /^(viewer|operator|admin):(.+)$/;

/**
 * A GATEWAY_TOKENS entry: `name:role:token` names the token and gives it a
 * role (viewer, operator or admin); `name:token` names it (the name is what
 * the alert history records as who did it) with the default role
 * (DEFAULT_TOKEN_ROLE: operator); a bare token is anonymous, also with the
 * default role. The name is what precedes the first ':' when it is 1-64 of
 * A-Z a-z 0-9 _ . @ -; the role is the next part when it is one of the
 * three role words.
 */
export function parseTokenEntry(entry: string): { name: string; role: Role; token: string } {
  const m = NAMED.exec(entry);
  if (!m?.[1] || !m[2]) return { name: ANONYMOUS, role: DEFAULT_TOKEN_ROLE, token: entry };
  const r = ROLED.exec(m[2]);
  if (r?.[1] && r[2]) return { name: m[1], role: Role.parse(r[1]), token: r[2] };
  return { name: m[1], role: DEFAULT_TOKEN_ROLE, token: m[2] };
}

/**
 * The name of the token a request carries: undefined when it is not one of
 * the configured tokens; "anonymous" when no tokens are configured or the
 * token is unnamed. Constant time over the list.
 */
export function tokenName(policy: AccessPolicy, token: string | undefined): string | undefined {
  return tokenCaller(policy, token)?.name;
}

/**
 * The name and role of the token a request carries: undefined when it is
 * not one of the configured tokens; anonymous with the default role when no
 * tokens are configured. Constant time over the list.
 */
export function tokenCaller(policy: AccessPolicy, token: string | undefined): Caller | undefined {
  if (policy.tokens.length === 0) return { name: ANONYMOUS, role: DEFAULT_TOKEN_ROLE, via: 'open' };
  if (!token) return undefined;
  const d = digest(token);
  let caller: Caller | undefined;
  for (const entry of policy.tokens) {
    const t = parseTokenEntry(entry);
    // The whole entry is accepted too: a bare token that happens to contain ':' still works.
    const hit = timingSafeEqual(d, digest(t.token)) || timingSafeEqual(d, digest(entry));
    if (hit && caller === undefined) caller = { name: t.name, role: t.role, via: 'token' };
  }
  return caller;
}

/** True when no tokens are configured or the request carries one of them (constant time). */
export function tokenAllowed(policy: AccessPolicy, token: string | undefined): boolean {
  return tokenName(policy, token) !== undefined;
}

const callers = new WeakMap<IncomingMessage, Caller>();

/** Who made an API request (its token's name, set by apiAuthRoute); "anonymous" otherwise. */
export function callerName(req: IncomingMessage): string {
  return callers.get(req)?.name ?? ANONYMOUS;
}

/** Who made an API request, with its role; undefined before apiAuthRoute saw it. */
export function caller(req: IncomingMessage): Caller | undefined {
  return callers.get(req);
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
 * Guards `/api/*` with the same tokens as the WebSocket (or, when
 * configured, the trusted proxy's user header): answers 401 without an
 * identity and 403 when the caller's role may not do what it asks
 * (roles.ts: requiredRole), whatever the page shows; answers
 * `GET /api/me` (the caller's name, role and permissions, for the page);
 * otherwise lets the request through to the routes after it.
 */
export function apiAuthRoute(policy: AccessPolicy): Route {
  return (req, res, url) => {
    if (!url.pathname.startsWith('/api/') || url.pathname === '/api/openapi.json') return false;
    const proxied = policy.proxy ? proxyIdentity(policy.proxy, req.headers) : undefined;
    const who: Caller | undefined = proxied
      ? { ...proxied, via: 'proxy' }
      : tokenCaller(policy, requestToken(req, url));
    if (who === undefined) {
      sendJson(res, 401, { error: 'missing or unknown token' }, { 'www-authenticate': 'Bearer' });
      return true;
    }
    callers.set(req, who);
    const needed = requiredRole(req.method, url.pathname);
    if (needed && !roleAtLeast(who.role, needed)) {
      sendJson(res, 403, {
        error: `role ${who.role} may not ${req.method ?? 'GET'} ${url.pathname}: it takes ${needed}`,
        role: who.role,
        required: needed,
      });
      return true;
    }
    if (url.pathname === '/api/me' && req.method === 'GET') {
      sendJson(res, 200, { ...who, can: permissions(who.role) });
      return true;
    }
    return false;
  };
}
