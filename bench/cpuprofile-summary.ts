/**
 * `npx tsx bench/cpuprofile-summary.ts FILE.cpuprofile [N]`: where a
 * `node --cpu-prof` profile spent its time, as the N heaviest functions by
 * self time and the heaviest source files (node_modules packages folded
 * into one line each), in percent of the profile's samples; then the N
 * heaviest by total time (the function and everything it called, each
 * sample counted once per function however deep the recursion), which is
 * where a stage's whole cost shows (an HTTP request from the parser up).
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
// Piped into `head`, the reader may go first: that is the end, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const file = process.argv[2];
if (!file) throw new Error('usage: cpuprofile-summary FILE.cpuprofile [N]');
const top = Number(process.argv[3] ?? 25);
const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[] };
const total = prof.samples.length;
const hits = new Map<number, number>();
for (const s of prof.samples) hits.set(s, (hits.get(s) ?? 0) + 1);

/** A short place name: the package for node_modules, else the path under the repository. */
function place(url: string): string {
  if (!url) return '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `npm:${nm[1]}`;
  if (url.startsWith('node:')) return url;
  const i = url.indexOf('/main/');
  return i >= 0 ? url.slice(i + 6) : url;
}
const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
for (const n of prof.nodes) {
  const h = hits.get(n.id) ?? 0;
  if (!h) continue;
  const f = `${n.callFrame.functionName || '(anonymous)'} ${place(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  byFn.set(f, (byFn.get(f) ?? 0) + h);
  const p = place(n.callFrame.url);
  byFile.set(p, (byFile.get(p) ?? 0) + h);
}
const pct = (h: number): string => `${((100 * h) / total).toFixed(1).padStart(5)} %`;
const show = (title: string, m: Map<string, number>): void => {
  console.log(`\n${title}`);
  for (const [k, h] of [...m].sort((x, y) => y[1] - x[1]).slice(0, top))
    console.log(`${pct(h)}  ${k}`);
};
/** Per node, the samples of its subtree; per function, those of its outermost frames. */
function totals(): Map<string, number> {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const name = (n: Node): string =>
    `${n.callFrame.functionName || '(anonymous)'} ${place(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const out = new Map<string, number>();
  const walk = (id: number, onStack: Set<string>): number => {
    const n = byId.get(id)!;
    const f = name(n);
    const outer = !onStack.has(f);
    if (outer) onStack.add(f);
    let h = hits.get(id) ?? 0;
    for (const c of n.children ?? []) h += walk(c, onStack);
    if (outer) {
      onStack.delete(f);
      out.set(f, (out.get(f) ?? 0) + h);
    }
    return h;
  };
  walk(prof.nodes[0]!.id, new Set());
  return out;
}
console.log(`${file}: ${total} samples`);
show('self time by function', byFn);
show('self time by file or package', byFile);
show('total time by function (with what it called)', totals());
