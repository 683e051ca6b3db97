import { describe, expect, it } from 'vitest';
import { parseHead, type RequestHead } from './http1-head.js';

const POST =
  'POST /v1/samples HTTP/1.1\r\nHost: localhost:8081\r\nContent-Type: application/json\r\n' +
  'Authorization: Bearer abc\r\nContent-Length: 12\r\n\r\n';

const parse = (text: string, start = 0, max?: number) =>
  parseHead(Buffer.from(text, 'latin1'), start, max);

/** The head with one line added before the blank line. */
const withLine = (line: string): string => POST.replace('\r\n\r\n', `\r\n${line}\r\n\r\n`);

describe('parseHead', () => {
  it('reads the request line and the headers the fast path needs, whatever their case', () => {
    expect(parse(POST + '{"a":1}')).toEqual({
      method: 'POST',
      target: '/v1/samples',
      contentLength: 12,
      contentType: 'application/json',
      authorization: 'Bearer abc',
      close: false,
      length: POST.length,
    } satisfies RequestHead);
    const lower = parse(
      POST.toLowerCase().replace('post /v1/samples http/1.1', 'POST /x HTTP/1.1'),
    );
    expect(lower).toMatchObject({ target: '/x', contentLength: 12, authorization: 'bearer abc' });
  });

  it('reads a head that starts part way into the buffer (the next pipelined request)', () => {
    const two = POST + '{"a":1,"b":2}' + POST;
    const second = parse(two, POST.length + 13);
    expect(second).toMatchObject({ method: 'POST', length: POST.length });
  });

  it('trims spaces and tabs around a value, and reads Connection: close in a token list', () => {
    expect(parse(withLine('Connection: \tkeep-alive, Close \t'))).toMatchObject({ close: true });
    expect(parse(withLine('connection: keep-alive'))).toMatchObject({ close: false });
  });

  it('reads a request without Content-Length as one without a body', () => {
    const get = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
    expect(parse(get)).toMatchObject({ method: 'GET', target: '/healthz', contentLength: 0 });
  });

  it('is incomplete until the blank line has arrived', () => {
    for (let cut = 0; cut < POST.length; cut++) {
      expect(parse(POST.slice(0, cut))).toBe('incomplete');
    }
  });

  it.each([
    ['HTTP/1.0', POST.replace('HTTP/1.1', 'HTTP/1.0')],
    ['HTTP/2 text', POST.replace('HTTP/1.1', 'HTTP/2.0')],
    ['a space in the target', POST.replace('/v1/samples', '/v1/ samples')],
    ['two spaces after the method', POST.replace('POST ', 'POST  ')],
    ['obsolete line folding', withLine(' folded')],
    ['a space before the colon', withLine('X-A : 1')],
    ['a header without a colon', withLine('X-A')],
    ['a control byte in a value', withLine('X-A: a\x01b')],
    ['a lone CR in a value', withLine('X-A: a\rb')],
    ['Transfer-Encoding', withLine('Transfer-Encoding: chunked')],
    ['Expect', withLine('Expect: 100-continue')],
    ['Upgrade', withLine('Upgrade: websocket')],
    ['Connection: upgrade', withLine('Connection: Upgrade')],
    ['a second Content-Length, even equal', withLine('Content-Length: 12')],
    ['a non-numeric Content-Length', POST.replace('Content-Length: 12', 'Content-Length: 1e3')],
    ['a negative Content-Length', POST.replace('Content-Length: 12', 'Content-Length: -1')],
    ['a second Authorization', withLine('Authorization: Bearer other')],
    ['a second Content-Type', withLine('Content-Type: text/plain')],
    ['no Host', POST.replace('Host: localhost:8081\r\n', '')],
    ['a second Host', withLine('Host: other')],
  ])('declines %s (left to Node)', (_, text) => {
    expect(parse(text)).toBe('decline');
  });

  it('declines a head ended by bare LFs rather than wait for a CRLF that never comes', () => {
    expect(parse('POST /v1/samples HTTP/1.1\nContent-Length: 1\n\nx')).toBe('decline');
  });

  it('declines a head over the limit, finished or not', () => {
    const long = withLine(`X-Pad: ${'a'.repeat(200)}`);
    expect(parse(long, 0, 200)).toBe('decline');
    expect(parse(long.slice(0, 250), 0, 200)).toBe('decline');
    expect(parse(long, 0, long.length)).toMatchObject({ method: 'POST' });
  });
});
