/**
 * A command that cannot go on for a reason its user can fix (a missing file, a database without the
 * schema): `main.js` prints the message alone, without a stack trace, and exits with `exitCode`.
 */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** A command line the commands cannot run: exit status 64 (EX_USAGE). */
export class UsageError extends CommandError {
  constructor(message: string) {
    super(message, 64);
    this.name = 'UsageError';
  }
}
