/**
 * The input series of empyrical's TestStats (quantopian/empyrical,
 * empyrical/tests/test_stats.py, class attributes), in percent / 100 exactly
 * as defined there so the doubles match numpy's.
 */
export type Obs = number | null;
export const pct = (xs: readonly Obs[]): Obs[] => xs.map((x) => (x === null ? null : x / 100));
export const NaN_ = Number.NaN;
export const WEEKLY = 52;
export const MONTHLY = 12;

// Input series, as defined at the top of TestStats.
export const simpleBenchmark = pct([0, 1, 0, 1, 0, 1, 0, 1, 0]);
export const positiveReturns = pct([1, 2, 1, 1, 1, 1, 1, 1, 1]);
export const negativeReturns = pct([0, -6, -7, -1, -9, -2, -6, -8, -5]);
export const mixedReturns = pct([null, 1, 10, -4, 2, 3, 2, 1, -10]);
export const flatLine1 = pct([1, 1, 1, 1, 1, 1, 1, 1, 1]);
export const weeklyReturns = pct([0, 1, 10, -4, 2, 3, 2, 1, -10]);
export const monthlyReturns = weeklyReturns;
export const oneReturn = pct([1]);
export const emptyReturns: Obs[] = [];
export const flatLine1Tz: Obs[] = Array.from({ length: 1000 }, () => 0.01);
export const posLine: Obs[] = Array.from({ length: 1000 }, (_, i) => i / 999);
export const one = [
  -0.00171614, 0.01322056, 0.03063862, -0.01422057, -0.00489779, 0.01268925, -0.03357711,
  0.01797036,
];
export const two = [
  0.01846232, 0.00793951, -0.01448395, 0.00422537, -0.00339611, 0.03756813, 0.0151531, 0.03549769,
];
export const neg = (xs: readonly Obs[]): Obs[] => xs.map((x) => (x === null ? null : -x));
export const zeros = (n: number): Obs[] => Array.from({ length: n }, () => 0);
