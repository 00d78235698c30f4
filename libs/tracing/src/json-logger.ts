import type { LoggerService } from '@nestjs/common';
import { REDACTED, Redactor } from './redaction.js';
import { requestContext } from './request-context.js';
import { currentTraceId } from './trace-id.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'verbose';

export interface LoggerOptions {
  /** Written as `service` on every line. */
  service: string;
  /** Lines below this level are dropped. */
  level: LogLevel;
  /** Hide client addresses too (`LOG_REDACT_CLIENT_ADDRESS`); secrets and e-mails are always hidden. */
  redactClientAddress?: boolean;
}

const SEVERITY: Record<LogLevel, number> = { verbose: 0, debug: 1, info: 2, warn: 3, error: 4, fatal: 5 };

// Fields the logger owns; same-named fields in logged objects are dropped rather than let them
// forge a level, a trace id or a request id.
const RESERVED = new Set(['time', 'level', 'service', 'context', 'msg', 'trace_id', 'request_id', 'deadline_ms', 'err']);

// A stack as V8 prints it; Nest passes stacks as plain strings (`logger.error(message, stack)`).
const STACK_FORMAT = /\n[ \t]+at .+/;

const MAX_CAUSE_DEPTH = 3;

interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string | number;
  cause?: unknown;
}

type LogEntry = Record<string, unknown>;

/**
 * A NestJS `LoggerService` writing one JSON object per line: `{ time, level, service, context,
 * msg, trace_id?, request_id?, deadline_ms?, err?, ...extra }`, errors and fatals to stderr and the
 * rest to stdout. It follows Nest's calling conventions (a trailing string is the context, a string
 * shaped like a stack is the error's stack) and adds the active span's trace id, the
 * `requestContext` request id and the milliseconds left of the request's deadline. Every field and
 * every string in it passes the `Redactor` (secrets, e-mails and optionally client addresses).
 * Plain objects among the arguments are merged into the line; `Error`s become
 * `err: { name, message, stack }`. Nest's `log` level is written as `info`.
 * Register it with `NestFactory.create(App, { logger })` or `app.useLogger(logger)`.
 */
export function createLogger(options: LoggerOptions): JsonLogger {
  return new JsonLogger(options);
}

class JsonLogger implements LoggerService {
  private readonly redactor: Redactor;
  private level: LogLevel;

  constructor(private readonly options: LoggerOptions) {
    this.redactor = new Redactor({ clientAddress: options.redactClientAddress ?? false });
    this.level = options.level;
  }

  /** Lines below `level` are dropped from now on (the live config's `log.level`). */
  setLevel(level: LogLevel): void {
    this.level = level;
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('verbose', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: LogLevel, message: unknown, params: unknown[]): void {
    if (SEVERITY[level] < SEVERITY[this.level]) return;
    const stream = SEVERITY[level] >= SEVERITY.error ? process.stderr : process.stdout;
    stream.write(`${this.line(level, message, params)}\n`);
  }

  private line(level: LogLevel, message: unknown, params: unknown[]): string {
    try {
      const { core, err, extra } = this.entry(level, message, params);
      const line = toJsonLine({ ...core, err, ...extra }, this.redactor);
      if (line !== undefined) return line;
    } catch {
      // Reading the arguments threw (a getter); fall through to a line without them.
    }
    return JSON.stringify({
      time: new Date().toISOString(),
      level,
      service: this.options.service,
      msg: typeof message === 'string' ? this.redactor.text(message) : undefined,
      trace_id: currentTraceId(),
      request_id: requestContext.get()?.requestId,
      log_error: 'the logged values could not be serialised',
    });
  }

  private entry(
    level: LogLevel,
    message: unknown,
    params: unknown[],
  ): { core: LogEntry; err: SerializedError | undefined; extra: LogEntry } {
    const last = params.at(-1);
    const context = typeof last === 'string' && !STACK_FORMAT.test(last) ? last : undefined;
    const rest = context === undefined ? params : params.slice(0, -1);

    const extra: LogEntry = {};
    const args: unknown[] = [];
    let err: SerializedError | undefined;
    let msg: string;
    if (message instanceof Error) {
      err = serializeError(message);
      msg = message.message;
    } else if (isPlainObject(message)) {
      Object.assign(extra, message);
      msg = typeof message.msg === 'string' ? message.msg : typeof message.message === 'string' ? message.message : '';
    } else {
      msg = typeof message === 'string' ? message : (toJsonLine(message, this.redactor) ?? String(message));
    }

    for (const param of rest) {
      if (param === undefined) continue;
      if (param instanceof Error) err ??= serializeError(param);
      else if (typeof param === 'string' && STACK_FORMAT.test(param)) err ??= errorFromStack(param);
      else if (isPlainObject(param)) Object.assign(extra, param);
      else args.push(param);
    }
    if (args.length > 0) extra.args = args;
    for (const key of RESERVED) delete extra[key];

    const request = requestContext.get();
    const now = Date.now();
    const core: LogEntry = {
      time: new Date(now).toISOString(),
      level,
      service: this.options.service,
      context,
      msg,
      trace_id: currentTraceId(),
      request_id: request?.requestId,
      deadline_ms: request?.deadline === undefined ? undefined : request.deadline - now,
    };
    return { core, err, extra };
  }
}

export type { JsonLogger };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function serializeError(error: Error, depth = 0): SerializedError {
  const serialized: SerializedError = { name: error.name, message: error.message, stack: error.stack };
  const code: unknown = (error as { code?: unknown }).code;
  // gRPC status codes and Node/PostgreSQL error codes are what one searches logs by.
  if (typeof code === 'string' || typeof code === 'number') serialized.code = code;
  if (error.cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    serialized.cause = error.cause instanceof Error ? serializeError(error.cause, depth + 1) : error.cause;
  }
  return serialized;
}

// Nest hands over only `error.stack`; its first line is `<name>: <message>`.
function errorFromStack(stack: string): SerializedError {
  const head = stack.slice(0, stack.indexOf('\n'));
  const colon = head.indexOf(': ');
  return colon > 0 ? { name: head.slice(0, colon), message: head.slice(colon + 2), stack } : { name: head || 'Error', message: '', stack };
}

// JSON.stringify throws on cycles and BigInt, and prints Errors as `{}`; a log call must not throw.
// Every key and string passes the redactor on the way.
function toJsonLine(value: unknown, redactor: Redactor): string | undefined {
  const ancestors: unknown[] = [];
  try {
    return JSON.stringify(value, function (this: unknown, key: string, field: unknown): unknown {
      if (key !== '' && !Array.isArray(this) && redactor.hidesField(key)) return field === undefined ? field : REDACTED;
      if (typeof field === 'string') return redactor.text(field);
      if (typeof field === 'bigint') return field.toString();
      if (field instanceof Error) return serializeError(field);
      if (typeof field !== 'object' || field === null) return field;
      while (ancestors.length > 0 && ancestors.at(-1) !== this) ancestors.pop();
      if (ancestors.includes(field)) return '[Circular]';
      ancestors.push(field);
      return field;
    });
  } catch {
    return undefined;
  }
}
