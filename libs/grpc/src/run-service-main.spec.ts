import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { z } from 'zod';

const tracing = { shutdown: vi.fn(async () => undefined) };
const startTracing = vi.fn((_options: unknown) => tracing);
vi.mock('@overture/tracing', () => ({ startTracing: (options: unknown) => startTracing(options) }));

const { runServiceMain, serviceCommand } = await import('./run-service-main.js');

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

class FixableError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

const settings = z.object({ OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(), OTEL_TRACES_SAMPLER_RATIO: z.number().default(0.5) });

describe('runServiceMain', () => {
  let stderr: MockInstance;
  let exit: MockInstance;
  const written = () => stderr.mock.calls.map(([text]) => String(text)).join('');

  beforeEach(() => {
    stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    exit = vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Exit(Number(code));
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    startTracing.mockClear();
  });

  it('runs the named command with the arguments after it and its configuration, without tracing', async () => {
    const run = vi.fn(async () => undefined);
    await runServiceMain(
      { name: 'svc', commands: { serve: serviceCommand(settings, run), migrate: serviceCommand(settings, run) }, usage: 'usage' },
      ['migrate', 'a', 'b'],
    );
    expect(run).toHaveBeenCalledWith({
      command: 'migrate',
      args: ['a', 'b'],
      config: { OTEL_TRACES_SAMPLER_RATIO: 0.5 },
      tracing: undefined,
    });
    expect(startTracing).not.toHaveBeenCalled();
  });

  it('serves by default, with tracing started from the configuration before the command runs', async () => {
    const run = vi.fn(async () =>
      expect(startTracing).toHaveBeenCalledWith({
        serviceName: 'svc',
        disabled: false,
        otlpEndpoint: undefined,
        samplerRatio: 0.5,
        redactClientAddress: false,
      }),
    );
    await runServiceMain({ name: 'svc', anyCommand: serviceCommand(settings, run) }, []);
    expect(run).toHaveBeenCalledWith(expect.objectContaining({ command: 'serve', tracing }));
  });

  it('fails an unknown command with the usage, exit 1, before reading any configuration', async () => {
    const run = vi.fn(async () => undefined);
    const strict = z.object({ NOT_SET_ANYWHERE_IN_THIS_TEST: z.string() });
    await expect(
      runServiceMain({ name: 'svc', commands: { serve: serviceCommand(strict, run) }, usage: 'usage: main.js [serve]' }, ['nope']),
    ).rejects.toEqual(new Exit(1));
    expect(written()).toMatch(/^svc: Error: unknown command "nope"; usage: main.js \[serve\]/);
    expect(run).not.toHaveBeenCalled();
  });

  it('exits 78 naming the variable when the configuration is invalid', async () => {
    const strict = z.object({ NOT_SET_ANYWHERE_IN_THIS_TEST: z.string() });
    const run = vi.fn(async () => undefined);
    // process.exit() does not return; here it throws, so only its first call counts.
    await runServiceMain({ name: 'svc', anyCommand: serviceCommand(strict, run) }, ['migrate']).catch(() => undefined);
    expect(exit.mock.calls[0]).toEqual([78]);
    expect(written()).toMatch(/^svc: Invalid configuration:\n {2}- NOT_SET_ANYWHERE_IN_THIS_TEST/);
    expect(run).not.toHaveBeenCalled();
  });

  it('prints a command error without its stack and exits with its code, and anything else with its stack and 1', async () => {
    const failing = (error: Error) => ({
      name: 'svc',
      anyCommand: serviceCommand(settings, async () => Promise.reject(error)),
      commandError: FixableError,
    });
    await expect(runServiceMain(failing(new FixableError('no such file', 66)), ['import'])).rejects.toEqual(new Exit(66));
    expect(written()).toBe('svc: no such file\n');
    stderr.mockClear();
    await expect(runServiceMain(failing(new Error('boom')), ['import'])).rejects.toEqual(new Exit(1));
    expect(written()).toMatch(/^svc: Error: boom\n {4}at /);
    expect(exit).toHaveBeenCalledTimes(2);
  });
});
