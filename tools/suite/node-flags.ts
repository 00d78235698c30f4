/**
 * V8 flags each Overture app's service process runs with: the images' ENTRYPOINT (checked by
 * tools/deploy-check/validate.mjs), `npm start` and the end-to-end suite (suite.ts), and the services
 * the benchmarks start. Commands (migrate, import, seed-demo) run without them.
 *
 * metadata, `--max-semi-space-size=4` (MiB; V8 grows the young generation to 16–32 MiB by default):
 * a gRPC server call through grpc-js 1.14 leaves part of what it allocated alive at the next
 * scavenge (the call objects and the request; not found what holds them, and the client's two cuts
 * applied to the server's streams and calls changed nothing measurable: docs/decisions/0004), so
 * a scavenge's pause grows with the young generation. Every call in flight waits out a
 * pause. The client side of the same problem (the decoded responses) is cut in code instead, by
 * `releaseFinishedCalls` in libs/grpc (docs/benchmarks.md, "gRPC client scavenges"); measured at 1M tracks
 * with that cut in the client, metadata without this flag had a p99 22–53 % higher in all five
 * classes. The price of the flag: more frequent scavenges and more promotion, i.e. more CPU per
 * request (at 10M: 5–32 %).
 *
 * The other apps keep V8's defaults: the gateway and playback-queue with the flag did worse in the
 * playback benchmark (queue edits p50 36–44 ms against 22–26 ms, push p99 32–39 ms against 25–27 ms;
 * extra CPU near saturation), and auth and recommendation were not measured. Figures in
 * docs/benchmarks.md ("Playback").
 */
const APP_NODE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  metadata: ['--max-semi-space-size=4'],
};

/** The V8 flags of one app's service process (none unless measured to help: see above). */
export function nodeFlagsOf(app: string): readonly string[] {
  return APP_NODE_FLAGS[app] ?? [];
}
