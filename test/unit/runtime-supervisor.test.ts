import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseCriLine } from '../../twin/runtime/cri-log.ts';
import { writeHostsFile } from '../../twin/runtime/hosts.ts';
import { isSameProcessAlive, listPids, processStartTime, reapStale, recordPid } from '../../twin/runtime/pidfiles.ts';
import { ImagePullError, startContainer, type ContainerHandle, type ContainerSpec } from '../../twin/runtime/supervisor.ts';

// Every test run uses its own 127.<n>.x.y addresses so parallel runs never collide.
const prefix = `127.${2 + Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 200)}`;
const ip = (n: number) => `${prefix}.${n}`;

let dir: string;
const handles: ContainerHandle[] = [];

test.beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runtime-sup-'));
});
test.afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop(500)));
  fs.rmSync(dir, { recursive: true, force: true });
});

function program(name: string, source: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, source);
  return file;
}

function start(spec: Omit<ContainerSpec, 'logPath'> & { logPath?: string }): ContainerHandle {
  const h = startContainer({ logPath: path.join(dir, `${Math.random().toString(36).slice(2)}.log`), scratchDir: dir, ...spec });
  handles.push(h);
  return h;
}

function logEntries(file: string) {
  return fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => parseCriLine(l))
    : [];
}

/** Polls the log file until a stdout line matches; bounded by count and time. */
async function waitForLine(file: string, re: RegExp, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
    for (const e of logEntries(file)) if (e && re.test(e.content)) return e.content;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no log line matching ${re} in ${file}:\n${fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '(missing)'}`);
}

const SERVER = `
import http from 'node:http';
const server = http.createServer((req, res) => res.end(JSON.stringify({ podIP: process.env.POD_IP, addr: server.address() })));
server.listen(Number(process.env.PORT ?? 0), '0.0.0.0', () => console.log('listening ' + server.address().address + ':' + server.address().port));
process.on('SIGTERM', () => process.exit(0));
`;

test('a program listening on 0.0.0.0 binds POD_IP; two pods share a port on different IPs', async () => {
  const server = program('server.mjs', SERVER);
  const logA = path.join(dir, 'a.log');
  start({ image: 'node:20', command: ['node', server], podIP: ip(2), logPath: logA });
  const lineA = await waitForLine(logA, /^listening /);
  const port = Number(lineA.split(':').pop());
  expect(lineA).toBe(`listening ${ip(2)}:${port}`);

  const logB = path.join(dir, 'b.log');
  start({
    image: 'docker.io/library/node:20',
    command: ['node'],
    args: [server],
    env: { PORT: String(port) },
    podIP: ip(3),
    logPath: logB,
  });
  expect(await waitForLine(logB, /^listening /)).toBe(`listening ${ip(3)}:${port}`);

  const a = (await (await fetch(`http://${ip(2)}:${port}/`)).json()) as { podIP: string };
  const b = (await (await fetch(`http://${ip(3)}:${port}/`)).json()) as { podIP: string };
  expect(a.podIP).toBe(ip(2));
  expect(b.podIP).toBe(ip(3));
});

