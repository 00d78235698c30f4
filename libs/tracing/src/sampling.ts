import { type Attributes, type Context, isSpanContextValid, type Link, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { type Sampler, SamplingDecision, type SamplingResult, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';

const SAMPLE: SamplingResult = { decision: SamplingDecision.RECORD_AND_SAMPLED };
const RECORD: SamplingResult = { decision: SamplingDecision.RECORD };
const DROP: SamplingResult = { decision: SamplingDecision.NOT_RECORD };

function sampledLink(links: readonly Link[]): boolean {
  for (const link of links) if ((link.context.traceFlags & TraceFlags.SAMPLED) !== 0) return true;
  return false;
}

/**
 * Parent-based sampling by trace-id ratio, as W3C trace context expects: a span with a parent
 * follows the parent's sampled flag; a new trace is sampled for `ratio` of trace ids (the same
 * decision in every process for one trace id). Two additions:
 * - a new trace whose span links to a sampled trace is sampled (the outbox relay's delivery of a
 *   sampled play), so that what it links to can be followed;
 * - with `recordUnsampledServerSpans` (the gateway), a server span that starts a trace or continues
 *   an unsampled one is still recorded, though not sampled, so that the export processor can keep it
 *   when it ends as an error or slowly. Its children, and every process downstream, see it unsampled.
 */
export class OvertureSampler implements Sampler {
  private ratio: TraceIdRatioBasedSampler;

  constructor(
    ratio: number,
    private readonly recordUnsampledServerSpans: boolean,
  ) {
    this.ratio = new TraceIdRatioBasedSampler(ratio);
  }

  shouldSample(ctx: Context, traceId: string, _name: string, kind: SpanKind, _attributes: Attributes, links: Link[]): SamplingResult {
    const parent = trace.getSpanContext(ctx);
    const hasParent = parent !== undefined && isSpanContextValid(parent);
    if (hasParent && (parent.traceFlags & TraceFlags.SAMPLED) !== 0) return SAMPLE;
    if (hasParent && !parent.isRemote) return DROP;
    if (!hasParent && (sampledLink(links) || this.sampledByRatio(traceId))) return SAMPLE;
    return this.recordUnsampledServerSpans && kind === SpanKind.SERVER ? RECORD : DROP;
  }

  /** Samples this fraction of new traces from now on (the live config's `tracing.sample_ratio`). */
  setRatio(ratio: number): void {
    this.ratio = new TraceIdRatioBasedSampler(ratio);
  }

  /** Whether a new trace of this id is sampled by the ratio alone (also used for bridged legacy ids). */
  sampledByRatio(traceId: string): boolean {
    return this.ratio.shouldSample(undefined, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
  }

  toString(): string {
    return `OvertureSampler{${this.ratio.toString()}, recordUnsampledServerSpans=${this.recordUnsampledServerSpans}}`;
  }
}
