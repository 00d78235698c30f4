import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { EndpointHealth } from './endpoint-health.js';

function health(addresses: string[] = ['a', 'b']) {
  const clock = { now: 1_000_000 };
  const tracker = new EndpointHealth(
    { service: 'test', stallMs: 500, failuresToEject: 3, baseEjectionMs: 1_000, maxEjectionMs: 10_000 },
    () => clock.now,
  );
  tracker.setAddresses(addresses);
  const answer = (address: string, code = status.OK) => tracker.ended(address, tracker.started(address), code, new Metadata(), true);
  return { tracker, clock, answer };
}

describe('EndpointHealth', () => {
  it('ejects an endpoint whose calls have gone unanswered for the stall time, and takes it back later', () => {
    const { tracker, clock, answer } = health();
    answer('a');
    answer('b');
    tracker.started('a');
    clock.now += 499;
    expect(tracker.usable('a')).toBe(true);
    clock.now += 1;
    expect(tracker.usable('a')).toBe(false);
    expect(tracker.ejectedCount()).toBe(1);
    expect(tracker.hasHealthyAlternative('a')).toBe(true);
    clock.now += 1_000;
    expect(tracker.ejectedCount()).toBe(0);
  });

  it('ejects an endpoint after failures in a row, and again at its first failure once back', () => {
    const { tracker, clock, answer } = health();
    answer('b');
    answer('a', status.UNAVAILABLE);
    answer('a', status.UNAVAILABLE);
    expect(tracker.usable('a')).toBe(true);
    answer('a', status.DEADLINE_EXCEEDED);
    expect(tracker.usable('a')).toBe(false);
    clock.now += 1_000;
    expect(tracker.usable('a')).toBe(true);
    answer('a', status.UNAVAILABLE);
    expect(tracker.usable('a')).toBe(false);
    // The second ejection lasts twice as long.
    clock.now += 1_000;
    expect(tracker.usable('a')).toBe(false);
    clock.now += 1_000;
    expect(tracker.usable('a')).toBe(true);
  });

  it('counts domain answers, cancellations and deadlines the caller chose as nothing against an endpoint', () => {
    const { tracker, answer } = health();
    for (let i = 0; i < 5; i++) {
      answer('a', status.NOT_FOUND);
      answer('a', status.CANCELLED);
      tracker.ended('a', tracker.started('a'), status.DEADLINE_EXCEEDED, new Metadata(), false);
    }
    expect(tracker.usable('a')).toBe(true);
  });

  it('never ejects the last endpoint', () => {
    const { tracker, answer } = health(['a']);
    for (let i = 0; i < 5; i++) answer('a', status.UNAVAILABLE);
    expect(tracker.usable('a')).toBe(true);
    const two = health();
    for (let i = 0; i < 3; i++) two.answer('a', status.UNAVAILABLE);
    for (let i = 0; i < 3; i++) two.answer('b', status.UNAVAILABLE);
    expect(two.tracker.ejectedCount()).toBe(1);
  });

  it('sees no healthy alternative when every other endpoint is failing or has not answered lately', () => {
    const { tracker, clock, answer } = health();
    expect(tracker.hasHealthyAlternative('a')).toBe(false);
    answer('b');
    expect(tracker.hasHealthyAlternative('a')).toBe(true);
    answer('b', status.UNAVAILABLE);
    expect(tracker.hasHealthyAlternative('a')).toBe(false);
    answer('b');
    clock.now += 11_000;
    expect(tracker.hasHealthyAlternative('a')).toBe(false);
  });
});
