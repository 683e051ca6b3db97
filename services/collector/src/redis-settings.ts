import { isCluster, type Logger } from '@quantmon/shared';
import type { Cluster, Redis } from 'ioredis';

/**
 * Redis settings the pipeline counts on, checked once when the collector
 * starts on every master (the whole Redis, or each master of a Cluster).
 * `npm start`, docker compose and the cluster nodes run their Redis with
 * them; a Redis of the user's own (REDIS_URL, REDIS_CLUSTER_NODES) may
 * not have them. A missing one is a warning, not a refusal: Redis works
 * without it, with stalls, and a managed Redis may not even answer CONFIG.
 */
export interface ExpectedSetting {
  name: string;
  /** What to set it to, as the warning says it. */
  want: string;
  why: string;
  /** Whether the value `CONFIG GET` answered (undefined: not answered) is good enough. */
  ok: (value: string | undefined) => boolean;
  /** Only a master with a replica attached needs it. */
  replicasOnly?: boolean;
}

/**
 * The smallest replication backlog not warned about. Redis's default is
 * 1 MB; at load the pipeline writes ~1 KB a sample to it (the AOF's bytes),
 * so 1 MB is a few hundredths of a second of a cut. 64 MB rides out ~2.5 s
 * at 25 MB/s of writes; the cluster nodes and docker compose give 256 MB.
 */
export const MIN_REPL_BACKLOG_BYTES = 64 * 1024 * 1024;

export const EXPECTED_SETTINGS: readonly ExpectedSetting[] = [
  {
    name: 'lazyfree-lazy-expire',
    want: 'yes',
    ok: (v) => v === 'yes',
    why:
      'a day of a strategy’s ingest marks is one set, and every strategy’s set expires within a few hours of the others: ' +
      'freed in the thread that answers, a set of 5 M marks stopped Redis for 839 ms ' +
      '(docs/operations.md, "Redis\'s frees")',
  },
  {
    name: 'repl-backlog-size',
    want: '256mb',
    ok: (v) => v !== undefined && Number(v) >= MIN_REPL_BACKLOG_BYTES,
    replicasOnly: true,
    why:
      'this master has a replica, and at load the pipeline writes ~1 KB a sample to the backlog: ' +
      'with less than 64 MB, a link cut for a second or two makes the replica copy the whole dataset again ' +
      'instead of the writes it missed (docs/operations.md, "Replicas: a link cut under load")',
  },
];

/**
 * The settings a node's `CONFIG GET` answer (name, value, name, value...)
 * does not have as wanted; those for replicas only when it has `replicas`.
 */
export function missingSettings(
  answer: readonly string[],
  replicas = 0,
): { setting: ExpectedSetting; value: string | undefined }[] {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < answer.length; i += 2) values.set(answer[i]!, answer[i + 1]!);
  return EXPECTED_SETTINGS.filter((s) => replicas > 0 || !s.replicasOnly)
    .map((setting) => ({ setting, value: values.get(setting.name) }))
    .filter(({ setting, value }) => !setting.ok(value));
}

/** `connected_slaves` of an `INFO replication` answer (0 when absent). */
export function replicaCount(info: string): number {
  const m = /^connected_slaves:(\d+)/m.exec(info);
  return m ? Number(m[1]) : 0;
}

/** Warn, per master, for each expected setting it does not have; never throws. */
export async function checkRedisSettings(redis: Redis, log: Logger): Promise<void> {
  const nodes = isCluster(redis) ? (redis as unknown as Cluster).nodes('master') : [redis];
  for (const node of nodes) {
    const where = `${node.options.host ?? '?'}:${node.options.port ?? '?'}`;
    const answer: string[] = [];
    let replicas: number;
    try {
      replicas = replicaCount(await node.info('replication'));
      for (const s of EXPECTED_SETTINGS)
        answer.push(...((await node.config('GET', s.name)) as string[]));
    } catch (err) {
      // A managed Redis may rename or refuse CONFIG: nothing to check with.
      log.info({ redis: where, err: (err as Error).message }, 'could not read Redis settings');
      continue;
    }
    for (const { setting, value } of missingSettings(answer, replicas)) {
      const shown = value ?? '(not answered)';
      log.warn(
        { redis: where, setting: setting.name, value: shown, want: setting.want, replicas },
        `Redis ${where} has ${setting.name} ${shown}; set it to ${setting.want}: ${setting.why}`,
      );
    }
  }
}
