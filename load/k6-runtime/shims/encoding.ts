/** k6/encoding: b64encode / b64decode with k6's four alphabets (std, rawstd, url, rawurl). */
type Enc = 'std' | 'rawstd' | 'url' | 'rawurl';

function bytesOf(input: unknown): Buffer {
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  if (input instanceof ArrayBuffer) return Buffer.from(input);
  if (ArrayBuffer.isView(input)) return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  return Buffer.from(String(input), 'utf8');
}

export function b64encode(input: unknown, encoding: Enc = 'std'): string {
  const b = bytesOf(input);
  if (encoding === 'url') return b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  if (encoding === 'rawurl') return b.toString('base64url');
  if (encoding === 'rawstd') return b.toString('base64').replace(/=+$/, '');
  return b.toString('base64');
}

export function b64decode(input: string, encoding: Enc = 'std', format?: 's'): string | ArrayBuffer {
  const text = encoding === 'url' || encoding === 'rawurl' ? String(input).replace(/-/g, '+').replace(/_/g, '/') : String(input);
  const b = Buffer.from(text, 'base64');
  if (format === 's') return b.toString('utf8');
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

export default { b64encode, b64decode };
