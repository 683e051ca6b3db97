import { SystemSample } from '@quantmon/shared';
import { describe, expect, it } from 'vitest';
import { errorRateFields } from './pipeline-stats.js';

describe('errorRateFields', () => {
  it('reports the rate with the count it is a percentage of', () => {
    // The start-up case: one of two probe calls failed, the pipeline counted nothing yet.
    expect(errorRateFields({ runs: 2, failures: 1 }, { errors: 0, operations: 0 })).toEqual({
      errorRate: 50,
      errorRateOperations: 2,
    });
    expect(errorRateFields({ runs: 12, failures: 0 }, { errors: 3, operations: 288 })).toEqual({
      errorRate: 1,
      errorRateOperations: 300,
    });
  });

  it('counts the errors as the volume when they outnumber the operations', () => {
    expect(errorRateFields({ runs: 0, failures: 0 }, { errors: 5, operations: 2 })).toEqual({
      errorRate: 100,
      errorRateOperations: 5,
    });
  });

  it('leaves both fields out when nothing happened', () => {
    expect(errorRateFields({ runs: 0, failures: 0 }, { errors: 0, operations: 0 })).toEqual({});
  });

  it('writes fields the system-sample schema accepts', () => {
    const fields = errorRateFields({ runs: 4, failures: 1 }, { errors: 0, operations: 96 });
    expect(SystemSample.parse({ host: 'h1', ts: 1_700_000_000_000, ...fields })).toMatchObject({
      errorRate: 1,
      errorRateOperations: 100,
    });
  });
});
