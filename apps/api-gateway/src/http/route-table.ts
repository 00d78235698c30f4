import { Injectable } from '@nestjs/common';

interface Route {
  readonly methods: readonly string[];
  readonly pattern: RegExp;
}

/**
 * Every route the server serves, fed by Fastify's `onRoute` hook, so that a request for a known
 * path with the wrong method is answered 405 with `Allow` (Fastify itself only knows 404).
 */
@Injectable()
export class RouteTable {
  private readonly routes: Route[] = [];

  add(method: string | readonly string[], url: string): void {
    const methods = typeof method === 'string' ? [method] : method;
    this.routes.push({ methods: methods.map((m) => m.toUpperCase()), pattern: toPattern(url) });
  }

  /** Methods served at `path` (no query string), in registration order; empty for an unknown path. */
  allowedMethods(path: string): string[] {
    const allowed = new Set<string>();
    for (const route of this.routes) if (route.pattern.test(path)) for (const m of route.methods) allowed.add(m);
    return [...allowed];
  }
}

// `/v1/tracks/:id` and `/docs/*` as find-my-way reads them: a parameter is one path segment, `*`
// the rest of the path.
function toPattern(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      if (segment.startsWith(':')) return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}/?$`);
}
