/**
 * What Go's url.Parse (net/url, Go 1.24) decides about a request URL before any request is made, the parts that
 * decide k6's error for it. k6 parses request URLs with url.Parse (k6 v2.2.0 lib/netext/httpext/url.go NewURL):
 * a parse error is `invalid URL: parse "<url>": <reason>` (error_code 1020); a URL that parses is sent, and Go's
 * transport refuses any scheme but http and https with `unsupported protocol scheme "<scheme>"` (error_code 1000:
 * error_codes.go does not know that error). WHATWG parsing (Node's URL) differs on both sides, so the runtime
 * asks this first.
 */
export type GoUrl = { scheme: string } | { error: string };

/** Go's strconv.Quote for the strings a URL holds: JSON's escapes, except \xNN for control bytes Go writes so. */
function goQuote(s: string): string {
  const named: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };
  let out = '"';
  for (const c of s) {
    const code = c.charCodeAt(0);
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (named[c] !== undefined) out += named[c];
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return `${out}"`;
}

/** url.Parse's error for `raw`, as url.Error prints it. */
const parseError = (raw: string, reason: string): GoUrl => ({ error: `parse ${goQuote(raw)}: ${reason}` });

/** The first `%` not followed by two hex digits (net/url unescape: EscapeError), or undefined. */
function badEscape(s: string): string | undefined {
  for (let i = s.indexOf('%'); i !== -1; i = s.indexOf('%', i + 1)) {
    if (!/^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) return s.slice(i, i + 3);
  }
  return undefined;
}

/**
 * The scheme url.Parse reads from `raw` (lower-cased; '' for none), or its error: a control byte, a `:` first
 * (missing protocol scheme), a relative URL whose first path segment holds a `:`, or a `%` that is not an escape
 * in the path (unless opaque) or the fragment (url.Parse keeps the query raw). Host and port errors are left to WHATWG parsing, which rejects
 * the same hosts on loopback.
 */
export function goParseUrl(raw: string): GoUrl {
  const hash = raw.indexOf('#');
  const u = hash === -1 ? raw : raw.slice(0, hash);
  const fragment = hash === -1 ? '' : raw.slice(hash + 1);
  // net/url stringContainsCTLByte
  if (/[\x00-\x1f\x7f]/.test(u)) return parseError(u, 'net/url: invalid control character in URL');
  // getScheme: a letter, then letters, digits, '+', '-', '.' up to a ':'; any other character first: no scheme
  let scheme = '';
  let rest = u;
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*)?:/.exec(u);
  if (m) {
    if (m[1] === undefined) return parseError(u, 'missing protocol scheme');
    scheme = m[1].toLowerCase();
    rest = u.slice(m[0].length);
  }
  const query = rest.indexOf('?');
  const beforeQuery = query === -1 ? rest : rest.slice(0, query);
  if (!scheme && !beforeQuery.startsWith('/') && (beforeQuery.split('/')[0] ?? '').includes(':'))
    return parseError(u, 'first path segment in URL cannot contain colon');
  // the path is unescaped unless it is opaque (a scheme, then no '/'), errors quoting the URL without its fragment;
  // then the fragment, errors quoting the whole URL (url.Parse, setFragment)
  const badPath = scheme && !beforeQuery.startsWith('/') ? undefined : badEscape(beforeQuery);
  if (badPath !== undefined) return parseError(u, `invalid URL escape ${goQuote(badPath)}`);
  const badFragment = badEscape(fragment);
  if (badFragment !== undefined) return parseError(raw, `invalid URL escape ${goQuote(badFragment)}`);
  return { scheme };
}
