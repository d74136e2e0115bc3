/**
 * HTTP Digest authentication as k6 v2.2.0 does it (lib/netext/httpext/digest_transport.go with the vendored
 * github.com/Soontao/goHttpDigestClient): every request is sent first without credentials; on a 401 the
 * `WWW-Authenticate` challenge is parsed, the RFC 2617 response computed (MD5, `nc` 00000001, a fresh cnonce)
 * and the request sent again with `Authorization`. The library's quirks are kept, since they decide what a
 * server accepts: the challenge is split on spaces after every comma is removed, each item at its first `=`
 * up to the next one (a value holding `=` is cut there), quotes are stripped, and the reply echoes every
 * challenge item, quoted except `qop` and `nc`.
 */
import { createHash, randomUUID } from 'node:crypto';

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/** goHttpDigestClient NewChallenge: item → raw value (quotes kept), in the header's order; the scheme apart. */
export function parseChallenge(header: string): { scheme: string; items: Map<string, string> } {
  const words = header.replace(/,/g, '').split(' ');
  const items = new Map<string, string>();
  if (words.length <= 1) return { scheme: '', items };
  for (const w of words.slice(1)) {
    const parts = w.split('=');
    items.set(parts[0] ?? '', parts[1] ?? '');
  }
  return { scheme: words[0] ?? '', items };
}

const pure = (v: string | undefined): string => (v ?? '').replace(/"/g, '');

/** The `Authorization` value for one request (rfc2617.go computeResponse, challenge.go ToAuthorizationStr). */
export function digestAuthorization(
  challenge: Map<string, string>,
  req: { method: string; uri: string; entity: string; username: string; password: string; cnonce?: string },
): string {
  const qop = pure(challenge.get('qop'));
  const ha1 = md5(`${req.username}:${pure(challenge.get('realm'))}:${req.password}`);
  const ha2 = qop === 'auth-int' ? md5(`${req.method}:${req.uri}:${md5(req.entity)}`) : md5(`${req.method}:${req.uri}`);
  const nonce = pure(challenge.get('nonce'));
  const nc = pure(challenge.get('nc')) || '00000001';
  const cnonce = pure(challenge.get('cnonce')) || req.cnonce || randomUUID().replace(/-/g, '');
  const response =
    qop === 'auth' || qop === 'auth-int' ? md5(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
  const items = new Map(challenge);
  items.set('username', req.username);
  items.set('uri', req.uri);
  items.set('cnonce', cnonce);
  items.set('nc', nc);
  items.set('response', response);
  const fields = [...items].map(([k, v]) => `${k}=${k === 'qop' || k === 'nc' ? pure(v) : `"${pure(v)}"`}`);
  return `Digest ${fields.join(', ')}`;
}
