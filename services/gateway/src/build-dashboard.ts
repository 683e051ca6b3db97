/**
 * Bundle the dashboard (public-src/*.ts, uPlot) into public/dist/app.js and
 * app.css with esbuild. Run by `npm start` before the services, by the
 * Dockerfile's build stage, and by the browser tests; by hand:
 *   npx tsx services/gateway/src/build-dashboard.ts
 * public/dist/ is a build output (ignored by git through the `dist/` rule).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export async function buildDashboard(opts: { minify?: boolean } = {}): Promise<string> {
  // esbuild is a dev dependency: imported here only, never by the running gateway.
  const { build } = await import('esbuild');
  const outdir = `${root}public/dist`;
  await build({
    entryPoints: { app: `${root}public-src/main.ts`, 'app-style': `${root}public-src/app.css` },
    bundle: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    minify: opts.minify ?? true,
    sourcemap: 'linked',
    outdir,
    entryNames: '[name]',
    logLevel: 'warning',
  });
  return outdir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = await buildDashboard();
  process.stdout.write(`dashboard built in ${out}\n`);
}
