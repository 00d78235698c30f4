import type { ClientBase } from 'pg';
import { copyOut } from './copy-out.reader.js';
import { ADD_PAIR_COUNTS_SQL, PairCounter, PAIRED_IDS_SQL } from './term-pairs.js';

/**
 * Sets every term pair count from the tracks, in the caller's transaction: for a resumed bulk load,
 * not for a write. The tracks' term ids are streamed out with COPY and counted here: in SQL each
 * track's paired ids would be unnested twice and aggregated, an order of magnitude slower.
 */
export async function recountPairs(client: ClientBase): Promise<void> {
  const paired = new Set((await client.query<{ id: number }>(PAIRED_IDS_SQL)).rows.map((r) => r.id));
  const counter = new PairCounter();
  const ids: number[] = [];
  for await (const [termIds] of copyOut(client, 'COPY (SELECT term_ids FROM tracks) TO STDOUT')) {
    ids.length = 0;
    // An int[] in COPY text: {1,2,3}.
    for (const id of (termIds as string).slice(1, -1).split(',')) if (paired.has(Number(id))) ids.push(Number(id));
    counter.add(ids);
  }
  await client.query('DELETE FROM catalogue_term_pairs');
  if (!counter.empty) await client.query(ADD_PAIR_COUNTS_SQL, counter.rows());
}
