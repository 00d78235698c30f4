import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddressResolver, tokenOf } from './socket-handshake.js';

const request = (peer: string, headers: Record<string, string> = {}, rawHeaders: string[] = []): IncomingMessage =>
  ({ socket: { remoteAddress: peer }, headers, rawHeaders }) as unknown as IncomingMessage;

describe('WebSocket handshake', () => {
  it('takes the token from the bearer subprotocol or one Authorization header, never from two', () => {
    expect(tokenOf(request('127.0.0.1', { 'sec-websocket-protocol': 'overture.v1, bearer.abc' }))).toBe('abc');
    expect(tokenOf(request('127.0.0.1', { authorization: 'Bearer abc' }, ['Authorization', 'Bearer abc']))).toBe('abc');
    expect(
      tokenOf(request('127.0.0.1', { authorization: 'Bearer abc' }, ['Authorization', 'Bearer abc', 'authorization', 'Bearer xyz'])),
    ).toBe('ambiguous');
    expect(tokenOf(request('127.0.0.1', {}))).toBeUndefined();
  });

  it('uses the peer address unless a trusted proxy forwarded another', () => {
    const forwarded = { 'x-forwarded-for': '203.0.113.7, 10.0.0.9' };
    expect(clientAddressResolver(false)(request('::ffff:10.0.0.1', forwarded))).toBe('10.0.0.1');
    // One trusted hop: the ingress's view of the client (the last entry it appended).
    const oneHop = (_address: string, hop: number) => hop < 1;
    expect(clientAddressResolver(oneHop)(request('10.0.0.1', forwarded))).toBe('10.0.0.9');
    expect(clientAddressResolver(true)(request('10.0.0.1', forwarded))).toBe('203.0.113.7');
    // A list: trusted while the address is one of the proxies.
    expect(clientAddressResolver(['10.0.0.0/8'])(request('10.0.0.1', forwarded))).toBe('203.0.113.7');
    expect(clientAddressResolver(['10.0.0.1'])(request('10.0.0.1', forwarded))).toBe('10.0.0.9');
    expect(clientAddressResolver(['10.0.0.0/8'])(request('198.51.100.1', forwarded))).toBe('198.51.100.1');
  });
});
