// Opens many idle WebSocket connections to one gateway, from a process of its own (so the
// gateway's memory is measured alone), reports on stdout when they are all open, and holds them
// until stdin closes. Usage: idle-clients.ts <gateway url> <count> <token>[,<token>…]
import WebSocket from 'ws';

const [url = '', countArg = '0', tokenList = ''] = process.argv.slice(2);
const count = Number(countArg);
const tokens = tokenList.split(',');
const CONCURRENCY = 200;
const sockets: WebSocket[] = [];
let failed = 0;

function open(i: number): Promise<void> {
  return new Promise((resolve) => {
    const token = tokens[i % tokens.length] ?? '';
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/ws`, ['overture.v1', `bearer.${token}`], { perMessageDeflate: false });
    ws.once('message', () => resolve()); // the server's `ready`
    ws.once('error', () => {
      failed++;
      resolve();
    });
    sockets.push(ws);
  });
}

let next = 0;
async function worker(): Promise<void> {
  while (next < count) await open(next++);
}
const started = performance.now();
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
process.stdout.write(`${JSON.stringify({ open: count - failed, failed, ms: Math.round(performance.now() - started) })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});