test('Service names resolve from the hosts file through fetch, http, the undici package and dns.promises, rotating and re-read on change', async () => {
  const server = program('server.mjs', SERVER);
  const logA = path.join(dir, 'a.log');
  start({ image: 'node:20', command: ['node', server], podIP: ip(4), logPath: logA });
  const port = Number((await waitForLine(logA, /^listening /)).split(':').pop());
  const logB = path.join(dir, 'b.log');
  start({ image: 'node:20', command: ['node', server], env: { PORT: String(port) }, podIP: ip(5), logPath: logB });
  await waitForLine(logB, /^listening /);

  const hostsFile = path.join(dir, 'hosts.json');
  writeHostsFile(hostsFile, {
    'web.ns1.svc.cluster.local': [ip(4)],
    'both.ns1.svc.cluster.local': [ip(4), ip(5)],
    'gone.ns1.svc.cluster.local': [],
  });
  const client = program(
    'client.mjs',
    `
import http from 'node:http';
import { lookup } from 'node:dns/promises';
import fs from 'node:fs';
const port = ${port};
const viaFetch = async (host) => (await (await fetch('http://' + host + ':' + port + '/')).json()).podIP;
const viaHttp = (host) => new Promise((resolve, reject) => http.get('http://' + host + ':' + port + '/', (res) => {
  let body = ''; res.on('data', (c) => (body += c)); res.on('end', () => resolve(JSON.parse(body).podIP));
}).on('error', reject));
const out = {};
out.fetchShort = await viaFetch('web');
out.fetchNs = await viaFetch('web.ns1');
out.httpSvc = await viaHttp('web.ns1.svc');
out.httpFqdn = await viaHttp('web.ns1.svc.cluster.local');
out.promises = (await lookup('web')).address;
const undici = await import(process.env.UNDICI_URL);
out.undiciRequest = JSON.parse(await (await undici.request('http://web.ns1:' + port + '/')).body.text()).podIP;
out.undiciFetch = (await (await undici.fetch('http://web.ns1.svc:' + port + '/')).json()).podIP;
out.rotation = [await viaFetch('both'), await viaFetch('both'), await viaHttp('both'), await viaHttp('both')];
out.gone = await viaFetch('gone').then(() => 'reachable', (e) => e.cause?.code ?? e.code);
out.real = (await lookup('localhost')).address;
fs.writeFileSync(process.env.HOSTS_FILE_COPY, JSON.stringify({ 'web.ns1.svc.cluster.local': ['${ip(5)}'] }));
fs.renameSync(process.env.HOSTS_FILE_COPY, process.env.PD_TWIN_HOSTS_FILE);
out.afterChange = (await lookup('web')).address;
out.afterChangeFetch = await viaFetch('web.ns1.svc.cluster.local');
console.log('RESULT ' + JSON.stringify(out));
`,
  );
  const logC = path.join(dir, 'c.log');
  const h = start({
    image: 'node:20',
    command: ['node', client],
    env: {
      POD_NAMESPACE: 'ns1',
      HOSTS_FILE_COPY: `${hostsFile}.new`,
      UNDICI_URL: pathToFileURL(createRequire(import.meta.url).resolve('undici')).href,
    },
    podIP: ip(6),
    hostsFile,
    logPath: logC,
  });
  const exit = await h.exited;
  const line = await waitForLine(logC, /^RESULT /, 1000);
  expect(exit.code, fs.readFileSync(logC, 'utf8')).toBe(0);
  const out = JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>;
  expect(out).toMatchObject({
    fetchShort: ip(4),
    fetchNs: ip(4),
    httpSvc: ip(4),
    httpFqdn: ip(4),
    promises: ip(4),
    undiciRequest: ip(4),
    undiciFetch: ip(4),
    gone: 'ECONNREFUSED',
    afterChange: ip(5),
    afterChangeFetch: ip(5),
  });
  expect(['127.0.0.1', '::1']).toContain(out.real);
  expect(new Set(out.rotation as string[])).toEqual(new Set([ip(4), ip(5)]));
});

test('stdout and stderr go to the log file in CRI format, one entry per line', async () => {
  const prog = program(
    'log.mjs',
    `process.stdout.write('one\\ntwo\\npartial'); console.error('oops'); setTimeout(() => process.stdout.write(' end\\n'), 50);`,
  );
  const log = path.join(dir, 'log.log');
  const h = start({ image: 'node:20', command: ['node', prog], podIP: ip(7), logPath: log });
  expect((await h.exited).code).toBe(0);
  const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
  for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) F .*$/);
  const entries = lines.map((l) => parseCriLine(l)!);
  expect(entries.filter((e) => e.stream === 'stdout').map((e) => e.content)).toEqual(['one', 'two', 'partial end']);
  expect(entries.filter((e) => e.stream === 'stderr').map((e) => e.content)).toEqual(['oops']);
});

test('stop() kills the whole process group after the grace period; SIGKILL is reported as a signal', async () => {
  const prog = program(
    'parent.mjs',
    `
import { spawn } from 'node:child_process';
// the handler is in place before the line the test waits for: a SIGTERM sent right after it is ignored, not fatal
process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
console.log('child ' + child.pid);
setInterval(() => {}, 1000);
`,
  );
  const log = path.join(dir, 'p.log');
  const h = start({ image: 'node:20', command: ['node', prog], podIP: ip(8), logPath: log });
  const childPid = Number((await waitForLine(log, /^child \d+/)).split(' ')[1]);
  const childStart = processStartTime(childPid);
  expect(isSameProcessAlive(childPid, childStart)).toBe(true);
  const first = h.stop(300);
  const second = h.stop(300);
  const exit = await first;
  expect(await second).toBe(exit);
  expect(exit.signal).toBe('SIGKILL');
  expect(fs.readFileSync(log, 'utf8')).toContain('ignoring SIGTERM');
  expect(isSameProcessAlive(h.pid, null)).toBe(false);
  expect(isSameProcessAlive(childPid, childStart)).toBe(false);
});

