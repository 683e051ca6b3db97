import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually, startPipeline, startService, type Pipeline } from '../helpers/services.js';

interface Alert {
  incidentId: string;
  rule: string;
  subject: string;
  state: string;
  value: number;
}

/**
 * The default `service_down` rule end to end (issue 13, item 2): a
 * SIGKILLed scorer stops beating, every collector's host sample carries the
 * growing `serviceSilence`, the alerter opens one `system` incident; a
 * restarted scorer beats again and it resolves. The rules file shortens the
 * threshold and the start-up grace so the test does not wait a minute; the
 * defaults are what the rule tests check.
 */
describe('service_down: a killed service alerts and resolves after a restart', () => {
  let redisServer: TestRedis;
  let pipeline: Pipeline;
  let base: string;
  const dir = mkdtempSync(join(tmpdir(), 'quantmon-desk-rules-'));
  const rulesFile = join(dir, 'rules.yaml');

  beforeAll(async () => {
    writeFileSync(
      rulesFile,
      'rules:\n  service_down:\n    threshold: 4\n    clearThreshold: 2\n    startupGrace: 0\n',
    );
    redisServer = await startTestRedis();
    pipeline = await startPipeline(redisServer.url, uniquePrefix('deskdown'), {
      RULES_FILE: rulesFile,
    });
    base = `http://127.0.0.1:${pipeline.gateway.port}`;
  });

  afterAll(async () => {
    await pipeline?.stop();
    await redisServer?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const alerts = async (query: string): Promise<{ active: Alert[]; events: Alert[] }> =>
    (await (await fetch(`${base}/api/alerts?${query}`)).json()) as {
      active: Alert[];
      events: Alert[];
    };

  it('opens one system incident while the scorer is gone and resolves it once a new scorer beats', async () => {
    // Nothing fires while every service beats.
    await eventually(
      async () => {
        const h = (await (await fetch(`${base}/api/pipeline`)).json()) as {
          services: { status: string }[];
        };
        return h.services.every((s) => s.status === 'up') ? true : undefined;
      },
      15_000,
      'all services up',
    );
    expect((await alerts('state=firing')).active.filter((a) => a.rule === 'service_down')).toEqual(
      [],
    );
    await pipeline.scorer.kill();
    const firing = await eventually(
      async () =>
        (await alerts('state=firing')).active.find(
          (a) => a.rule === 'service_down' && a.subject === 'system',
        ),
      30_000,
      'service_down firing',
    );
    expect(firing.value).toBeGreaterThan(4);
    const scorer = await startService('scorer', pipeline.env);
    pipeline.all[pipeline.all.indexOf(pipeline.scorer)] = scorer;
    pipeline.scorer = scorer;
    const resolved = await eventually(
      async () =>
        (await alerts('state=resolved')).events.find(
          (e) => e.incidentId === firing.incidentId && e.state === 'resolved',
        ),
      30_000,
      'service_down resolved',
    );
    expect(resolved.value).toBeLessThanOrEqual(2);
    // One incident for the pipeline, not one per collector or replica.
    const all = (await alerts('limit=200')).events.filter((e) => e.rule === 'service_down');
    expect(new Set(all.map((e) => e.incidentId)).size).toBe(1);
  });
});
