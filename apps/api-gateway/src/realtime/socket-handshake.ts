import type { IncomingMessage } from 'node:http';
import { BlockList, isIPv6 } from 'node:net';
import type { Duplex } from 'node:stream';
import { bearerToken } from '@overture/identity';
import type { GatewayConfig } from '../gateway.config.js';
import type { ApiError } from '../http/api-error.js';
import { rawErrorResponse } from '../http/raw-response.js';
import { headerCount } from '../http/request-hooks.js';
import { BEARER_PROTOCOL_PREFIX } from '@overture/gateway-contract';

/** The token of an upgrade request, `undefined` for none, or `'ambiguous'` for several Authorization headers. */
export function tokenOf(request: IncomingMessage): string | undefined | 'ambiguous' {
  const protocols = request.headers['sec-websocket-protocol'];
  if (protocols) {
    for (const protocol of protocols.split(',')) {
      const trimmed = protocol.trim();
      if (trimmed.startsWith(BEARER_PROTOCOL_PREFIX)) return trimmed.slice(BEARER_PROTOCOL_PREFIX.length);
    }
  }
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  if (headerCount(request.rawHeaders, 'authorization') > 1) return 'ambiguous';
  return bearerToken(header);
}

type TrustProxy = GatewayConfig['TRUST_PROXY'];

/**
 * The client address of an upgrade request as Fastify's `request.ip` would give it: the socket's
 * peer, or, through each trusted proxy in turn, the address it forwarded in X-Forwarded-For.
 */
export function clientAddressResolver(trustProxy: TrustProxy): (request: IncomingMessage) => string {
  const trusts = trustFunction(trustProxy);
  return (request) => {
    let address = normalise(request.socket.remoteAddress ?? '');
    const header = request.headers['x-forwarded-for'];
    if (!header || trustProxy === false) return address;
    const forwarded = [header]
      .flat()
      .join(',')
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean)
      .reverse();
    for (let hop = 0; hop < forwarded.length && trusts(address, hop); hop++) address = normalise(forwarded[hop] ?? address);
    return address;
  };
}

function trustFunction(trustProxy: TrustProxy): (address: string, hop: number) => boolean {
  if (typeof trustProxy === 'boolean') return () => trustProxy;
  if (typeof trustProxy === 'function') return trustProxy;
  const proxies = new BlockList();
  for (const entry of trustProxy) {
    const [network = '', prefix] = entry.split('/');
    const family = isIPv6(network) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) proxies.addAddress(network, family);
    else proxies.addSubnet(network, Number(prefix), family);
  }
  return (address) => proxies.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
}

// `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is 10.0.0.1, as in the configured lists.
function normalise(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Answers an upgrade request it will not accept with a plain HTTP error in the API's error shape. */
export function refuse(socket: Duplex, error: ApiError): void {
  if (!socket.writable) return void socket.destroy();
  socket.end(rawErrorResponse(error));
}
