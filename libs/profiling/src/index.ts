// Public entry of @overture/profiling: CPU and heap profiles of the running process, as pprof.
export { captureCpuProfile, type CaptureOptions } from './cpu-profile.js';
export { captureHeapProfile } from './heap-profile.js';
export { pprofHandlers, type PprofHandler, type PprofResponse } from './pprof-handlers.js';
export { ProfilingError, ProfilingErrorCode } from './profiling.error.js';
