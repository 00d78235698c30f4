/**
 * V8 flags of each app's service process, shared by the images' ENTRYPOINT (tools/deploy-check checks
 * they agree), `npm start`, the e2e suite and the benchmarks. metadata's small young generation keeps
 * scavenges, which stall every call in flight, short; why, and figures: docs/decisions/0004.
 */
const APP_NODE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  metadata: ['--max-semi-space-size=4'],
};

/** The V8 flags of one app's service process (none unless measured to help). */
export function nodeFlagsOf(app: string): readonly string[] {
  return APP_NODE_FLAGS[app] ?? [];
}
