import { context, trace } from '@opentelemetry/api';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';

type Patch = (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown;
interface PgPatches {
  _getClientQueryPatch(): Patch;
  _getPoolConnectPatch(): Patch;
}

// The call being served is in a sampled trace: only then is a query span worth its cost.
function inSampledSpan(): boolean {
  return trace.getSpan(context.active())?.isRecording() === true;
}

function onlyWhenSampled(patch: Patch): Patch {
  return (original) => {
    const instrumented = patch(original);
    return function (this: unknown, ...args: unknown[]): unknown {
      return (inSampledSpan() ? instrumented : original).apply(this, args);
    };
  };
}

/**
 * pg spans for queries made inside a recording (sampled) span only. The stock instrumentation's
 * `requireParentSpan` skips queries without any span, but still wraps every query of an unsampled
 * call in a non-recording span, its callbacks and a context switch. Here such a query runs the
 * original `pg` code untouched. (It overrides two methods the instrumentation keeps private; its
 * version is pinned, and sampled-pg-instrumentation.spec.ts checks the behaviour.)
 */
export class SampledPgInstrumentation extends PgInstrumentation {
  constructor() {
    super({ requireParentSpan: true });
  }
}

const base = PgInstrumentation.prototype as unknown as PgPatches;
const patches = SampledPgInstrumentation.prototype as unknown as PgPatches;
patches._getClientQueryPatch = function (this: PgPatches): Patch {
  return onlyWhenSampled(base._getClientQueryPatch.call(this));
};
patches._getPoolConnectPatch = function (this: PgPatches): Patch {
  return onlyWhenSampled(base._getPoolConnectPatch.call(this));
};
