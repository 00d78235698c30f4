/** The absolute deadline `ms` from now, as gRPC call options take it (`{ deadline }`). */
export function deadlineFrom(ms: number): Date {
  return new Date(Date.now() + ms);
}

/**
 * Milliseconds left before `deadline`, never negative. Use it to hand a caller's remaining budget
 * to the calls it makes in turn, since neither gRPC nor Nest's client propagates a deadline.
 */
export function remainingBudgetMs(deadline: Date): number {
  return Math.max(0, deadline.getTime() - Date.now());
}
