import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A replica's identity: service, hostname, pid and a random part. In a
 * container the pid is 1 in every replica and the hostname is the container
 * id; the random part keeps two processes apart even when both match (two
 * replicas started in one network namespace with reused pids).
 */
export function replicaId(service: string): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 40) || 'host';
  return [service, host, process.pid, randomBytes(3).toString('hex')].join('-');
}
