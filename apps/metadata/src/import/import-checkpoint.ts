import type { ClientBase } from 'pg';

/** The source and line an import has committed up to, saved in the same transaction as the rows. */
export interface ImportCheckpoint {
  source: string;
  line: number;
}

export async function saveCheckpoint(client: ClientBase, checkpoint: ImportCheckpoint): Promise<void> {
  await client.query(
    `INSERT INTO import_checkpoints (source, line) VALUES ($1, $2)
       ON CONFLICT (source) DO UPDATE SET line = EXCLUDED.line, updated_at = now()`,
    [checkpoint.source, checkpoint.line],
  );
}
