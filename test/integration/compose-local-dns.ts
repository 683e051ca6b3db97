import { createSocket, type Socket } from 'node:dgram';

/**
 * A minimal DNS server on a loopback UDP port standing in for Docker's
 * embedded DNS (127.0.0.11): it answers A queries for the names it is given
 * (one record per replica, as Docker does for a scaled service) and
 * NXDOMAIN for anything else. Enough for nginx's `resolver` (ipv6=off: A
 * queries only).
 */
export interface TestDns {
  port: number;
  /** Queries answered, by name (nginx re-resolves every `valid=` seconds). */
  queries: Map<string, number>;
  close: () => Promise<void>;
}

/** The question's name (dotted, lower case), its end offset and type, or undefined if malformed. */
function readQuestion(msg: Buffer): { name: string; end: number; type: number } | undefined {
  let i = 12;
  const labels: string[] = [];
  while (i < msg.length) {
    const len = msg[i]!;
    if (len === 0) {
      i++;
      break;
    }
    if (len > 63 || i + 1 + len > msg.length) return undefined; // no compression in questions
    labels.push(msg.toString('latin1', i + 1, i + 1 + len));
    i += 1 + len;
  }
  if (i + 4 > msg.length) return undefined;
  return { name: labels.join('.').toLowerCase(), end: i + 4, type: msg.readUInt16BE(i) };
}

/** The answer to one query: the header and question copied, then A records (TTL 5 s). */
export function dnsAnswer(query: Buffer, records: ReadonlyMap<string, readonly string[]>): Buffer {
  const q = readQuestion(query);
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  if (!q) {
    header.writeUInt16BE(0x8001, 2); // response, FORMERR
    return header;
  }
  const addrs = q.type === 1 ? (records.get(q.name) ?? []) : [];
  const known = records.has(q.name);
  // QR=1, opcode 0, AA=1, RD copied, RA=1; RCODE 3 (NXDOMAIN) for unknown names.
  const rd = (query[2]! & 0x01) << 8;
  header.writeUInt16BE(0x8480 | rd | (known ? 0 : 3), 2);
  header.writeUInt16BE(1, 4); // one question
  header.writeUInt16BE(addrs.length, 6);
  const answers = addrs.map((ip) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    rr.writeUInt16BE(1, 2); // A
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(5, 6); // TTL
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((o, k) => rr.writeUInt8(Number(o), 12 + k));
    return rr;
  });
  return Buffer.concat([header, query.subarray(12, q.end), ...answers]);
}

export async function startTestDns(
  records: ReadonlyMap<string, readonly string[]>,
): Promise<TestDns> {
  const socket: Socket = createSocket('udp4');
  const queries = new Map<string, number>();
  socket.on('message', (msg, from) => {
    const name = readQuestion(msg)?.name ?? '?';
    queries.set(name, (queries.get(name) ?? 0) + 1);
    socket.send(dnsAnswer(msg, records), from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  return {
    port: socket.address().port,
    queries,
    close: () => new Promise((r) => socket.close(() => r())),
  };
}
