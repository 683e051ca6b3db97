/**
 * Turn a service's pino JSON line into one readable line for `npm start`:
 * "12:00:01 scorer    info  scorer ready port=8082". Non-JSON passes through.
 */
const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'name', 'service', 'msg', 'v']);

export function formatLogLine(service: string, line: string): string {
  const tag = service.padEnd(9);
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${clock(Date.now())} ${tag} ${line}`;
  }
  if (typeof rec !== 'object' || rec === null) return `${clock(Date.now())} ${tag} ${line}`;
  const level = LEVELS[Number(rec['level'])] ?? 'info';
  const extra = Object.entries(rec)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const time = typeof rec['time'] === 'number' ? rec['time'] : Date.now();
  return `${clock(time)} ${tag} ${level.padEnd(5)} ${String(rec['msg'] ?? '')}${extra ? ` ${extra}` : ''}`;
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}
