// Writes the synthetic catalogue (apps/metadata/src/demo/synthetic-catalogue.ts, the one `seed-demo`
// loads) to a file: `npx node tools/catalogue/generate.ts --count 1000000 --out catalogue.jsonl [--seed 7]`
// (a .csv out file writes CSV with the columns `main.js import` reads).
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { CSV_COLUMNS, DEFAULT_SEED, syntheticCatalogue } from '../../apps/metadata/src/demo/synthetic-catalogue.ts';

function csvField(value: unknown): string {
  const text = Array.isArray(value) ? value.join(';') : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvRow(t: { attributes: object }): string {
  const flat: Record<string, unknown> = { ...t, ...t.attributes };
  return CSV_COLUMNS.map((c) => csvField(flat[c])).join(',');
}

/** Writes `count` tracks to `out` (.jsonl or .csv). */
export async function writeCatalogue(out: string, count: number, seed = DEFAULT_SEED): Promise<void> {
  const csv = out.toLowerCase().endsWith('.csv');
  const stream = createWriteStream(out);
  let buffer = csv ? `${CSV_COLUMNS.join(',')}\n` : '';
  for (const track of syntheticCatalogue(count, seed)) {
    buffer += `${csv ? csvRow(track) : JSON.stringify(track)}\n`;
    if (buffer.length > 1 << 20) {
      if (!stream.write(buffer)) await once(stream, 'drain');
      buffer = '';
    }
  }
  stream.end(buffer);
  await once(stream, 'finish');
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { count: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string', default: String(DEFAULT_SEED) } },
  });
  const count = Number(values.count);
  if (!values.out || !Number.isInteger(count) || count < 1) {
    process.stderr.write('usage: npx node tools/catalogue/generate.ts --count N --out file.jsonl|file.csv [--seed S]\n');
    process.exit(2);
  }
  const started = Date.now();
  await writeCatalogue(values.out, count, Number(values.seed));
  process.stderr.write(`wrote ${count} tracks to ${values.out} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
