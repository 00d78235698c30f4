// A DNS server on loopback that answers for the drill's service names, as a Kubernetes headless
// Service does: one name, an A record per ready replica. The apps ask it through grpc-js targets
// `dns://127.0.0.1:<port>/<name>:<port>` (with GRPC_NODE_USE_ALTERNATIVE_RESOLVER=true), so the
// drill needs neither root nor an /etc/hosts edit.
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';

const TYPE_A = 1;
const CLASS_IN = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;

/** A question's name (labels joined by dots, lower case) and where the question section ends. */
function readQuestion(query: Buffer): { name: string; type: number; end: number } | undefined {
  const labels: string[] = [];
  let offset = 12;
  while (offset < query.length) {
    const length = query[offset] ?? 0;
    if (length === 0) break;
    // Compression pointers never appear in a question a resolver sends.
    if (length > 63) return undefined;
    labels.push(query.toString('latin1', offset + 1, offset + 1 + length));
    offset += 1 + length;
  }
  if (offset + 5 > query.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: query.readUInt16BE(offset + 1), end: offset + 5 };
}

export class LoopbackDns {
  private readonly records = new Map<string, readonly string[]>();
  private socket: Socket | undefined;
  /** Queries answered, by name, for the report (how often the apps re-resolved). */
  readonly queries = new Map<string, number>();

  /** The addresses `name` resolves to from now on; an empty list answers no record (NOERROR). */
  set(name: string, addresses: readonly string[]): void {
    this.records.set(name.toLowerCase(), [...addresses]);
  }

  get(name: string): readonly string[] {
    return this.records.get(name.toLowerCase()) ?? [];
  }

  /** Listens on `host`, a free UDP port; resolves with `host:port`, a grpc-js target authority. */
  async listen(host = '127.0.0.1'): Promise<string> {
    const socket = createSocket('udp4');
    this.socket = socket;
    socket.on('message', (query, peer) => {
      const answer = this.answer(query);
      if (answer) socket.send(answer, peer.port, peer.address);
    });
    socket.bind(0, host);
    await once(socket, 'listening');
    return `${host}:${socket.address().port}`;
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  /**
   * The answer to one query: A records with TTL 0 (nothing may cache them: the set changes during a
   * rollout), no record for other types of a known name (AAAA, TXT: grpc-js asks for both), NXDOMAIN
   * for an unknown name. Additional records (EDNS) of the query are not echoed.
   */
  private answer(query: Buffer): Buffer | undefined {
    if (query.length < 12) return undefined;
    const question = readQuestion(query);
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // id
    const recursionDesired = (query[2] ?? 0) & 0x01;
    if (!question) {
      header.writeUInt16BE(0x8000 | (recursionDesired << 8) | RCODE_NOTIMP, 2);
      return header;
    }
    this.queries.set(question.name, (this.queries.get(question.name) ?? 0) + 1);
    const known = this.records.has(question.name);
    const addresses = known && question.type === TYPE_A ? (this.records.get(question.name) ?? []) : [];
    // QR, authoritative answer, RD copied, recursion available; RCODE.
    header.writeUInt16BE(0x8400 | (recursionDesired << 8) | 0x80 | (known ? 0 : RCODE_NXDOMAIN), 2);
    header.writeUInt16BE(1, 4); // one question
    header.writeUInt16BE(addresses.length, 6);
    const answers = addresses.map((address) => {
      const record = Buffer.alloc(16);
      record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      record.writeUInt16BE(TYPE_A, 2);
      record.writeUInt16BE(CLASS_IN, 4);
      record.writeUInt32BE(0, 6); // TTL
      record.writeUInt16BE(4, 10);
      address.split('.').forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
      return record;
    });
    return Buffer.concat([header, query.subarray(12, question.end), ...answers]);
  }
}
