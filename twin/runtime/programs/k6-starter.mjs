// The k6-operator starter image (ghcr.io/grafana/k6-operator:*starter) in the twin: its container runs
// `sh -c "curl --retry 3 -X PATCH -H 'Content-Type: application/json' http://HOST:6565/v1/status -d '{...}' ; ..."`
// (k6-operator v1.6.0 pkg/resources/containers/curl_start.go). This program does those PATCH calls, each
// retried 3 times, and exits 0 (curl without --fail exits 0 on an HTTP error status too).
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
      const res = await fetch(url, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body });
      process.stdout.write(`${await res.text()}\n{"http_code":${res.status},"url":"${url}"}\n`);
      ok = true;
    } catch (err) {
      process.stderr.write(`curl: (7) ${url}: ${err?.cause?.code ?? err?.message ?? err}\n`);
      if (attempt < 3) await new Promise((r) => setTimeout(r, 1000));
    }
  }
  if (!ok) failed++;
}
process.exit(failed > 0 ? 7 : 0);
