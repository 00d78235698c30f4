import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { invalidRequest } from './gateway.errors.js';

/**
 * Validates one request part against its zod schema and hands the handler the parsed value.
 * Registered globally it uses the schema declared on the parameter (`@Body({ schema })`,
 * `@Query({ schema })`, `@Param({ schema })`), the same one Swagger documents the route from;
 * a body, query or params argument without a schema is refused as a programming error, so no
 * input reaches a handler unvalidated. Given a schema itself it validates that (headers).
 * Failures are 400 INVALID_REQUEST with a message naming every bad field.
 */
export class ZodValidationPipe implements PipeTransform {
  constructor(private readonly schema?: z.ZodType) {}

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const schema = this.schema ?? metadata.schema;
    if (schema === undefined) {
      if (metadata.type === 'custom') return value;
      throw new Error(`@${metadata.type}() without a schema: every request input must be validated`);
    }
    if (!(schema instanceof z.ZodType)) throw new Error('request schemas must be zod schemas');
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    throw invalidRequest(describeIssues(result.error.issues, value, partName(metadata), pagedByCursor(schema)));
  }
}

/**
 * Query parameters of offset paging, as Spotify's Web API and many others take them: on a route that
 * pages by cursor, refusing one says how to page instead.
 */
const OFFSET_PARAMETERS = new Set(['offset', 'page']);
const CURSOR_HINT = "pages follow next_cursor: pass the previous page's next_cursor as cursor";

/**
 * `field: problem; other.field: problem` for the issues found in `input`, naming the request part
 * (`body`, `query`, a header) when the whole part is wrong. Input values are never echoed.
 * @param paged whether the part takes a `cursor` (then offset parameters are refused with a hint).
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown, part: string, paged = false): string {
  const problems: string[] = [];
  for (const issue of issues) {
    const field = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const noun = part === 'query' ? 'query parameter' : 'field';
      for (const key of issue.keys) {
        const hint = paged && part === 'query' && !field && OFFSET_PARAMETERS.has(key) ? ` (${CURSOR_HINT})` : '';
        problems.push(`${field ? `${field}.` : ''}${key}: is not an accepted ${noun}${hint}`);
      }
      continue;
    }
    const message = issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined ? 'is required' : issue.message;
    problems.push(`${field || part}: ${message}`);
  }
  return problems.join('; ');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Whether `schema` is an object schema with a `cursor` field: a part of a route that pages by cursor. */
function pagedByCursor(schema: z.ZodType): boolean {
  return schema instanceof z.ZodObject && 'cursor' in schema.shape;
}

function partName(metadata: ArgumentMetadata): string {
  return metadata.type === 'custom' && metadata.data ? metadata.data : metadata.type;
}
