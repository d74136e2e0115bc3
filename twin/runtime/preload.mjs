// Loaded with `node --import <this file>` into every pod process of the twin. Plain JS (no tsx needed),
// so it works for .mjs programs too. It makes a host process behave like it runs in its own pod:
//  1. listen() on 0.0.0.0 / :: / no host binds POD_IP instead, so every pod can use its container port;
//  2. dns.lookup / dns.promises.lookup resolve Service names from the JSON hosts file at
//     PD_TWIN_HOSTS_FILE ({ "svc.ns.svc.cluster.local": ["127.0.0.7", ...] }), falling back to the
//     system resolver. net.connect (and so http and the built-in fetch / undici) calls dns.lookup at
//     connect time, so patching the module object is enough.
//  3. stdout/stderr survive the kubelet: a real container's streams go to the runtime's shim (containerd-shim,
//     conmon), which outlives a kubelet restart, so a container keeps running when its kubelet dies. Here they
//     are pipes to the kubelet's process, and a write after it died fails with EPIPE, which would crash the
//     pod. The error is dropped (the line is lost, as it would be to a shim's closed log) and the pod runs on.
//  4. the process records itself in the twin's pid records (pid-record.mjs): a kubelet killed between spawn() and
//     its own record must not leave a pod that `twin down` and the next run's reaping cannot find.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import fs from 'node:fs';
import { NO_ENDPOINTS_IP, candidateNames, rewriteListenArgs } from './preload-lib.mjs';
import { recordSelf } from './pid-record.mjs';

recordSelf();

const require = createRequire(import.meta.url);
const net = require('node:net');
const dns = require('node:dns');

for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code !== 'EPIPE') throw err;
  });
}

const POD_IP = process.env.POD_IP;
const HOSTS_FILE = process.env.PD_TWIN_HOSTS_FILE;
const POD_NAMESPACE = process.env.POD_NAMESPACE || 'default';

if (POD_IP) {
  const originalListen = net.Server.prototype.listen;
  net.Server.prototype.listen = function patchedListen(...args) {
    return originalListen.apply(this, rewriteListenArgs(args, POD_IP));
  };
}

let hostsCache = { version: '', map: new Map() };
const rotation = new Map();

function readHosts() {
  if (!HOSTS_FILE) return hostsCache.map;
  let stat;
  try {
    stat = fs.statSync(HOSTS_FILE);
  } catch {
    hostsCache = { version: '', map: new Map() };
    return hostsCache.map;
  }
  const version = `${stat.mtimeMs}:${stat.ino}:${stat.size}`;
  if (version !== hostsCache.version) {
    try {
      const parsed = JSON.parse(fs.readFileSync(HOSTS_FILE, 'utf8'));
      const map = new Map();
      for (const [name, ips] of Object.entries(parsed)) {
        if (Array.isArray(ips))
          map.set(
            name.toLowerCase(),
            ips.filter((ip) => typeof ip === 'string'),
          );
      }
      hostsCache = { version, map };
    } catch {
      // A half-written file cannot happen (the kubelet renames into place); keep the last good map.
    }
  }
  return hostsCache.map;
}

/** IPs for a Service name from the hosts file, rotated across calls; undefined when not a Service. */
function resolveFromHosts(name) {
  if (typeof name !== 'string' || name === '' || net.isIP(name)) return undefined;
  const map = readHosts();
  for (const candidate of candidateNames(name, POD_NAMESPACE)) {
    const ips = map.get(candidate);
    if (ips === undefined) continue;
    if (ips.length === 0) return [NO_ENDPOINTS_IP];
    const start = rotation.get(candidate) ?? 0;
    rotation.set(candidate, (start + 1) % ips.length);
    return [...ips.slice(start % ips.length), ...ips.slice(0, start % ips.length)];
  }
  return undefined;
}

function wantsFamily(options) {
  if (typeof options === 'number') return options;
  if (options && typeof options === 'object' && typeof options.family === 'number') return options.family;
  if (options && typeof options === 'object' && options.family === 'IPv4') return 4;
  if (options && typeof options === 'object' && options.family === 'IPv6') return 6;
  return 0;
}

function answer(ips, options) {
  const family = wantsFamily(options);
  const entries = ips.map((address) => ({ address, family: net.isIP(address) })).filter((e) => family === 0 || e.family === family);
  return entries;
}

const originalLookup = dns.lookup;
function patchedLookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  const ips = resolveFromHosts(hostname);
  if (ips === undefined) return originalLookup.call(dns, hostname, options, callback);
  const entries = answer(ips, options);
  process.nextTick(() => {
    if (entries.length === 0) {
      const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
        code: 'ENOTFOUND',
        errno: -3008,
        syscall: 'getaddrinfo',
        hostname,
      });
      callback(err);
    } else if (options && typeof options === 'object' && options.all) callback(null, entries);
    else callback(null, entries[0].address, entries[0].family);
  });
  return {};
}
dns.lookup = patchedLookup;

const originalPromisesLookup = dns.promises.lookup;
dns.promises.lookup = async function patchedPromisesLookup(hostname, options = {}) {
  const ips = resolveFromHosts(hostname);
  if (ips === undefined) return originalPromisesLookup.call(dns.promises, hostname, options);
  const entries = answer(ips, options);
  if (entries.length === 0) {
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname });
  }
  return options && typeof options === 'object' && options.all ? entries : entries[0];
};
const dnsPromisesModule = require('node:dns/promises');
if (dnsPromisesModule !== dns.promises) dnsPromisesModule.lookup = dns.promises.lookup;
// Make `import { lookup } from 'node:dns'` in ESM programs see the patched functions too.
syncBuiltinESMExports();
