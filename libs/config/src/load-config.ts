import { z } from 'zod';

/** Thrown when the environment does not satisfy an app's config schema; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

// Error messages end up in logs: never echo a secret, and never a password inside a URL.
const SECRET_NAME = /KEY|SECRET|PASSWORD|TOKEN/;

function shown(name: string, value: string | undefined): string {
  if (value === undefined) return 'unset';
  if (SECRET_NAME.test(name)) return 'value hidden';
  return `got ${JSON.stringify(value.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@'))}`;
}

/**
 * Parses the environment into a typed config object. The schema is an object keyed by environment
 * variable name; empty strings count as unset so `FOO=` falls back to the default. Every problem is
 * collected before throwing, so one run names every missing or invalid variable.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: Env = process.env): z.output<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = issue.path.join('.') || '(config)';
        return input[name] === undefined && issue.code === 'invalid_type'
          ? `${name}: is required but not set`
          : `${name}: ${issue.message} (${shown(name, input[name])})`;
      }),
    );
  }
  return result.data;
}

/**
 * Loads config for a process entry point: on failure prints the problems and exits with status 78
 * (EX_CONFIG) instead of starting half-configured.
 */
export function loadConfigOrExit<S extends z.ZodObject>(schema: S, appName: string, env: Env = process.env): z.output<S> {
  try {
    return loadConfig(schema, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${appName}: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}
