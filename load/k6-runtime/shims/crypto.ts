import * as nodeCrypto from 'node:crypto';

/** k6/crypto on node:crypto: hashes, HMAC, randomBytes, with k6's output encodings. */
type OutEnc = 'hex' | 'base64' | 'base64url' | 'base64rawurl' | 'binary' | undefined;

const ALGO: Record<string, string> = {
  md4: 'md4',
  md5: 'md5',
  sha1: 'sha1',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
  sha512_224: 'sha512-224',
  sha512_256: 'sha512-256',
  ripemd160: 'ripemd160',
};

function algo(name: string): string {
  const a = ALGO[name];
  if (!a) throw new Error(`invalid algorithm: ${name}`);
  return a;
}

function input(d: unknown): Buffer | string {
  if (typeof d === 'string') return d;
  if (d instanceof ArrayBuffer) return Buffer.from(d);
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return String(d);
}

function out(b: Buffer, enc: OutEnc): string | ArrayBuffer {
  switch (enc) {
    case 'base64':
      return b.toString('base64');
    case 'base64url':
      return b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    case 'base64rawurl':
      return b.toString('base64url');
    case 'binary':
      return new Uint8Array(b).buffer;
    case 'hex':
    case undefined:
      return b.toString('hex');
    default:
      throw new Error(`invalid output encoding: ${String(enc)}`);
  }
}

/**
 * k6's Hasher (internal/js/modules/k6/crypto/crypto.go, `Digest` calls Go's `hash.Sum(nil)`, which does not
 * reset the hash): `digest()` may be called again, and `update()` after it, each digest covering everything
 * written so far. Node's Hash/Hmac digest only once, so the data is kept and hashed afresh at each digest.
 */
class Hasher {
  private readonly chunks: (Buffer | string)[] = [];
  constructor(private readonly make: () => nodeCrypto.Hash | nodeCrypto.Hmac) {}
  update(d: unknown, _enc?: string): void {
    this.chunks.push(input(d));
  }
  digest(enc?: OutEnc): string | ArrayBuffer {
    const h = this.make();
    for (const c of this.chunks) h.update(c);
    return out(h.digest(), enc);
  }
}

export const createHash = (a: string): Hasher => {
  const name = algo(a);
  return new Hasher(() => nodeCrypto.createHash(name));
};
export const createHMAC = (a: string, secret: unknown): Hasher => {
  const name = algo(a);
  const key = input(secret);
  return new Hasher(() => nodeCrypto.createHmac(name, key));
};
export function hmac(a: string, secret: unknown, data: unknown, enc?: OutEnc): string | ArrayBuffer {
  const h = createHMAC(a, secret);
  h.update(data);
  return h.digest(enc);
}
const hashFn =
  (a: string) =>
  (data: unknown, enc?: OutEnc): string | ArrayBuffer =>
    out(nodeCrypto.createHash(algo(a)).update(input(data)).digest(), enc);
export const md4 = hashFn('md4');
export const md5 = hashFn('md5');
export const sha1 = hashFn('sha1');
export const sha256 = hashFn('sha256');
export const sha384 = hashFn('sha384');
export const sha512 = hashFn('sha512');
export const sha512_224 = hashFn('sha512_224');
export const sha512_256 = hashFn('sha512_256');
export const ripemd160 = hashFn('ripemd160');
export function randomBytes(n: number): ArrayBuffer {
  const b = nodeCrypto.randomBytes(n);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

export default { createHash, createHMAC, hmac, md4, md5, sha1, sha256, sha384, sha512, sha512_224, sha512_256, ripemd160, randomBytes };
