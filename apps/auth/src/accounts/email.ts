/**
 * The canonical form an email is stored and looked up in: surrounding whitespace removed and
 * lower-cased, so `Ada@Example.com ` and `ada@example.com` are one account.
 */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
