/**
 * proto3 message fields are optional on the wire; a response missing one the contract promises is
 * a bug in the service, answered as 500 by the problem filter.
 */
export function required<V>(value: V | undefined, service: string, what: string): V {
  if (value === undefined) throw new Error(`${service} answered without ${what}`);
  return value;
}
