/**
 * The one redaction module: every byte pd-harness writes to a report, a journal, a bundle or the console
 * passes through `redact` (text) or `redactObject` (data). It removes:
 *  - credentials in URLs (`https://user:password@host` -> `https://[REDACTED]@host`);
 *  - `Authorization` / `Proxy-Authorization` / cookie headers, and bare `Bearer` / `Basic` credentials;
 *  - the value of any key whose name says it holds a secret, in any case style: `token`, `accessToken`,
 *    `access_token`, `client-secret`, `HF_TOKEN`, `OPENAI_API_KEY`, `x-api-key`, `apikey`, `password`,
 *    kubeconfig `client-key-data`; quoted values, values with spaces (to the end of the line) and YAML block
 *    scalars (`key: |` and its indented lines) alike;
 *  - PEM blocks (`-----BEGIN ... KEY-----` ... `-----END ...-----`), JWTs and well-known token prefixes
 *    (`hf_`, `sk-`, `ghp_`).
 * Numbers stay (a `token_count: 12` is not a credential); token *counts* (`max_tokens`, `prompt_tokens`) and
 * `tokenizer` are not secret names.
 */

export const REDACTED = '[REDACTED]';

/** Words (after splitting camelCase, snake_case, kebab-case, dots) that make a key secret on their own. */
const SECRET_WORDS = new Set([
  'token',
  'secret',
  'secrets',
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'apikey',
  'credential',
  'credentials',
  'authorization',
  'cookie',
  'privatekey',
  'clientsecret',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'bearer',
]);
/** Two adjacent words that make a key secret: api key, private key, client key (kubeconfig client-key-data), access key, auth token. */
const SECRET_PAIRS = new Set([
  'api key',
  'private key',
  'client key',
  'access key',
  'secret key',
  'session key',
  'signing key',
  'set cookie',
  'client certificate',
]);

/** A key ending in one of these names where a secret is, not the secret. */
const NOT_SECRET_LAST_WORDS = new Set([
  'name',
  'names',
  'ref',
  'file',
  'path',
  'dir',
  'namespace',
  'id',
  'type',
  'count',
  'expiry',
  'expires',
  'ttl',
  'seconds',
]);

/** Splits a key into lower-case words: `OPENAI_API_KEY` -> openai, api, key; `accessToken` -> access, token. */
export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** True when a key (header name, field, env var) names credential material. */
export function isSecretKey(key: string): boolean {
  if (key.length > 200) return false;
  const words = keyWords(key);
  if (words.length === 0) return false;
  if (words.join('') === 'auth') return true;
  // a reference to a secret is not one: secretName, secretKeyRef, passwordFile, tokenPath
  if (NOT_SECRET_LAST_WORDS.has(words[words.length - 1]!)) return false;
  for (let i = 0; i < words.length; i++) {
    if (SECRET_WORDS.has(words[i]!)) return true;
    if (i + 1 < words.length && SECRET_PAIRS.has(`${words[i]} ${words[i + 1]}`)) return true;
  }
  return false;
}

