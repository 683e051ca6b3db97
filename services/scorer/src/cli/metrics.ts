/**
 * Batch command: `npm run -s metrics -- [options] FILE` (FILE `-` = stdin).
 * Prints one JSON object keyed by metric name: whole-series values from the
 * batch reference, or with a window one value per full window from the
 * incremental engine. NaN is printed as null, infinities as "Infinity" /
 * "-Infinity". A bad file or option exits with code 2 and a message naming
 * the JSON field or CSV line.
 */
import { readFileSync } from 'node:fs';
import { runMetricsCommand } from './metrics-command.js';

process.exitCode = await runMetricsCommand(process.argv.slice(2), {
  stdin: () => readFileSync(0, 'utf8'),
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
