import { MAX_SECONDS, MIN_SECONDS } from './capture-limits.js';
import { captureCpuProfile } from './cpu-profile.js';
import { captureHeapProfile } from './heap-profile.js';
import { ProfilingError, ProfilingErrorCode } from './profiling.error.js';

/** An HTTP answer, for whichever server mounts the handlers to write out. */
export interface PprofResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

/**
 * A handler for one path: the request's query string in, the answer out. `signal` should abort when
 * the client goes away; the capture then stops and the promise rejects with the signal's reason.
 */
export type PprofHandler = (query: URLSearchParams, signal?: AbortSignal) => Promise<PprofResponse>;

/** As Go's net/http/pprof: 30 s when the query names no `seconds`. */
const DEFAULT_SECONDS = 30;

/**
 * The pprof endpoints, framework-free, to mount on an operator-only port:
 * `GET /debug/pprof/profile?seconds=N` (CPU) and `GET /debug/pprof/heap?seconds=N` (live objects
 * allocated during the N seconds), each answering a gzipped pprof file. A bad `seconds` is a 400,
 * a capture while another runs a 409; other failures reject.
 */
export function pprofHandlers(): Record<'/debug/pprof/profile' | '/debug/pprof/heap', PprofHandler> {
  return {
    '/debug/pprof/profile': (query, signal) => serve('cpu', query, signal, captureCpuProfile),
    '/debug/pprof/heap': (query, signal) => serve('heap', query, signal, captureHeapProfile),
  };
}

async function serve(
  kind: string,
  query: URLSearchParams,
  signal: AbortSignal | undefined,
  capture: typeof captureCpuProfile,
): Promise<PprofResponse> {
  const raw = query.get('seconds');
  if (raw !== null && !/^\d{1,3}$/.test(raw)) {
    return text(400, `seconds must be a whole number from ${MIN_SECONDS} to ${MAX_SECONDS}, got "${raw}"`);
  }
  try {
    const body = await capture({ seconds: raw === null ? DEFAULT_SECONDS : Number(raw), signal });
    return {
      status: 200,
      headers: { 'content-type': 'application/octet-stream', 'content-disposition': `attachment; filename="${kind}.pb.gz"` },
      body,
    };
  } catch (error) {
    if (!(error instanceof ProfilingError)) throw error;
    return text(statusOf(error.code), error.message);
  }
}

function statusOf(code: ProfilingErrorCode): number {
  switch (code) {
    case ProfilingErrorCode.InvalidDuration:
      return 400;
    case ProfilingErrorCode.CaptureInProgress:
      return 409;
  }
}

function text(status: number, message: string): PprofResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `${message}\n` };
}
