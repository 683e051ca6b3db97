import { Redis } from 'ioredis';
import { spawnRedisServer } from '../../scripts/local-redis.js';
const r = await spawnRedisServer({ persistence: 'none', detached: true, stdio: (process.env.IGN ? 'ignore' : ['ignore', 'pipe', 'pipe']) });
const c = new Redis(r.url);
await c.config('SET', 'loglevel', 'verbose');
for (let i = 0; i < 3000; i++) {
  const x = new Redis(r.url, { lazyConnect: true }); await x.connect(); await x.ping(); x.disconnect();
  if (i % 500 === 0) {
    const t = Date.now();
    const ok = await Promise.race([c.ping(), new Promise((res) => setTimeout(() => res('TIMEOUT'), 3000))]);
    console.log(i, ok, Date.now() - t, 'ms');
    if (ok === 'TIMEOUT') break;
  }
}
r.proc().kill('SIGKILL'); process.exit(0);
