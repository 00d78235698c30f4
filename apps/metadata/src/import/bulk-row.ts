import type { TrackInput } from '../catalogue/track-input.schema.js';

export interface BulkRow {
  /** Where the row came from (line number), for reports. */
  line: number;
  track: TrackInput;
}

/** Reads the rows of source lines `from`…`to` again (the valid ones), for a bulk batch that failed. */
export type RereadRows = (lines: { from: number; to: number }) => Promise<BulkRow[]>;

export interface BulkResult {
  created: number;
  updated: number;
  unchanged: number;
  /** Rows the database refused, with its reason (validation catches almost everything before). */
  rejected: { line: number; reason: string }[];
}
