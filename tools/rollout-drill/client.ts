// The drill's HTTP client, as a mobile or web client behaves: every request to a gateway picked
// round robin among those in service (what an Ingress does), writes with an Idempotency-Key, and
// retries with the same key on a transport error, a 5xx, a 429 or a 409 IDEMPOTENCY_KEY_IN_USE,
// honouring Retry-After, within a budget.

export interface Attempt {
  startedAt: number;
  endedAt: number;
  /** HTTP status, or 0 when no answer came (the reason says why). */
  status: number;
  reason: string;
}

export interface Answer<T> {
  ok: boolean;
  status: number;
  reason: string;
  body: T;
  attempts: Attempt[];
}

export interface RetryPolicy {
  maxAttempts: number;
  /** An attempt with no answer after this is abandoned (and retried). */
  attemptTimeoutMs: number;
  /** No new attempt starts later than this after the request was due. */
  budgetMs: number;
}

export const CLIENT_RETRY: RetryPolicy = { maxAttempts: 6, attemptTimeoutMs: 5_000, budgetMs: 20_000 };

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  token?: string;
  body?: unknown;
  idempotencyKey?: string;
  headers?: Record<string, string>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Why a fetch got no answer: the socket error's code when there is one. */
function transportReason(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string }; code?: string };
  if (e.name === 'TimeoutError') return 'client timeout';
  return (e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? 'transport error').slice(0, 60);
}

function retryable(status: number, reason: string): boolean {
  return status === 0 || status >= 500 || status === 429 || status === 408 || (status === 409 && reason === 'IDEMPOTENCY_KEY_IN_USE');
}

export class DrillClient {
  private next = 0;
  /** The gateways in service now. */
  private readonly gateways: () => readonly string[];
  private readonly policy: RetryPolicy;

  constructor(gateways: () => readonly string[], policy: RetryPolicy = CLIENT_RETRY) {
    this.gateways = gateways;
    this.policy = policy;
  }

  pickGateway(): string {
    const urls = this.gateways();
    if (urls.length === 0) throw new Error('no gateway in service');
    return urls[this.next++ % urls.length] as string;
  }

  /** The request until it is answered 2xx or its retries are spent; `dueAt` starts the budget. */
  async send<T = Record<string, unknown>>(spec: RequestSpec, dueAt = performance.now()): Promise<Answer<T>> {
    const attempts: Attempt[] = [];
    for (let n = 1; ; n++) {
      const startedAt = performance.now();
      let status = 0;
      let reason = '';
      let body: unknown;
      let retryAfterMs: number | undefined;
      try {
        const headers: Record<string, string> = { ...spec.headers };
        if (spec.token) headers.authorization = `Bearer ${spec.token}`;
        if (spec.idempotencyKey) headers['idempotency-key'] = spec.idempotencyKey;
        if (spec.body !== undefined) headers['content-type'] = 'application/json';
        const response = await fetch(`${this.pickGateway()}${spec.path}`, {
          method: spec.method,
          headers,
          body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
          signal: AbortSignal.timeout(this.policy.attemptTimeoutMs),
        });
        const text = await response.text();
        status = response.status;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = text;
        }
        reason = status >= 300 ? ((body as { error?: { reason?: string } } | undefined)?.error?.reason ?? '') : '';
        const retryAfter = Number(response.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = retryAfter * 1_000;
      } catch (error) {
        reason = transportReason(error);
      }
      attempts.push({ startedAt, endedAt: performance.now(), status, reason });
      const ok = status >= 200 && status < 300;
      const spent = performance.now() - dueAt;
      if (ok || !retryable(status, reason) || n >= this.policy.maxAttempts || spent >= this.policy.budgetMs) {
        return { ok, status, reason, body: body as T, attempts };
      }
      // Exponential backoff with jitter, or the server's Retry-After, capped so a retry comes soon.
      const backoff = Math.min(2_000, 100 * 2 ** (n - 1)) * (0.5 + Math.random() / 2);
      await sleep(Math.min(2_000, retryAfterMs ?? backoff));
    }
  }
}
