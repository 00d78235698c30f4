import { Function as PprofFunction, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format';

/** Where a V8 profile node's code is: the inspector's Runtime.CallFrame, the fields pprof uses. */
export interface V8CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/**
 * Builds a pprof profile (profile.proto) from V8 call trees: one Function and one Location per
 * distinct frame (name, file, line, column), and samples whose stacks list them leaf first, as pprof
 * expects. V8's line and column numbers are 0-based; pprof's are 1-based.
 */
export class PprofBuilder {
  private readonly strings = new StringTable();
  private readonly locations = new Map<string, Location>();
  private readonly functions: PprofFunction[] = [];
  private readonly samples: Sample[] = [];

  constructor(private readonly valueTypes: ReadonlyArray<readonly [type: string, unit: string]>) {}

  /** The location id of a frame, added on first use. */
  locationOf(frame: V8CallFrame): number {
    const key = `${frame.functionName}\0${frame.url}\0${frame.lineNumber}\0${frame.columnNumber}`;
    const known = this.locations.get(key);
    if (known) return Number(known.id);
    const id = this.locations.size + 1;
    const fn = new PprofFunction({
      id,
      name: this.strings.dedup(frame.functionName || '(anonymous)'),
      filename: this.strings.dedup(frame.url),
      startLine: frame.lineNumber + 1,
    });
    this.functions.push(fn);
    this.locations.set(key, new Location({ id, line: [{ functionId: id, line: frame.lineNumber + 1, column: frame.columnNumber + 1 }] }));
    return id;
  }

  /** Adds a sample: its stack as location ids from leaf to root, and one value per value type. */
  addSample(stack: number[], values: number[]): void {
    this.samples.push(new Sample({ locationId: stack, value: values }));
  }

  build(options: { startNanos: bigint; durationNanos: bigint; periodType: readonly [string, string]; period: number }): Profile {
    return new Profile({
      sampleType: this.valueTypes.map(([type, unit]) => new ValueType({ type: this.strings.dedup(type), unit: this.strings.dedup(unit) })),
      sample: this.samples,
      location: [...this.locations.values()],
      function: this.functions,
      stringTable: this.strings,
      timeNanos: options.startNanos,
      durationNanos: options.durationNanos,
      periodType: new ValueType({ type: this.strings.dedup(options.periodType[0]), unit: this.strings.dedup(options.periodType[1]) }),
      period: options.period,
    });
  }
}
