/** Why a capture was refused: the caller's request, or another capture already running. */
export enum ProfilingErrorCode {
  InvalidDuration = 'INVALID_DURATION',
  CaptureInProgress = 'CAPTURE_IN_PROGRESS',
}

export class ProfilingError extends Error {
  override readonly name = 'ProfilingError';

  constructor(
    readonly code: ProfilingErrorCode,
    message: string,
  ) {
    super(message);
  }
}
