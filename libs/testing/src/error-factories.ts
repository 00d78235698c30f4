import { DomainError } from '@overture/grpc';

/**
 * What each factory of an app's errors file makes, by export name, for checking its reasons
 * against the contract. Factories are called with stand-in arguments: a one-item list reads as an id
 * or a number in a message and joins like a list of ids.
 */
export function madeByEachFactory(factories: Record<string, unknown>): { name: string; error: DomainError }[] {
  return Object.entries(factories).map(([name, factory]) => {
    if (typeof factory !== 'function') throw new Error(`${name} is not a factory`);
    const made: unknown = factory(...Array.from({ length: factory.length }, () => ['x']));
    if (!(made instanceof DomainError)) throw new Error(`${name} does not make a DomainError`);
    return { name, error: made };
  });
}
