/**
 * V8 flags each Overture app's service process runs with: the images' ENTRYPOINT (checked by
 * tools/deploy-check/validate.mjs), `npm start` and the end-to-end suite (suite.ts), and the services
 * the benchmarks start. Commands (migrate, import, seed-demo) run without them.
 *
 * metadata, `--max-semi-space-size=4` (MiB; V8 grows the young generation to 16–32 MiB by default):
 * a gRPC call through grpc-js leaves ≈ 40 % of what it allocates alive at the next scavenge, whatever
 * the interval between scavenges (measured with grpc-js 1.14 and a 20-track search response), so a
 * scavenge's pause grows with the young generation: ≈ 13 ms at the default size, ≈ 2.4 ms at 4 MiB.
 * Every call in flight waits out a pause, and at the default size those pauses made the catalogue's
 * p99. The price: more frequent scavenges and more promotion, i.e. more CPU per request (at 10M
 * tracks 5–32 % more, p50 up 1–3 ms, throughput at a fixed concurrency down 11–26 %) for a p99
 * 13–32 % lower.
 *
 * The other apps keep V8's defaults: the gateway and playback-queue with the flag did worse in the
 * playback benchmark (queue edits p50 36–44 ms against 22–26 ms, push p99 32–39 ms against 25–27 ms;
 * extra CPU near saturation), and auth and recommendation were not measured. Figures in
 * docs/catalogue.md ("tenth session").
 */
const APP_NODE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  metadata: ['--max-semi-space-size=4'],
};

/** The V8 flags of one app's service process (none unless measured to help: see above). */
export function nodeFlagsOf(app: string): readonly string[] {
  return APP_NODE_FLAGS[app] ?? [];
}
