import { describe, expect, it, vi } from 'vitest';
import { describeProgress, StepDisplay, type StatementProgress } from './statement-progress.js';

/**
 * A display on a fake terminal or log, polling every 5 ms for `report` (set it at will), with one
 * step running under `label` until `finish` is called.
 */
function runningStep(isTTY: boolean, pid: number, label: string) {
  const written: string[] = [];
  const out = { isTTY, write: (text: string) => written.push(text) > 0 } as unknown as NodeJS.WriteStream;
  const state = { report: undefined as StatementProgress | undefined, finish: (): void => undefined };
  const display = new StepDisplay(out, async (polled) => (polled === pid ? state.report : undefined), 5);
  const work = display.during(pid, label, () => new Promise<void>((resolve) => (state.finish = resolve)));
  return { display, written, state, work };
}

describe('describeProgress', () => {
  it('names the subject and phase, with the share done when the phase has one', () => {
    expect(describeProgress('tracks', { phase: 'scanning heap', fraction: 0.4271 })).toBe('tracks: scanning heap 42%');
    expect(describeProgress('track_postings_walk', { phase: 'building index: sorting live tuples' })).toBe(
      'track_postings_walk: building index: sorting live tuples',
    );
    expect(describeProgress('tracks', { phase: 'vacuuming heap', fraction: 1.2 })).toBe('tracks: vacuuming heap 100%');
  });
});

describe('StepDisplay', () => {
  it('on a terminal, redraws what PostgreSQL reports in place and clears it before the next line', async () => {
    const { display, written, state, work } = runningStep(true, 7, 'track_postings_walk');
    state.report = { phase: 'building index: scanning table', fraction: 0.423 };
    const erase = '\x1b[K';
    await vi.waitFor(() => {
      const last = written.at(-1) ?? '';
      expect(last.startsWith('\r') && last.endsWith(erase)).toBe(true);
      expect(last.slice(1, -erase.length)).toMatch(/^ {2}track_postings_walk: building index: scanning table 42% \(\d+s\)$/);
    });
    state.finish();
    await work;
    display.say('built index track_postings_walk in 3s');
    expect(written.slice(-2)).toEqual(['\r\x1b[K', 'built index track_postings_walk in 3s\n']);
  });

  it('in a log, writes whole lines, the subject alone when nothing is reported, and nothing once the step ends', async () => {
    const { written, state, work } = runningStep(false, 3, 'tracks');
    await vi.waitFor(() => expect(written.at(-1)).toMatch(/^ {2}tracks \(\d+s\)\n$/));
    state.report = { phase: 'scanning heap', fraction: 0.5 };
    await vi.waitFor(() => expect(written.at(-1)).toMatch(/^ {2}tracks: scanning heap 50% \(\d+s\)\n$/));
    state.finish();
    await work;
    const count = written.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(written).toHaveLength(count);
    expect(written.every((line) => !line.includes('\r'))).toBe(true);
  });
});
