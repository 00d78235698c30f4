/**
 * The key an artist name or album title is found by (`artists.name_key`, `albums.title_key`): its
 * lower case, made in Node on every path that writes one. PostgreSQL's `lower()` depends on the
 * database's ctype (under `C` it leaves non-ASCII letters alone; under `C.UTF-8` it has no final
 * sigma), so a curator write keyed by `lower()` and an import keyed here gave one artist two rows.
 */
export function nameKey(value: string): string {
  return value.toLowerCase();
}
