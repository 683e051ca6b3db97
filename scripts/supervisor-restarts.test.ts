import { describe, expect, it } from 'vitest';
import { restartRecord, serviceOfFile } from './supervisor-restarts.js';

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
