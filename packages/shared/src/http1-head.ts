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
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;
/** Control bytes other than horizontal tab: never in a field value (RFC 9110 5.5). */
// eslint-disable-next-line no-control-regex -- matching control bytes is the point
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

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
  const lines = buf.toString('latin1', start, end).split('\r\n');
  const first = REQUEST_LINE.exec(lines[0]!);
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
  for (let i = 1; i < lines.length; i++) {
    const m = HEADER_LINE.exec(lines[i]!);
    if (!m) return 'decline';
    const value = m[2]!;
    if (CONTROL.test(value)) return 'decline';
    switch (m[1]!.toLowerCase()) {
      case 'content-length':
        if (head.contentLength >= 0 || !/^\d{1,15}$/.test(value)) return 'decline';
        head.contentLength = Number(value);
        break;
      case 'content-type':
        if (sawType) return 'decline';
        sawType = true;
        head.contentType = value;
        break;
      case 'authorization':
        if (sawAuth) return 'decline';
        sawAuth = true;
        head.authorization = value;
        break;
      case 'host':
        if (sawHost) return 'decline';
        sawHost = true;
        break;
      case 'connection':
        for (const token of value.toLowerCase().split(',')) {
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
