/** A term id and a number of tracks. */
export interface TermCount {
  id: number;
  trackCount: number;
}

export interface TermInfo extends TermCount {
  term: string;
}
