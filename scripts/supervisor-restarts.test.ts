import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { uniquePrefix } from '../test/helpers/redis-server.js';
import { spawnRedisServer } from './local-redis.js';
import {
  CLOSE_WAIT_MS,
  openRestartLog,
  restartRecord,
  serviceOfFile,
} from './supervisor-restarts.js';

describe('supervisor restart records', () => {
  it('names the service from the file a child runs', () => {
    expect(serviceOfFile('services/scorer/src/main.ts')).toBe('scorer');
    expect(serviceOfFile('/app/services/gateway/dist/main.js')).toBe('gateway');
    expect(serviceOfFile('scripts/demo-feed.ts')).toBe('demo-feed');
  });

  it('records a replica restart under its service, with how it ended', () => {
    const r = restartRecord(
      {
        child: 'scorer-2',
        file: 'services/scorer/src/main.ts',
        code: null,
        signal: 'SIGKILL',
        how: 'killed by SIGKILL',
        restarts: 3,
        at: 2000,
      },
      'desk-1',
      1000,
    );
    expect(r).toEqual({
      service: 'scorer',
      child: 'scorer-2',
      host: 'desk-1',
      restarts: 3,
      lastAt: 2000,
      lastExit: 'killed by SIGKILL',
      exitCode: null,
      signal: 'SIGKILL',
      supervisorStartedAt: 1000,
    });
  });

  it('refuses a record that would not pass the gateway schema', () => {
    expect(() =>
      restartRecord(
        { child: '', file: 'x', code: 1, signal: null, how: 'exited', restarts: 1, at: 1 },
        'h',
        0,
      ),
    ).toThrow(/child/);
  });
});

describe('the restart log, closed as npm start stops', () => {
  it('lets go of a Redis that no longer answers', async () => {
    const server = await spawnRedisServer({ persistence: 'none' });
    try {
      const log = await openRestartLog({
        target: server.url,
        prefix: uniquePrefix('restarts'),
        host: 'desk-1',
        onError: () => undefined,
      });
      // Stopped, not dead: the connection stays open and nothing is answered.
      server.proc().kill('SIGSTOP');
      const t0 = Date.now();
      // Without a bound, close() waited for the answer, and npm start with
      // it. The test's own bound lets the finally below kill the server.
      const closed = await Promise.race([
        log.close().then(() => true),
        sleep(CLOSE_WAIT_MS + 5000).then(() => false),
      ]);
      expect({ closed, ms: Date.now() - t0 }).toEqual({
        closed: true,
        ms: expect.any(Number) as number,
      });
      expect(Date.now() - t0).toBeLessThan(CLOSE_WAIT_MS + 2000);
    } finally {
      server.proc().kill('SIGKILL');
      await server.dispose();
    }
  }, 20_000);
});
