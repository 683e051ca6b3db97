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
  want: string;
  why: string;
}

export const EXPECTED_SETTINGS: readonly ExpectedSetting[] = [
  {
    name: 'lazyfree-lazy-expire',
    want: 'yes',
    why:
      'a day of a strategy’s ingest marks is one set, and every strategy’s set expires within a few hours of the others: ' +
      'freed in the thread that answers, a set of 5 M marks stopped Redis for 839 ms ' +
      '(docs/operations.md, "Redis\'s frees")',
  },
];

/** The settings a node's `CONFIG GET` answer (name, value, name, value...) does not have as wanted. */
export function missingSettings(
  answer: readonly string[],
): { setting: ExpectedSetting; value: string | undefined }[] {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < answer.length; i += 2) values.set(answer[i]!, answer[i + 1]!);
  return EXPECTED_SETTINGS.map((setting) => ({ setting, value: values.get(setting.name) })).filter(
    ({ setting, value }) => value !== setting.want,
  );
}

/** Warn, per master, for each expected setting it does not have; never throws. */
export async function checkRedisSettings(redis: Redis, log: Logger): Promise<void> {
  const nodes = isCluster(redis) ? (redis as unknown as Cluster).nodes('master') : [redis];
  for (const node of nodes) {
    const where = `${node.options.host ?? '?'}:${node.options.port ?? '?'}`;
    const answer: string[] = [];
    try {
      for (const s of EXPECTED_SETTINGS)
        answer.push(...((await node.config('GET', s.name)) as string[]));
    } catch (err) {
      // A managed Redis may rename or refuse CONFIG: nothing to check with.
      log.info({ redis: where, err: (err as Error).message }, 'could not read Redis settings');
      continue;
    }
    for (const { setting, value } of missingSettings(answer)) {
      log.warn(
        {
          redis: where,
          setting: setting.name,
          value: value ?? '(not answered)',
          want: setting.want,
        },
        `Redis ${where} has ${setting.name} ${value ?? '(not answered)'}; set it to ${setting.want}: ${setting.why}`,
      );
    }
  }
}
