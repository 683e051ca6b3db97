import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { freePort, startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { eventually, ROOT, startPipeline, type Pipeline } from '../helpers/services.js';

const PROMETHEUS = process.env['PROMETHEUS_BIN'] ?? 'prometheus';
const PROMTOOL = process.env['PROMTOOL_BIN'] ?? 'promtool';
const DEPLOY = join(ROOT, 'deploy', 'prometheus');
/** Exported by `npm start`'s supervisor, not by the services (tested with it). */
const SUPERVISOR_METRICS = ['quantmon_supervisor_restarts_total'];

function unavailable(): string | undefined {
  for (const bin of [PROMETHEUS, PROMTOOL]) {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (r.error) return `no ${bin} (${r.error.message}): apt-get install prometheus`;
  }
  return undefined;
}
const missing = unavailable();

interface ScrapeConfig {
  job_name: string;
  static_configs?: { targets: string[] }[];
  dns_sd_configs?: { names: string[]; port: number }[];
}

/** The port each job of deploy/prometheus/prometheus.yml scrapes, from its own config. */
function deployedJobs(): { job: string; service: string; port: number }[] {
  const cfg = parseYaml(readFileSync(join(DEPLOY, 'prometheus.yml'), 'utf8')) as {
    scrape_configs: ScrapeConfig[];
  };
  return cfg.scrape_configs.map((s) => {
    const target = s.static_configs?.[0]?.targets[0];
    const sd = s.dns_sd_configs?.[0];
    const [service, port] = target ? target.split(':') : [sd?.names[0], String(sd?.port)];
    return { job: s.job_name, service: service ?? '', port: Number(port) };
  });
}

async function api<T>(base: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`);
  const body = (await res.json()) as { status: string; data: T };
  if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body.data;
}

/**
 * The deploy/prometheus files against a running pipeline and a real
 * Prometheus (Debian's): every job of the shipped scrape config finds its
 * service up, the shipped rules load, and `promtool check metrics` accepts
 * every service's /metrics.
 */
describe.skipIf(missing !== undefined)(
  `Prometheus watching the pipeline${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    let redis: TestRedis;
    let pipeline: Pipeline;
    let prometheus: ChildProcess | undefined;
    let promOut = '';
    let dir: string;
    let base: string;

    beforeAll(async () => {
      redis = await startTestRedis();
      pipeline = await startPipeline(redis.url, uniquePrefix('prom'), {
        GATEWAY_SERIES_MAX: '50',
      });
      const res = await pipeline.post([
        { strategy: 'prom-a', ts: Date.now() - 2000, return: 0.01 },
        { strategy: 'prom-a', ts: Date.now() - 1000, return: -0.02 },
        { strategy: 'prom-b', ts: Date.now() - 1000, return: 0.005 },
      ]);
      expect(res.status).toBe(202);
    }, 120_000);

    afterAll(async () => {
      if (prometheus && prometheus.exitCode === null) {
        const exited = new Promise((r) => prometheus?.once('exit', r));
        prometheus.kill('SIGTERM');
        await exited;
      }
      await pipeline?.stop();
      await redis?.dispose();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('promtool check metrics accepts every service /metrics', async () => {
      // The scores reach the gateway: its opt-in per-strategy gauges are in the text too.
      const gatewayText = await eventually(
        async () => {
          const t = await (await fetch(`http://127.0.0.1:${pipeline.gateway.port}/metrics`)).text();
          return t.includes('quantmon_strategy_score{strategy="prom-b"') ? t : undefined;
        },
        30_000,
        'per-strategy gauges on the gateway',
      );
      expect(gatewayText).toMatch(/quantmon_strategy_metric\{strategy="prom-a",metric="winRate"/);
      for (const svc of pipeline.all) {
        const text = await (await fetch(`http://127.0.0.1:${svc.port}/metrics`)).text();
        const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
        expect({ service: svc.name, status: r.status, out: r.stdout + r.stderr }).toEqual({
          service: svc.name,
          status: 0,
          out: '',
        });
      }
      // The system-writer's loop check appears with its first host sample
      // (after the first interval and a systeminformation reading: seconds on a busy machine).
      const collector = await eventually(
        async () => {
          const t = await (
            await fetch(`http://127.0.0.1:${pipeline.collector.port}/metrics`)
          ).text();
          return t.includes('quantmon_health_check{check="loop:system-writer"') ? t : undefined;
        },
        30_000,
        "the collector's system-writer loop check",
      );
      expect(collector).toMatch(
        /quantmon_consumer_lag_entries\{stream="strategy-samples",group="scorer",service="collector"\} \d+/,
      );
      expect(collector).toMatch(/quantmon_health_check\{check="loop:system-writer"/);
    });

    it('a real Prometheus scrapes every job up and loads the rules', async () => {
      const jobs = deployedJobs();
      expect(jobs.map((j) => j.job).sort()).toEqual([
        'quantmon-alerter',
        'quantmon-collector',
        'quantmon-gateway',
        'quantmon-scorer',
      ]);
      // The shipped config, with each job's service discovery replaced by
      // the test's ports (compose's DNS names do not resolve here).
      const shipped = parseYaml(readFileSync(join(DEPLOY, 'prometheus.yml'), 'utf8')) as {
        global: Record<string, string>;
        rule_files: string[];
        scrape_configs: ScrapeConfig[];
      };
      const portOf = Object.fromEntries(pipeline.all.map((s) => [s.name, s.port]));
      dir = mkdtempSync(join(tmpdir(), 'quantmon-prometheus-'));
      const config = {
        global: { ...shipped.global, scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: shipped.rule_files.map((f) => join(DEPLOY, f)),
        scrape_configs: jobs.map((j) => ({
          job_name: j.job,
          static_configs: [{ targets: [`127.0.0.1:${portOf[j.service]}`] }],
        })),
      };
      writeFileSync(join(dir, 'prometheus.yml'), toYaml(config));
      const check = spawnSync(PROMTOOL, ['check', 'config', join(dir, 'prometheus.yml')], {
        encoding: 'utf8',
      });
      expect(check.status, check.stdout + check.stderr).toBe(0);

      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      prometheus = spawn(
        PROMETHEUS,
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      prometheus.stdout?.on('data', (d: Buffer) => (promOut += d.toString()));
      prometheus.stderr?.on('data', (d: Buffer) => (promOut += d.toString()));

      type Targets = { activeTargets: { labels: { job: string }; health: string }[] };
      const up = await eventually(
        async () => {
          if (prometheus?.exitCode !== null) throw new Error(`prometheus exited:\n${promOut}`);
          try {
            const t = await api<Targets>(base, '/api/v1/targets');
            const healthy = t.activeTargets.filter((x) => x.health === 'up');
            return healthy.length === jobs.length ? healthy : undefined;
          } catch {
            return undefined; // not listening yet
          }
        },
        60_000,
        'every target up',
      );
      expect(up.map((t) => t.labels.job).sort()).toEqual(jobs.map((j) => j.job).sort());

      const shippedRules = parseYaml(readFileSync(join(DEPLOY, 'quantmon-rules.yml'), 'utf8')) as {
        groups: { name: string; rules: { alert: string }[] }[];
      };
      type Rules = { groups: { name: string; rules: { name: string; health: string }[] }[] };
      const rules = await api<Rules>(base, '/api/v1/rules');
      expect(rules.groups.map((g) => g.name)).toEqual(shippedRules.groups.map((g) => g.name));
      expect(rules.groups.flatMap((g) => g.rules.map((r) => r.name))).toEqual(
        shippedRules.groups.flatMap((g) => g.rules.map((r) => r.alert)),
      );

      // Scraped series arrive, with the service label the registries set.
      type Vector = { result: { metric: Record<string, string>; value: [number, string] }[] };
      const health = await eventually(
        async () => {
          const v = await api<Vector>(base, '/api/v1/query?query=quantmon_health_check');
          return new Set(v.result.map((r) => r.metric['service'])).size === 4 ? v : undefined;
        },
        30_000,
        'quantmon_health_check from every service',
      );
      expect(health.result.every((r) => r.value[1] === '1')).toBe(true);
      // No pipeline alert fires against a healthy pipeline (pending is the most a rule may reach).
      type Alerts = { alerts: { labels: { alertname: string }; state: string }[] };
      const alerts = await api<Alerts>(base, '/api/v1/alerts');
      expect(alerts.alerts.filter((a) => a.state === 'firing')).toEqual([]);
    }, 120_000);

    it('the Grafana dashboard and the rules query only metrics the services export, in valid PromQL', async () => {
      expect(base, 'Prometheus started by the previous test').toBeDefined();
      const exported = new Set<string>();
      for (const svc of pipeline.all) {
        const text = await (await fetch(`http://127.0.0.1:${svc.port}/metrics`)).text();
        for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
          exported.add(name!);
          if (type === 'histogram')
            for (const s of ['_bucket', '_sum', '_count']) exported.add(name + s);
        }
      }
      for (const name of SUPERVISOR_METRICS) exported.add(name);
      const dashboard = JSON.parse(
        readFileSync(join(ROOT, 'deploy', 'grafana', 'dashboards', 'quantmon.json'), 'utf8'),
      ) as { uid: string; panels: { type: string; targets?: { expr: string }[] }[] };
      expect(dashboard.uid).toBe('quantmon-pipeline');
      const panelExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
      expect(panelExprs.length).toBeGreaterThan(10);
      const rules = parseYaml(readFileSync(join(DEPLOY, 'quantmon-rules.yml'), 'utf8')) as {
        groups: { rules: { expr: string }[] }[];
      };
      const exprs = [...panelExprs, ...rules.groups.flatMap((g) => g.rules.map((r) => r.expr))];
      const unknown = exprs.flatMap((e) =>
        [...e.matchAll(/\bquantmon_[a-z0-9_]+/g)].map((m) => m[0]).filter((n) => !exported.has(n)),
      );
      expect(unknown).toEqual([]);
      // Grafana's template variables stand for label values: any regex will do for parsing.
      for (const expr of panelExprs) {
        const q = expr.replaceAll('$strategy', '.*').replaceAll('$metric', '.*');
        const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
        expect({ expr, status: res.status }).toEqual({ expr, status: 200 });
      }
    });
  },
);
