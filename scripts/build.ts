/**
 * `npm run build`: every workspace compiled to JavaScript in its dist/.
 *
 * - packages/shared and packages/client: tsc (tsconfig.build.json), with
 *   .d.ts files; `@quantmon/shared` resolves to packages/shared/dist for
 *   plain node (package.json "exports"), while tsx, vitest and tsc resolve it
 *   to the sources (tsconfig.json "paths", vitest.config.ts alias).
 * - services/<name>: esbuild, one ES module per entry point (src/main.ts ->
 *   dist/main.js, src/cli/x.ts -> dist/cli/x.js), with every npm package and
 *   @quantmon/shared left as imports (production dependencies at run time)
 *   and the service's own modules (and the few it imports from another
 *   service's src) bundled in. dist/ sits beside src/, so paths a module
 *   resolves from its own URL (../public, ../openapi.yaml, ../migrations)
 *   stay right. Type checking is `npm run typecheck` (esbuild only strips
 *   types).
 * - the dashboard bundle (services/gateway/public/dist), as npm start builds it.
 *
 * Run with tsx (a dev dependency, like esbuild and typescript): building
 * needs the dev dependencies, running the output does not.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { build } from 'esbuild';
import { buildDashboard } from '../services/gateway/src/build-dashboard.js';

const root = resolve(import.meta.dirname, '..');
const started = Date.now();

function say(msg: string): void {
  process.stdout.write(`build: ${msg}\n`);
}

/** The TypeScript packages compiled by tsc, in dependency order. */
const TSC_PACKAGES = ['packages/shared', 'packages/client'].filter((p) =>
  existsSync(join(root, p, 'tsconfig.build.json')),
);

/** Entry points of a service: src/main.ts and src/cli/*.ts (tests excluded). */
function serviceEntries(dir: string): string[] {
  const src = join(dir, 'src');
  const entries = existsSync(join(src, 'main.ts')) ? [join(src, 'main.ts')] : [];
  const cli = join(src, 'cli');
  if (existsSync(cli)) {
    for (const f of readdirSync(cli).sort()) {
      if (f.endsWith('.ts') && !f.endsWith('.test.ts')) entries.push(join(cli, f));
    }
  }
  return entries;
}

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
for (const pkg of TSC_PACKAGES) {
  rmSync(join(root, pkg, 'dist'), { recursive: true, force: true });
  execFileSync(process.execPath, [tsc, '-p', join(pkg, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  });
  say(`${pkg} -> ${pkg}/dist (tsc)`);
}

const services = readdirSync(join(root, 'services'))
  .map((name) => join(root, 'services', name))
  .filter((dir) => existsSync(join(dir, 'src', 'main.ts')))
  .sort();
for (const dir of services) {
  const outdir = join(dir, 'dist');
  rmSync(outdir, { recursive: true, force: true });
  const entryPoints = serviceEntries(dir);
  await build({
    entryPoints,
    outbase: join(dir, 'src'),
    outdir,
    bundle: true,
    // npm packages (and @quantmon/shared, compiled above) stay imports: installed at run time.
    packages: 'external',
    // Not tsconfig.json: its "paths" point @quantmon/shared at the sources, which would bundle them.
    tsconfig: join(root, 'tsconfig.base.json'),
    external: ['@quantmon/shared', '@quantmon/shared/*'],
    platform: 'node',
    format: 'esm',
    // The oldest Node these machines run; the image runs the current LTS.
    target: 'node20.19',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  say(`${relative(root, dir)} -> ${relative(root, outdir)} (${entryPoints.length} entry points)`);
}

const dashboard = await buildDashboard();
say(`dashboard -> ${relative(root, dashboard)}`);
say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
