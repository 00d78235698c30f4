import { loadConfigOrExit } from '@overture/config';
import { startTracing, type TracingHandle } from '@overture/tracing';
import type { z } from 'zod';

/** What a command runs with: its name, the arguments after it, its configuration and, for `serve`, tracing. */
export interface CommandCall<C> {
  command: string;
  args: string[];
  config: C;
  tracing: TracingHandle | undefined;
}

/** A command of a service's entry point: the configuration it reads, and what it runs with it. */
export interface ServiceCommand<S extends z.ZodObject = z.ZodObject> {
  readonly config: S;
  // A method, so that commands of different configurations fit one table.
  run(call: CommandCall<z.output<S>>): Promise<void>;
}

/** A command, with `run` typed by its configuration's schema. */
export function serviceCommand<S extends z.ZodObject>(config: S, run: ServiceCommand<S>['run']): ServiceCommand<S> {
  return { config, run };
}

interface CommonOptions {
  /** Prefixes every message on stderr; traces carry it as the service name. */
  name: string;
  /** Errors whose message is all their user needs: printed without a stack, exiting with their code. */
  commandError?: abstract new (...args: never[]) => Error & { readonly exitCode: number };
}

export type ServiceMainOptions = CommonOptions &
  (
    | {
        /** The commands by name; any other name fails with `usage` before any configuration is read. */
        commands: Readonly<Record<string, ServiceCommand>>;
        usage: string;
      }
    | {
        /** One command that takes every name, and reports a name it does not know itself. */
        anyCommand: ServiceCommand;
      }
  );

/**
 * The entry point of a service: runs the command named by the first argument (`serve` by default)
 * with the rest as its arguments. The command's configuration is read first (when invalid: every
 * problem, exit 78). `serve` then starts tracing, which must patch http, grpc-js and pg before they
 * are loaded, so a command's `run` imports the app itself, dynamically. A failure prints
 * `<name>: <stack>` and exits 1.
 */
export async function runServiceMain(options: ServiceMainOptions, argv: string[] = process.argv.slice(2)): Promise<void> {
  const { name } = options;
  const [command = 'serve', ...args] = argv;
  try {
    const entry = 'anyCommand' in options ? options.anyCommand : commandNamed(command, options.commands, options.usage);
    const config = loadConfigOrExit(entry.config, name);
    const tracing = command === 'serve' ? startTracing(tracingOptions(name, config)) : undefined;
    await entry.run({ command, args, config, tracing });
  } catch (error) {
    if (options.commandError && error instanceof options.commandError) {
      process.stderr.write(`${name}: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    process.stderr.write(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }
}

function commandNamed(command: string, commands: Readonly<Record<string, ServiceCommand>>, usage: string): ServiceCommand {
  const entry = Object.hasOwn(commands, command) ? commands[command] : undefined;
  if (!entry) throw new Error(`unknown command ${JSON.stringify(command)}; ${usage}`);
  return entry;
}

// serve's configuration carries commonConfig's tracing settings (libs/config).
function tracingOptions(serviceName: string, config: Record<string, unknown>): Parameters<typeof startTracing>[0] {
  const {
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
    OTEL_TRACES_SAMPLER_RATIO: samplerRatio,
    OTEL_SDK_DISABLED: disabled,
    LOG_REDACT_CLIENT_ADDRESS: redact,
  } = config;
  if (typeof samplerRatio !== 'number' || (otlpEndpoint !== undefined && typeof otlpEndpoint !== 'string')) {
    throw new Error("serve's configuration has no OTEL_TRACES_SAMPLER_RATIO and OTEL_EXPORTER_OTLP_ENDPOINT");
  }
  return { serviceName, disabled: disabled === true, otlpEndpoint, samplerRatio, redactClientAddress: redact === true };
}
