import { StringDecoder } from 'node:string_decoder';
import type { ClientBase } from 'pg';
import copyStreams from 'pg-copy-streams';

/** COPY text format, read back: the escapes `COPY … TO` writes for control characters and backslash. */
function copyUnescape(value: string): string {
  if (!value.includes('\\')) return value;
  const escapes: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
  return value.replace(/\\(.)/g, (_, c: string) => escapes[c] ?? c);
}

/**
 * `value` copied into one flat string. The id caches of a bulk load keep millions of strings, and a
 * string made by concatenation or slicing costs far more kept than its characters: `randomUUID`
 * builds its text from 14 pieces, and a column split out of a COPY chunk keeps the whole chunk. At
 * 1.1M rows of the 10M catalogue the heap held 15M such pieces, 490 MB of its 800 MB.
 */
export function flat(value: string): string {
  return /[\u0100-\uffff]/.test(value)
    ? Buffer.from(value, 'utf16le').toString('utf16le')
    : Buffer.from(value, 'latin1').toString('latin1');
}

/** The rows of a `COPY … TO STDOUT` (text format, no NULLs), streamed: each as its column values. */
export async function* copyOut(client: ClientBase, sql: string): AsyncGenerator<string[]> {
  // A chunk may end inside a character: the decoder keeps its first bytes for the next one.
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of client.query(copyStreams.to(sql)) as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk);
    const lines = text.split('\n');
    rest = lines.pop() as string;
    for (const line of lines) yield line.split('\t').map((value) => flat(copyUnescape(value)));
  }
}
