/**
 * Loaded with NODE_OPTIONS="--import ./bench/cpu-profile-preload.mjs" by
 * `npm run bench:pipeline -- --profile DIR` (NODE_OPTIONS refuses
 * --cpu-prof): profiles the whole process with the inspector and writes
 * DIR/<script>-<pid>.cpuprofile when it exits.
 */
import { writeFileSync } from 'node:fs';
import process from 'node:process';
import { Session } from 'node:inspector';
import { basename, dirname, join } from 'node:path';

const dir = process.env.QUANTMON_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  const script = process.argv[1] ?? 'node';
  const name = `${basename(dirname(dirname(script)))}-${basename(script, '.ts')}-${process.pid}`;
  process.on('exit', () => {
    // An in-process session answers synchronously, so this completes inside 'exit'.
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
