// Scavenges of a gRPC client, with and without `releaseFinishedCalls` (libs/grpc), in the same run:
//   npx node tools/grpc-gc/scavenges.ts [--calls 30000] [--rounds 3] [--concurrency 4]
// This process serves the real MetadataService contract (SearchTracks answers 20 tracks); each round
// starts one client process per mode, alternating which goes first. A client makes --calls calls at
// --concurrency after a warm-up and reports its young-generation collections (PerformanceObserver
// `gc` entries): count, mean and longest pause, total pause time, calls per second and its CPU
// time. The third mode is the plain client with `--max-semi-space-size=4`, the other way to shorten
// those pauses. Needs the libs built (`npx nx run-many -t build`).
import { loadPackageDefinition, Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { METADATA_V1, PROTO_LOADER_OPTIONS, PROTO_ROOT } from '@overture/contracts';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '30000' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
  },
});
const MODES = [
  { name: 'plain', client: 'plain', flags: [] as string[] },
  { name: 'released', client: 'released', flags: [] as string[] },
  { name: 'plain, 4 MiB young generation', client: 'plain', flags: ['--max-semi-space-size=4'] },
];

type ServiceDefinition = { service: never };
const definition = loadPackageDefinition(loadSync(path.join(PROTO_ROOT, METADATA_V1.file), PROTO_LOADER_OPTIONS)) as unknown as {
  overture: { metadata: { v1: { MetadataService: ServiceDefinition } } };
};
const tracks = Array.from({ length: 20 }, (_, i) => ({
  trackId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  title: `Track number ${i}`,
  artistName: 'An Artist',
  albumTitle: 'An Album',
  durationMs: 201_000 + i,
  isrc: `XXA0${String(i).padStart(8, '0')}`,
  releaseYear: 2019,
  popularity: 40 + i,
  attributes: { genres: ['pop'], moods: ['happy', 'energetic'], bpm: 120, energy: 0.7, language: 'en' },
  details: { releaseDate: '2019-05-17', artistId: 'a1', albumId: 'b1', regions: ['GB', 'US'], tier: 'free' },
}));
const server = new Server();
server.addService(definition.overture.metadata.v1.MetadataService.service, {
  searchTracks: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) =>
    callback(null, { tracks, nextCursor: 'next' }),
});
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
);

interface ClientReport {
  scavenges: number;
  meanMs: number;
  longestMs: number;
  totalMs: number;
  callsPerSecond: number;
  cpuMs: number;
}
const client = fileURLToPath(new URL('./scavenges-client.ts', import.meta.url));
const reports = new Map<string, ClientReport[]>(MODES.map((mode) => [mode.name, []]));
for (let round = 0; round < Number(values.rounds); round++) {
  const order = round % 2 === 0 ? MODES : [...MODES].reverse();
  for (const mode of order) {
    // Not execFileSync: this process serves the calls.
    const { stdout } = await promisify(execFile)(process.execPath, [
      ...mode.flags,
      client,
      `127.0.0.1:${port}`,
      mode.client,
      values.calls,
      values.concurrency,
    ]);
    const report = JSON.parse(stdout) as ClientReport;
    reports.get(mode.name)?.push(report);
    console.log(`round ${round + 1} ${mode.name}: ${JSON.stringify(report)}`);
  }
}
server.forceShutdown();

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
console.log(`\n${values.calls} calls at concurrency ${values.concurrency}, medians of ${values.rounds} rounds:`);
console.log('| client | scavenges | mean pause ms | longest ms | total pause ms | calls/s | CPU ms |');
console.log('|---|---|---|---|---|---|---|');
for (const [name, runs] of reports) {
  const m = (key: keyof ClientReport): number => median(runs.map((run) => run[key]));
  console.log(
    `| ${name} | ${m('scavenges')} | ${m('meanMs')} | ${m('longestMs')} | ${m('totalMs')} | ${m('callsPerSecond')} | ${m('cpuMs')} |`,
  );
}