const PEM = /-----BEGIN ([A-Z0-9 ]{1,64})-----[\s\S]*?(?:-----END \1-----|$)/g;
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]{0,30}:\/\/)[^\s/?#@"'<>]+@/gi;
const BEARER = /\b(Bearer|Basic)(\s+)(?!\[REDACTED\])[A-Za-z0-9._~+/=-]{6,}/g;
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const KNOWN_TOKENS = /\b(?:hf_[A-Za-z0-9]{16,}|sk-[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abpr]-[A-Za-z0-9-]{10,})/g;
/** `key: `, `"key": `, `KEY=`, `--api-key=`: the key is tested with isSecretKey, the value parsed after it. */
const KEY_SEP = /(\\?["']?)([A-Za-z_][A-Za-z0-9_.-]{0,120})\1([ \t]*[:=][ \t]*)/g;
/** `key: |` / `key: >-` opening a YAML block scalar (its value is on the following, more indented lines). */
const BLOCK_SCALAR_START = /^([ \t]*)(?:-[ \t]+)?(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\2[ \t]*:[ \t]*[|>][-+0-9]*[ \t]*(?:#.*)?$/;

export function redact(text: string): string {
  if (text.length === 0) return text;
  let out = text.replace(PEM, (_m, label: string) => `-----BEGIN ${label}-----\n${REDACTED}\n-----END ${label}-----`);
  if (out.includes('|') || out.includes('>')) out = redactBlockScalars(out);
  out = out.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
  out = redactKeyValues(out);
  out = out.replace(BEARER, (whole, scheme: string, space: string) =>
    scheme === 'Basic' && /^Basic\s+[a-z]+$/.test(whole) ? whole : `${scheme}${space}${REDACTED}`,
  );
  out = out.replace(JWT, REDACTED);
  out = out.replace(KNOWN_TOKENS, REDACTED);
  return out;
}

/** Scans for `key<sep>` and replaces the value after each secret key; other keys are stepped over, not consumed. */
function redactKeyValues(text: string): string {
  let out = '';
  let copied = 0;
  KEY_SEP.lastIndex = 0;
  for (let m = KEY_SEP.exec(text); m; m = KEY_SEP.exec(text)) {
    const sepEnd = m.index + m[0].length;
    if (!isSecretKey(m[2]!)) continue;
    const end = valueEnd(text, sepEnd, m[3]!.includes('='));
    if (end === undefined) continue;
    const q = /^(\\?["'])/.exec(text.slice(sepEnd, sepEnd + 2))?.[1] ?? '';
    out += `${text.slice(copied, sepEnd)}${q}${REDACTED}${q}`;
    copied = end;
    KEY_SEP.lastIndex = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Where the value starting at `start` ends, or undefined when there is nothing to redact (empty, already
 * redacted, a number, a block scalar indicator, a URL scheme). A quoted value ends at its closing quote;
 * `key=value` (env, query, command line) at whitespace, `&`, `;`, `,`; `key: value` (YAML, headers) at the
 * end of the line, a flow collection's `,` `}` `]`, a JSON string's quote or escape, or a ` #` comment.
 */
function valueEnd(text: string, start: number, equals: boolean): number | undefined {
  const first = text[start];
  if (first === undefined || first === '\n' || first === '\r') return undefined;
  if (first === '\\' && text[start + 1] === '"') {
    // a JSON string inside a JSON string: \"value\"
    const close = text.indexOf('\\"', start + 2);
    const end = close < 0 ? text.length : close + 2;
    const body = text.slice(start + 2, close < 0 ? end : close);
    return body === '' || body === REDACTED ? undefined : end;
  }
  if (first === '{' || first === '[') return undefined; // a structure: its own secret keys are found one by one
  if (first === '"' || first === "'") {
    let i = start + 1;
    while (i < text.length && text[i] !== first && text[i] !== '\n') i += text[i] === '\\' && first === '"' ? 2 : 1;
    const body = text.slice(start + 1, i);
    if (body === '' || body === REDACTED) return undefined;
    return text[i] === first ? i + 1 : i;
  }
  if (text.startsWith(REDACTED, start) || (!equals && text.startsWith('//', start))) return undefined;
  const stop = equals ? /[\s&;,"'}\]\\]/g : /[\n\r,}\]"\\]|\s#/g;
  stop.lastIndex = start;
  const m = stop.exec(text);
  let end = m ? m.index : text.length;
  while (end > start && /[ \t]/.test(text[end - 1]!)) end--;
  const value = text.slice(start, end);
  if (
    value === '' ||
    /^[|>][-+0-9]*$/.test(value) ||
    /^-?\d+(\.\d+)?$/.test(value) ||
    value === 'null' ||
    value === 'true' ||
    value === 'false'
  )
    return undefined;
  return end;
}

/** Replaces the indented lines of a block scalar under a secret key (`password: |` + lines) by one `[REDACTED]`. */
function redactBlockScalars(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    out.push(line);
    const m = BLOCK_SCALAR_START.exec(line);
    if (!m || !isSecretKey(m[3]!)) continue;
    const indent = m[1]!.length + (line.slice(m[1]!.length).startsWith('-') ? 2 : 0);
    let j = i + 1;
    let first = true;
    while (j < lines.length) {
      const next = lines[j]!;
      const nextIndent = next.length - next.trimStart().length;
      if (next.trim() !== '' && nextIndent <= indent) break;
      if (first && next.trim() !== '') {
        out.push(`${' '.repeat(nextIndent)}${REDACTED}`);
        first = false;
      }
      j++;
    }
    i = j - 1;
  }
  return out.join('\n');
}

/**
 * Deep copy with the values of secret-named keys replaced and every string passed through `redact`.
 * A `{ name, value }` pair (a container env entry, an HTTP header, an Allure parameter) whose name is
 * secret has its value replaced too.
 */
export function redactObject<T>(value: T): T {
  return walk(value, 0) as T;
}

function walk(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redact(value);
  if (depth > 200 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return value;
  const obj = value as Record<string, unknown>;
  const pairName = typeof obj.name === 'string' && 'value' in obj && isSecretKey(obj.name);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if ((isSecretKey(k) || (pairName && k === 'value')) && v !== null && v !== undefined && typeof v !== 'number' && typeof v !== 'boolean')
      out[k] = REDACTED;
    else out[k] = walk(v, depth + 1);
  }
  return out;
}

/**
 * Redacts the text of a file or attachment by its type: JSON as data (secret-named keys, `{ name, value }`
 * pairs, pretty-printing kept), anything else as text. `kind` is a content type or a file name.
 */
export function redactText(kind: string, text: string): string {
  if (/json/i.test(kind)) {
    try {
      const pretty = /\n {2}/.test(text);
      const out = JSON.stringify(redactObject(JSON.parse(text) as unknown), null, pretty ? 2 : undefined);
      return text.endsWith('\n') ? `${out}\n` : out;
    } catch {
      // not JSON after all: redact it as text
    }
  }
  return redact(text);
}
