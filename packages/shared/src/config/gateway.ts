import { z } from 'zod';
import {
  CommonEnv,
  common,
  int,
  list,
  num,
  parseEnv,
  port,
  type CommonConfig,
  type Env,
} from './env.js';

const HEADER = /^[A-Za-z0-9-]{1,64}$/;
const HEADER_MSG = 'an HTTP header name such as X-Forwarded-User';
const ROLE_GROUP = /^(viewer|operator|admin)=[^=,]+$/;
const ROLE_GROUP_MSG = 'role=group pairs, role one of viewer, operator, admin';

const GatewayEnv = CommonEnv.extend({
  GATEWAY_PORT: port(8080),
  /** Shown in the hello frame and logs; default the replica id. */
  GATEWAY_ID: z.string().min(1).optional(),
  GATEWAY_TOKENS: list,
  GATEWAY_ALLOWED_ORIGINS: list,
  GATEWAY_MAX_MESSAGE_BYTES: int(16 * 1024, 256, 16 * 1024 * 1024),
  GATEWAY_MAX_BACKLOG_BYTES: int(4 * 1024 * 1024, 4 * 1024, 1024 * 1024 * 1024),
  GATEWAY_WRITE_HIGH_WATER_BYTES: int(64 * 1024, 0, 64 * 1024 * 1024),
  GATEWAY_HEARTBEAT_MS: int(25_000, 50, 3_600_000),
  GATEWAY_CLIENT_RATE: num(10).pipe(z.number().positive()),
  GATEWAY_CLIENT_BURST: int(20, 1, 100_000),
  /** Topics one connection may hold at once (memory per connection stays bounded). */
  GATEWAY_MAX_TOPICS: int(1000, 1, 1_000_000),
  GATEWAY_REPLAY_MAX: int(10_000, 1, 10_000_000),
  GATEWAY_HISTORY_MAX_SCAN: int(100_000, 100, 10_000_000),
  /** Trusted proxy (off unless set): the header carrying the authenticated user (docs/dashboard.md). */
  GATEWAY_PROXY_USER_HEADER: z.string().regex(HEADER, HEADER_MSG).optional(),
  GATEWAY_PROXY_GROUPS_HEADER: z.string().regex(HEADER, HEADER_MSG).optional(),
  /** `role=group` pairs, e.g. `admin=quant-admins,operator=desk`. */
  GATEWAY_PROXY_ROLES: list.pipe(z.array(z.string().regex(ROLE_GROUP, ROLE_GROUP_MSG))),
  /** A replica whose last heartbeat is older than this shows as down in GET /api/pipeline. */
  GATEWAY_SERVICE_DOWN_MS: int(5000, 1000, 3_600_000),
  GATEWAY_SERIES_MAX: int(0, 0, 10_000),
});

export interface GatewayConfig extends CommonConfig {
  port: number;
  gatewayId: string;
  /** Accepted tokens (`?token=` or `Authorization: Bearer`); empty: no auth. */
  tokens: string[];
  /** Allowed WebSocket Origins; empty: same origin (or no Origin header) only; `*`: any. */
  allowedOrigins: string[];
  /** Largest client message, bytes (larger: close 1009). */
  maxMessageBytes: number;
  /** Unsent bytes per connection before it is closed as a slow consumer (4008). */
  maxBacklogBytes: number;
  /** Socket buffer above which frames wait in the outbox (where metrics conflate). */
  writeHighWaterBytes: number;
  heartbeatMs: number;
  /** Client messages per second (token bucket) and the burst allowed. */
  clientRate: number;
  clientBurst: number;
  maxTopics: number;
  /** Most entries read per stream to resume one subscription; beyond: reset + snapshot. */
  replayMax: number;
  /** Most stream entries `GET /api/history` scans per request. */
  historyMaxScan: number;
  /** Trusted proxy headers and their group-to-role pairs; undefined: off (tokens only). */
  proxyAuth: { userHeader: string; groupsHeader: string | undefined; roles: string[] } | undefined;
  /** A replica silent this long shows as down on the pipeline health panel. */
  serviceDownMs: number;
  /** Strategies (and hosts) exported as per-subject gauges on /metrics; 0: none (opt-in). */
  seriesMax: number;
}

export function loadGatewayConfig(env: Env): GatewayConfig {
  const e = parseEnv(GatewayEnv, env);
  const base = common(e, 'gateway');
  return {
    ...base,
    port: e.GATEWAY_PORT,
    gatewayId: e.GATEWAY_ID ?? base.replicaId,
    tokens: e.GATEWAY_TOKENS,
    allowedOrigins: e.GATEWAY_ALLOWED_ORIGINS,
    maxMessageBytes: e.GATEWAY_MAX_MESSAGE_BYTES,
    maxBacklogBytes: e.GATEWAY_MAX_BACKLOG_BYTES,
    writeHighWaterBytes: e.GATEWAY_WRITE_HIGH_WATER_BYTES,
    heartbeatMs: e.GATEWAY_HEARTBEAT_MS,
    clientRate: e.GATEWAY_CLIENT_RATE,
    clientBurst: e.GATEWAY_CLIENT_BURST,
    maxTopics: e.GATEWAY_MAX_TOPICS,
    replayMax: e.GATEWAY_REPLAY_MAX,
    historyMaxScan: e.GATEWAY_HISTORY_MAX_SCAN,
    proxyAuth: e.GATEWAY_PROXY_USER_HEADER
      ? {
          userHeader: e.GATEWAY_PROXY_USER_HEADER.toLowerCase(),
          groupsHeader: e.GATEWAY_PROXY_GROUPS_HEADER?.toLowerCase(),
          roles: e.GATEWAY_PROXY_ROLES,
        }
      : undefined,
    serviceDownMs: e.GATEWAY_SERVICE_DOWN_MS,
    seriesMax: e.GATEWAY_SERIES_MAX,
  };
}