test('a process killed from outside reports its signal; a clean exit its code', async () => {
  const pause = start({ image: 'registry.k8s.io/pause:3.9', podIP: ip(9) });
  process.kill(pause.pid, 'SIGKILL');
  expect(await pause.exited).toMatchObject({ code: null, signal: 'SIGKILL' });
  const failing = start({ image: 'node:20', command: ['node', program('fail.mjs', 'process.exit(3)')], podIP: ip(10) });
  expect(await failing.exited).toMatchObject({ code: 3, signal: null });
  const log = path.join(dir, 'graceful.log');
  const graceful = start({
    image: 'node:20',
    command: [
      'node',
      program('graceful.mjs', "process.on('SIGTERM', () => process.exit(0)); console.log('ready'); setInterval(() => {}, 1000);"),
    ],
    podIP: ip(11),
    logPath: log,
  });
  await waitForLine(log, /^ready$/);
  expect(await graceful.stop(5000)).toMatchObject({ code: 0, signal: null });
});

test("a container's own root: its tmp/ is TMPDIR, it starts empty, and it is gone once the process exits, SIGKILL included", async () => {
  const rootfs = path.join(dir, 'pod', 'rootfs', 'vllm');
  fs.mkdirSync(path.join(rootfs, 'tmp'), { recursive: true });
  fs.writeFileSync(path.join(rootfs, 'tmp', 'left-by-a-killed-host'), 'x'); // a fresh container never sees it
  const log = path.join(dir, 'rootfs.log');
  const src = [
    "import * as fs from 'node:fs'; import * as os from 'node:os';",
    "fs.writeFileSync(os.tmpdir() + '/kv-block', 'data');",
    'console.log(JSON.stringify({ tmp: os.tmpdir(), root: process.env.PD_TWIN_ROOTFS, seen: fs.readdirSync(os.tmpdir()) }));',
    'setInterval(() => {}, 1000);',
  ].join('\n');
  const h = start({ image: 'node:20', command: ['node', program('rootfs.mjs', src)], podIP: ip(13), logPath: log, rootfs });
  const seen = JSON.parse(await waitForLine(log, /^\{"tmp"/)) as { tmp: string; root: string; seen: string[] };
  expect(seen).toEqual({ tmp: path.join(rootfs, 'tmp'), root: rootfs, seen: ['kv-block'] });
  process.kill(h.pid, 'SIGKILL'); // a pod kill: nothing in the container gets to clean up
  expect(await h.exited).toMatchObject({ signal: 'SIGKILL' });
  expect(fs.existsSync(rootfs), 'the writable layer went with the container').toBe(false);
});

test('an unknown image cannot be started and says which images are supported', () => {
  expect(() => startContainer({ image: 'quay.io/x/y:1', podIP: ip(12), logPath: path.join(dir, 'x.log') })).toThrow(ImagePullError);
  expect(() => startContainer({ image: 'quay.io/x/y:1', podIP: ip(12), logPath: path.join(dir, 'x.log') })).toThrow(
    /registry\.k8s\.io\/pause/,
  );
});

test('the pid registry records running containers; reapStale kills leftovers of a dead owner and spares reused pids', async () => {
  const stateDir = path.join(dir, 'state');
  const h = start({ image: 'registry.k8s.io/pause:3.9', podIP: ip(13), pidRegistry: { stateDir, pod: 'ns/p/c' } });
  const records = listPids(stateDir);
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ pid: h.pid, pgid: h.pid, pod: 'ns/p/c', ownerPid: process.pid });
  expect(records[0]!.startTime).not.toBeNull();

  // Our own live records are not stale.
  expect(reapStale(stateDir).killed).toHaveLength(0);
  expect(isSameProcessAlive(h.pid, records[0]!.startTime)).toBe(true);

  // Pretend the twin that started it died: the owner is a process that has exited.
  const dead = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => dead.on('exit', r));
  const file = path.join(stateDir, 'pids', `${h.pid}.json`);
  fs.writeFileSync(file, JSON.stringify({ ...records[0], ownerPid: dead.pid, ownerStartTime: 1 }));

  // A record whose pid now belongs to another process (start time differs): spared, record removed.
  const bystander = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    const rec = recordPid(stateDir, { pid: bystander.pid!, pgid: bystander.pid!, pod: 'ns/old/c' });
    fs.writeFileSync(
      path.join(stateDir, 'pids', `${bystander.pid}.json`),
      JSON.stringify({ ...rec, startTime: (rec.startTime ?? 0) - 1, ownerPid: dead.pid }),
    );

    const result = reapStale(stateDir);
    expect(result.killed.map((r) => r.pid)).toEqual([h.pid]);
    expect(result.reused.map((r) => r.pid)).toEqual([bystander.pid]);
    expect(await h.exited).toMatchObject({ signal: 'SIGKILL' });
    expect(isSameProcessAlive(bystander.pid!, null)).toBe(true);
    expect(listPids(stateDir)).toHaveLength(0);
  } finally {
    bystander.kill('SIGKILL');
  }
});
