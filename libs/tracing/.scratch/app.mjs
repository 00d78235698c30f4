import { createRequire } from 'node:module';
const t = await import('../dist/index.js');
const h = t.startTracing({ serviceName: 'svc-test', samplerRatio: 1, otlpEndpoint: 'http://127.0.0.1:14318/' });
// ESM import first, as generated code or app code would
const grpcEsm = await import('@grpc/grpc-js');
// then the way Nest loads it
const grpc = createRequire(import.meta.url)('@grpc/grpc-js');
console.log('same object', grpcEsm.default === grpc, 'Client.makeUnaryRequest wrapped', !!grpc.Client.prototype.makeUnaryRequest.__wrapped, 'makeGenericClientConstructor wrapped', !!grpc.makeGenericClientConstructor.__wrapped);
const pg = (await import('pg')).default;
console.log('pg Client.query wrapped', !!pg.Client.prototype.query.__wrapped);
const http = await import('node:http');
console.log('http.request wrapped', !!http.default.request.__wrapped, 'named', !!http.request.__wrapped);

const service = { Echo: { path: '/test.Echo/Echo', requestStream: false, responseStream: false,
  requestSerialize: (v) => Buffer.from(JSON.stringify(v)), requestDeserialize: (b) => JSON.parse(b.toString()),
  responseSerialize: (v) => Buffer.from(JSON.stringify(v)), responseDeserialize: (b) => JSON.parse(b.toString()) } };
const server = new grpc.Server();
server.addService(service, { Echo: (call, cb) => cb(null, { echoed: call.request, trace: t.currentTraceId() }) });
const port = await new Promise((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => e ? rej(e) : res(p)));
const Client = grpc.makeGenericClientConstructor(service, 'Echo');
const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
const httpServer = http.createServer((req, res) => {
  client.Echo({ hi: 1 }, (err, reply) => { res.end(JSON.stringify({ err: err?.message, reply, trace: t.currentTraceId() })); });
});
await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
const body = await new Promise((resolve) => http.get(`http://127.0.0.1:${httpServer.address().port}/x`, (res) => { let b=''; res.on('data', c => b+=c); res.on('end', () => resolve(b)); }));
console.log('response', body);
client.close(); server.forceShutdown(); httpServer.close();
await h.shutdown();
console.log('shutdown done');
