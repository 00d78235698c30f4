import { createHash } from 'node:crypto';

/**
 * The name a statement is prepared under on each connection: a digest of its text, so one text is
 * parsed and planned once per connection however many requests send it.
 */
export function statementName(sql: string): string {
  return `p_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
}
