// Service-identity benchmark: what mutual TLS between the apps costs on the hot path. Two suites
// run side by side on fresh databases, one as deployed (mutual TLS, every caller checked) and one
// with GRPC_INSECURE_PLAINTEXT; the same closed-loop load goes through each gateway in turn on a
// read and a write (tools/suite/gateway-ab-bench.ts).
//
//   npx node tools/identity-bench/bench.ts [--seconds 10] [--connections 16] [--rounds 3] [--profile <app>]
//
// --profile writes V8 CPU profiles of that app in each suite to .data/identity-bench-profiles/<mode>/
// (the largest one is the server's; the others are its migrate and seed commands).
//
// Uses OVERTURE_DATABASE_URL when set, else an embedded PostgreSQL in a throwaway folder.
import { parseArgs } from 'node:util';
import { runGatewayAbBench } from '../suite/gateway-ab-bench.ts';
import { APPS, type AppName } from '../suite/suite.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    profile: { type: 'string' },
  },
});

await runGatewayAbBench({
  name: 'identity',
  modes: ['mtls', 'plaintext'],
  env: (mode) => Object.fromEntries(APPS.map((app) => [app, mode === 'plaintext' ? { GRPC_INSECURE_PLAINTEXT: 'true' } : {}])),
  costOf: 'cost of mutual TLS',
  seconds: Number(args.seconds),
  connections: Number(args.connections),
  rounds: Number(args.rounds),
  profile: args.profile as AppName | undefined,
});
