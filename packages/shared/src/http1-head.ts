/**
 * The head of one HTTP/1.1 request, read from a buffer, for the fast path
 * (fast-http.ts). Pure.
 *
 * It reads only what a plain request needs and declines the rest: Node's
 * own HTTP server then takes the connection and answers it as it always
 * did, with its full parser. So this parser never has to be lenient and
 * never answers a malformed request itself. It declines:
 * - anything but `HTTP/1.1`;
 * - a request line or header line that is not plainly well formed
 *   (obsolete line folding, a space before the colon, a control byte in a
 *   value, a bare LF);
 * - `Transfer-Encoding`, `Expect` and `Upgrade`, and a `Connection` that
 *   asks for an upgrade: chunked bodies, `100-continue` and WebSockets are
 *   Node's;
 * - a repeated or non-numeric `Content-Length` (without one, and without
 *   `Transfer-Encoding`, a request has no body: length 0), and repeated
 *   `Authorization` or `Content-Type`;
 * - a missing or repeated `Host` (Node answers an HTTP/1.1 request
 *   without one 400, as RFC 9112 asks);
 * - a head over `maxHeadBytes` (Node answers 431).
 */

export interface RequestHead {
  method: string;
  /** The request target as sent (origin form: path and query). */
  target: string;
  contentLength: number;
  /** Empty when absent. */
  contentType: string;
  /** Empty when absent. */
  authorization: string;
  /** `Connection: close`: answer, then close. */
  close: boolean;
  /** Bytes of the head, the blank line included: the body starts here. */
  length: number;
}

export type HeadParse = RequestHead | 'incomplete' | 'decline';

/** Node's default limit on a request's head (`--max-http-header-size`). */
export const MAX_HEAD_BYTES = 16 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^\s]+) HTTP\/1\.1$/;
/**
 * The bytes of a token (RFC 9110 5.6.2), a header's name: 1 where allowed.
 * Header lines are checked with a table and a loop, not a split and a
 * regular expression per line: those were ~8 % of the collector's CPU
 * profile under pipelined single-sample posts, and a plain POST's head
 * now takes ~0.6 µs against ~1.1 (docs/performance.md, "Single-sample
 * posts with callbacks").
 */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+.^_`|~-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  TOKEN[c.charCodeAt(0)] = 1;

/** Whether text[from, to) is a token: at least one byte, each allowed. */
function isToken(text: string, from: number, to: number): boolean {
  if (from >= to) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

/**
 * Whether text[from, to) holds a control byte other than horizontal tab:
 * never in a field value (RFC 9110 5.5); CR and LF are among them.
 */
function hasControl(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return true;
  }
  return false;
}

const isBlank = (c: number): boolean => c === 32 || c === 9;

/**
 * Parse the head of the request starting at `start`. 'incomplete' while
 * its blank line has not arrived; 'decline' when the request is not one
 * the fast path takes (above).
 */
export function parseHead(
  buf: Buffer,
  start: number,
  maxHeadBytes: number = MAX_HEAD_BYTES,
): HeadParse {
  const end = buf.indexOf(HEAD_END, start);
  if (end < 0) {
    if (buf.length - start > maxHeadBytes) return 'decline';
    // A head ended by bare LFs never gets its CRLF blank line: Node's to judge.
    return buf.indexOf('\n\n', start, 'latin1') >= 0 ? 'decline' : 'incomplete';
  }
  const length = end + HEAD_END.length - start;
  if (length > maxHeadBytes) return 'decline';
  const text = buf.toString('latin1', start, end);
  const firstEnd = text.indexOf('\r\n');
  const first = REQUEST_LINE.exec(firstEnd < 0 ? text : text.slice(0, firstEnd));
  if (!first) return 'decline';
  const head: RequestHead = {
    method: first[1]!,
    target: first[2]!,
    contentLength: -1,
    contentType: '',
    authorization: '',
    close: false,
    length,
  };
  let sawType = false;
  let sawAuth = false;
  let sawHost = false;
  // Each header line: text[pos, eol). A line is `name ":" [blanks] value
  // [blanks]`, the name a token, the value free of control bytes (so of
  // CR and LF too: a line cannot hide another).
  for (let pos = firstEnd < 0 ? text.length : firstEnd + 2; pos < text.length;) {
    let eol = text.indexOf('\r\n', pos);
    if (eol < 0) eol = text.length;
    const colon = text.indexOf(':', pos);
    if (colon < 0 || colon > eol || !isToken(text, pos, colon)) return 'decline';
    let from = colon + 1;
    let to = eol;
    while (from < to && isBlank(text.charCodeAt(from))) from++;
    while (to > from && isBlank(text.charCodeAt(to - 1))) to--;
    if (hasControl(text, from, to)) return 'decline';
    const name = text.slice(pos, colon).toLowerCase();
    pos = eol + 2;
    switch (name) {
      case 'content-length': {
        const value = text.slice(from, to);
        if (head.contentLength >= 0 || !/^\d{1,15}$/.test(value)) return 'decline';
        head.contentLength = Number(value);
        break;
      }
      case 'content-type':
        if (sawType) return 'decline';
        sawType = true;
        head.contentType = text.slice(from, to);
        break;
      case 'authorization':
        if (sawAuth) return 'decline';
        sawAuth = true;
        head.authorization = text.slice(from, to);
        break;
      case 'host':
        if (sawHost) return 'decline';
        sawHost = true;
        break;
      case 'connection':
        for (const token of text.slice(from, to).toLowerCase().split(',')) {
          const t = token.trim();
          if (t === 'close') head.close = true;
          else if (t === 'upgrade') return 'decline';
        }
        break;
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return 'decline';
    }
  }
  if (!sawHost) return 'decline';
  if (head.contentLength < 0) head.contentLength = 0;
  return head;
}
