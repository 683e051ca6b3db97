import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce } from '../helpers/build-once.js';
import { allPartitions, EMERGENCY_QUEUE, keysFor } from '@quantmon/shared';
import { startTestRedis, uniquePrefix, type TestRedis } from '../helpers/redis-server.js';
import { emergencyJobData } from '../helpers/emergency-job.js';
import { eventually, ROOT } from '../helpers/services.js';
import { startIngestServer } from './collector-harness.js';

const CLIENT = join(ROOT, 'packages', 'client');

/** The runner's environment without NODE_OPTIONS (vitest's loader): plain node. */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env['NODE_OPTIONS'];
  return env;
}

/**
 * @quantmon/client as another repository gets it: `npm pack`ed, installed
 * from the tarball into a separate package directory (its dependencies from
 * npm's cache: --prefer-offline), imported there by plain node, its types
 * checked by tsc, and used against a real Redis.
 */
describe('@quantmon/client from a tarball', () => {
  let redis: TestRedis;
  let conn: Redis;
  let dir: string;

  beforeAll(async () => {
    // The run's one build compiles packages/client (another file's build would delete its dist/ mid-pack).
    await buildOnce('all');
    if (!existsSync(join(CLIENT, 'dist'))) {
      execFileSync(
        process.execPath,
        [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
        { cwd: CLIENT, stdio: 'pipe' },
      );
    }
    dir = mkdtempSync(join(tmpdir(), 'quantmon-client-'));
    execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], {
      cwd: CLIENT,
      stdio: 'pipe',
    });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    expect(tarball, 'npm pack wrote a tarball').toBeDefined();
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'trading-stack', private: true, type: 'module' }),
    );
    execFileSync(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent', `./${tarball}`],
      { cwd: dir, stdio: 'pipe', env: plainEnv() },
    );
    redis = await startTestRedis();
    conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  }, 240_000);

  afterAll(async () => {
    conn?.disconnect();
    await redis?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships only compiled JavaScript and declarations', () => {
    const pkg = join(dir, 'node_modules', '@quantmon', 'client');
    expect(existsSync(join(pkg, 'dist', 'client', 'src', 'index.js'))).toBe(true);
    expect(existsSync(join(pkg, 'dist', 'client', 'src', 'index.d.ts'))).toBe(true);
    expect(existsSync(join(pkg, 'src'))).toBe(false);
  });

  it('type-checks a TypeScript consumer against the installed declarations', () => {
    writeFileSync(
      join(dir, 'consumer.ts'),
      `import { EmergencyJobData, publishSamples, SampleSocket, type EmergencyHandler, type IngestSocketAnswer } from '@quantmon/client';
const handler: EmergencyHandler = async (data: EmergencyJobData) => { void data.alert.subject; };
const ids: Promise<string[]> = publishSamples(null as never, []);
const answer: Promise<IngestSocketAnswer> = (null as unknown as SampleSocket).send({ strategy: 's', ts: 1, return: 0 });
void handler; void ids; void answer;
`,
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2023',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSyncText(process.execPath, [tsc, '-p', 'tsconfig.json'], dir);
    expect(r, 'tsc on the consumer').toBe('');
  });

  it('publishes samples with examples/publish-samples.mjs under plain node', async () => {
    const prefix = uniquePrefix('client');
    copyFileSync(join(ROOT, 'examples', 'publish-samples.mjs'), join(dir, 'publish-samples.mjs'));
    const out = execFileSync(process.execPath, ['publish-samples.mjs'], {
      cwd: dir,
      env: plainEnv({ REDIS_URL: redis.url, QUANTMON_PREFIX: prefix, STRATEGY: 'client-a' }),
      encoding: 'utf8',
    });
    expect(out).toContain('published 3 samples of client-a');
    expect(out).toMatch(/a bad sample is refused: .+/);
    const keys = keysFor(prefix);
    const p = Number(await conn.get(keys.partitionCount));
    expect(p).toBeGreaterThan(0);
    let total = 0;
    for (const part of allPartitions(p))
      total += await conn.xlen(keys.partition(part).strategySamples);
    expect(total).toBe(3);
  });

  it('sends samples over the ingest socket with SampleSocket under plain node', async () => {
    const prefix = uniquePrefix('clientsock');
    const srv = await startIngestServer({ redis: conn, prefix, tokens: ['tok'] });
    try {
      writeFileSync(
        join(dir, 'socket.mjs'),
        `import { SampleSocket } from '@quantmon/client';
const socket = await SampleSocket.open({ url: process.env.URL, token: 'tok' });
const answers = await Promise.all([
  socket.send({ strategy: 'sock-a', ts: 1, return: 0.01, id: 'a1' }),
  socket.send({ strategy: 'sock-a', ts: 2, retrun: 0.01 }),
  socket.send([{ strategy: 'sock-a', ts: 3, return: -0.01, id: 'a3' }]),
]);
await socket.close();
console.log(JSON.stringify(answers.map((a) => [a.seq, a.status])));
`,
      );
      // Not execFileSync: the collector answering it runs in this process.
      const { stdout: out } = await promisify(execFile)(process.execPath, ['socket.mjs'], {
        cwd: dir,
        env: plainEnv({ URL: srv.socketUrl }),
        encoding: 'utf8',
      });
      expect(JSON.parse(out)).toEqual([
        [1, 202],
        [2, 400],
        [3, 202],
      ]);
      const keys = keysFor(prefix);
      let total = 0;
      for (const part of allPartitions(srv.partitions))
        total += await conn.xlen(keys.partition(part).strategySamples);
      expect(total).toBe(2);
    } finally {
      await srv.close();
    }
  });

  it('runs a typed emergency worker that handles valid jobs and fails malformed ones', async () => {
    const prefix = uniquePrefix('clientbull');
    writeFileSync(
      join(dir, 'worker.mjs'),
      `import { createEmergencyWorker } from '@quantmon/client';
import { Redis } from 'ioredis';
const connection = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
const worker = createEmergencyWorker({
  connection,
  prefix: process.env.BULLMQ_PREFIX,
  handlers: {
    'risk-reduction': async (data, job) => console.log('handled', job.id, data.alert.subject),
  },
});
worker.on('failed', (job, err) => console.log('failed', job?.id, err.message));
process.once('SIGTERM', async () => { await worker.close(); connection.disconnect(); });
console.log('ready');
`,
    );
    const proc = spawn(process.execPath, ['worker.mjs'], {
      cwd: dir,
      env: plainEnv({ REDIS_URL: redis.url, BULLMQ_PREFIX: prefix }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const queue = new Queue(EMERGENCY_QUEUE, { connection: conn, prefix });
    try {
      await eventually(() => (out.includes('ready') ? true : undefined), 30_000, 'worker ready');
      const data = emergencyJobData('client-a');
      const { alert } = data;
      await queue.add('risk-reduction', data, { jobId: alert.incidentId });
      await queue.add('risk-reduction', { alert: { nonsense: true } }, { jobId: 'bad-payload' });
      await eventually(
        () =>
          out.includes(`handled ${alert.incidentId} strategy/client-a`) &&
          out.includes('failed bad-payload invalid emergency job bad-payload')
            ? true
            : undefined,
        30_000,
        `the worker's output, so far:\n${out}`,
      );
      // Malformed: no retries (UnrecoverableError), kept in the failed set.
      expect(await queue.getJobState('bad-payload')).toBe('failed');
    } finally {
      await queue.close();
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
  }, 90_000);
});

function spawnSyncText(cmd: string, args: string[], cwd: string): string {
  try {
    execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
}
