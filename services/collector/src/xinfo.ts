/**
 * XINFO replies as typed records, parsed in one place for the collector
 * (backpressure and pipeline stats). Redis answers XINFO STREAM and each
 * group of XINFO GROUPS as a flat [name, value, name, value, ...] array;
 * a field this Redis does not report (before 7.0: `entries-added`,
 * `entries-read`, `lag`), or reports as nil (`lag` when Redis cannot tell),
 * reads as undefined.
 */

/** One field of a flat [k, v, k, v] reply; undefined when absent. */
export function xinfoField(flat: unknown, name: string): unknown {
  if (!Array.isArray(flat)) return undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
  return undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** What the collector reads of XINFO STREAM. */
export interface StreamInfo {
  /** Entries ever added (Redis >= 7): a cumulative counter, unlike XLEN. */
  entriesAdded: number | undefined;
  length: number | undefined;
}

export function parseStreamInfo(reply: unknown): StreamInfo {
  return {
    entriesAdded: num(xinfoField(reply, 'entries-added')),
    length: num(xinfoField(reply, 'length')),
  };
}

/** What the collector reads of one group in XINFO GROUPS. */
export interface GroupInfo {
  name: string;
  /** Entries of the stream the group has not been delivered yet; undefined when Redis cannot tell. */
  lag: number | undefined;
  /** Delivered, not acknowledged. */
  pending: number | undefined;
  /** Entries delivered to the group so far (cumulative). */
  entriesRead: number | undefined;
  /** The newest entry delivered to the group (`0-0` before any): stream retention keeps what follows. */
  lastDeliveredId: string;
}

export function parseGroups(reply: unknown): GroupInfo[] {
  if (!Array.isArray(reply)) return [];
  const out: GroupInfo[] = [];
  for (const g of reply) {
    const name = xinfoField(g, 'name');
    if (typeof name !== 'string') continue;
    out.push({
      name,
      lag: num(xinfoField(g, 'lag')),
      pending: num(xinfoField(g, 'pending')),
      entriesRead: num(xinfoField(g, 'entries-read')),
      lastDeliveredId: String(xinfoField(g, 'last-delivered-id') ?? '0-0'),
    });
  }
  return out;
}

/** XINFO on a stream that does not exist answers this error. */
export function isNoSuchKey(err: unknown): boolean {
  return err instanceof Error && /no such key/i.test(err.message);
}
