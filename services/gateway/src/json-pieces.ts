/**
 * A large JSON document (a snapshot of every strategy, /api/summary) as
 * pieces of about `pieceBytes` each instead of one string. One
 * JSON.stringify of 10,000 score updates is a ~10 MiB string: V8 puts it
 * in large-object space, which only a full mark-compact frees, so every
 * dashboard that connects grew the gateway's heap by tens of MiB until
 * the next major GC (the soak's sawtooth). Pieces of tens of KiB die young
 * and are scavenged at once.
 *
 * The text is exactly JSON.stringify of `{...head, [key]: items, ...tail}`
 * (key order: head's, then key, then tail's), so clients cannot tell.
 */
export function* jsonPieces(
  head: Record<string, unknown>,
  key: string,
  items: Iterable<unknown>,
  tail: Record<string, unknown>,
  pieceBytes = 64 * 1024,
): Generator<string> {
  const open = JSON.stringify(head);
  const sep = open === '{}' ? '' : ',';
  let piece = `${open.slice(0, -1)}${sep}${JSON.stringify(key)}:[`;
  let first = true;
  for (const item of items) {
    const text = JSON.stringify(item);
    // Same as JSON.stringify on an array: a value with no JSON form is null.
    piece += (first ? '' : ',') + (text === undefined ? 'null' : text);
    first = false;
    if (piece.length >= pieceBytes) {
      yield piece;
      piece = '';
    }
  }
  const close = JSON.stringify(tail);
  yield `${piece}]${close === '{}' ? '}' : `,${close.slice(1)}`}`;
}
