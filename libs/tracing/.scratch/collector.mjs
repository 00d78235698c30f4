import http from 'node:http';
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    try {
      const data = JSON.parse(body);
      for (const rs of data.resourceSpans ?? []) {
        const svc = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
        for (const ss of rs.scopeSpans) for (const s of ss.spans) console.log(`${req.url} ${svc} ${ss.scope.name} ${s.name} kind=${s.kind} trace=${s.traceId} parent=${s.parentSpanId || '-'}`);
      }
    } catch (e) { console.log('non-json body', req.headers['content-type'], body.length); }
    res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}');
  });
});
server.listen(4318, () => console.log('collector up'));
setTimeout(() => server.close(), 15000);
