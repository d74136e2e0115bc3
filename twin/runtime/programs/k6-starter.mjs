// The k6-operator starter image (ghcr.io/grafana/k6-operator:*starter) in the twin: its container runs
// `sh -c "curl --retry 3 -X PATCH -H 'Content-Type: application/json' http://HOST:6565/v1/status -d '{...}' ; ..."`
// (k6-operator v1.6.0 pkg/resources/containers/curl_start.go). This program does those PATCH calls, each
// retried 3 times, and exits 0 (curl without --fail exits 0 on an HTTP error status too).
// node:http, not fetch: fetch loads Node's bundled undici, about twice this program's start-up CPU.
import { request } from 'node:http';

/** One PATCH, as curl sends it; resolves with the status and the body. */
function patch(url, body) {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'PATCH', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const line = process.argv.slice(2).join(' ');
const calls = [...line.matchAll(/-X PATCH [^;]*?(http:\/\/[^\s;]+\/v1\/status)\s+-d\s+'([^']*)'/g)].map((m) => ({ url: m[1], body: m[2] }));
if (calls.length === 0) {
  process.stderr.write(`k6-starter: no "curl -X PATCH http://HOST:PORT/v1/status -d '...'" in: ${line.slice(0, 200)}\n`);
  process.exit(2);
}
let failed = 0;
for (const { url, body } of calls) {
  let ok = false;
  for (let attempt = 0; attempt <= 3 && !ok; attempt++) {
    try {
      const res = await patch(url, body);
      process.stdout.write(`${res.text}\n{"http_code":${res.status},"url":"${url}"}\n`);
      ok = true;
    } catch (err) {
      process.stderr.write(`curl: (7) ${url}: ${err?.code ?? err?.message ?? err}\n`);
      if (attempt < 3) await new Promise((r) => setTimeout(r, 1000));
    }
  }
  if (!ok) failed++;
}
process.exit(failed > 0 ? 7 : 0);
