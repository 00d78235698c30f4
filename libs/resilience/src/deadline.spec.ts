import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deadlineFrom, remainingBudgetMs } from './deadline.js';

describe('deadlines', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-05-01T12:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('deadlineFrom is the given number of milliseconds from now', () => {
    expect(deadlineFrom(1_500).toISOString()).toBe('2026-05-01T12:00:01.500Z');
  });

  it('remainingBudgetMs shrinks as time passes and stops at zero', () => {
    const deadline = deadlineFrom(1_000);
    expect(remainingBudgetMs(deadline)).toBe(1_000);
    vi.advanceTimersByTime(400);
    expect(remainingBudgetMs(deadline)).toBe(600);
    vi.advanceTimersByTime(5_000);
    expect(remainingBudgetMs(deadline)).toBe(0);
  });
});
