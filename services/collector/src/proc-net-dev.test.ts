import { describe, expect, it } from 'vitest';
import { netRates, parseNetDev } from './proc-net-dev.js';

const DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 4458288    6870    0    0    0     0          0         0  4458288    6870    0    0    0     0       0          0
  eth0: 1000    10    0    0    0     0          0         0  2000    20    0    0    0     0       0          0
  eth1:  500     5    0    0    0     0          0         0   250     2    0    0    0     0       0          0
`;

describe('parseNetDev', () => {
  it('sums bytes over every interface except loopback', () => {
    expect(parseNetDev(DEV)).toEqual({ rx: 1500, tx: 2250 });
  });
  it('answers undefined when only loopback or nothing is listed', () => {
    expect(parseNetDev(DEV.split('\n').slice(0, 3).join('\n'))).toBeUndefined();
    expect(parseNetDev('')).toBeUndefined();
  });
});

describe('netRates', () => {
  it('divides byte deltas by the elapsed seconds', () => {
    expect(
      netRates({ at: 0, c: { rx: 0, tx: 0 } }, { at: 2000, c: { rx: 4000, tx: 1000 } }),
    ).toEqual({ rx: 2000, tx: 500 });
  });
  it('answers undefined when counters went back (an interface reset) or no time passed', () => {
    expect(
      netRates({ at: 0, c: { rx: 10, tx: 0 } }, { at: 1000, c: { rx: 5, tx: 0 } }),
    ).toBeUndefined();
    expect(
      netRates({ at: 5, c: { rx: 0, tx: 0 } }, { at: 5, c: { rx: 5, tx: 0 } }),
    ).toBeUndefined();
  });
});
