import { z } from 'zod';

/**
 * Who may do what on the gateway's REST API (issue 13, item 4):
 * - viewer: read everything (GET, the WebSocket);
 * - operator: also acknowledge incidents and create or expire silences;
 * - admin: also change the alert rules (PUT/DELETE /api/rules) and the
 *   strategy catalogue (PUT/DELETE /api/catalogue), and retire strategies
 *   (DELETE /api/strategies/{id}).
 * Ingest tokens (the collector's INGEST_TOKENS) are a separate list.
 */
export const Role = z.enum(['viewer', 'operator', 'admin']);
export type Role = z.infer<typeof Role>;

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/**
 * The role of a token entry that names none (`token` and `name:token`,
 * the forms from before roles) and of every request to a gateway without
 * tokens: operator, which is what those tokens could do until roles came
 * (acknowledge and silence). Changing rules always takes a token that says
 * `admin`.
 */
export const DEFAULT_TOKEN_ROLE: Role = 'operator';

/** The role a request needs, from its method and path; undefined: not an API path. */
export function requiredRole(method: string | undefined, path: string): Role | undefined {
  if (!path.startsWith('/api/')) return undefined;
  const m = (method ?? 'GET').toUpperCase();
  if (m === 'GET' || m === 'HEAD' || m === 'OPTIONS') return 'viewer';
  if (path === '/api/rules' || path === '/api/catalogue') return 'admin';
  // Retiring a strategy drops its windows and closes its incidents.
  if (m === 'DELETE' && path.startsWith('/api/strategies/')) return 'admin';
  // Acks and silences; any other write a route may add is an operator's at least.
  return 'operator';
}

/** What each role may do, for the page (it hides what the role cannot do). */
export function permissions(role: Role): {
  acknowledge: boolean;
  silence: boolean;
  rules: boolean;
} {
  return {
    acknowledge: roleAtLeast(role, 'operator'),
    silence: roleAtLeast(role, 'operator'),
    rules: roleAtLeast(role, 'admin'),
  };
}

export interface ProxyAuth {
  /** Lower-case header names, as Node gives them. */
  userHeader: string;
  groupsHeader: string | undefined;
  /** `role=group` pairs. */
  roles: readonly string[];
}

const USER = /^[A-Za-z0-9_.@+-]{1,128}$/;

/**
 * The identity an authenticating proxy in front (oauth2-proxy's
 * X-Forwarded-User / X-Forwarded-Groups, or X-Auth-Request-*) vouches for:
 * the user, and the highest role any of its groups maps to (viewer when
 * none does). Undefined when the request carries no user header. Only safe
 * when nothing but that proxy can reach the gateway: anyone who can send
 * the header directly is whoever they claim (docs/dashboard.md).
 */
export function proxyIdentity(
  proxy: ProxyAuth,
  headers: Record<string, string | string[] | undefined>,
): { name: string; role: Role } | undefined {
  const raw = headers[proxy.userHeader];
  const user = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!user || !USER.test(user)) return undefined;
  const g = proxy.groupsHeader ? headers[proxy.groupsHeader] : undefined;
  const groups = new Set(
    (Array.isArray(g) ? g.join(',') : (g ?? ''))
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  let role: Role = 'viewer';
  for (const pair of proxy.roles) {
    const eq = pair.indexOf('=');
    const r = Role.safeParse(pair.slice(0, eq));
    if (r.success && groups.has(pair.slice(eq + 1)) && roleAtLeast(r.data, role)) role = r.data;
  }
  return { name: user, role };
}
