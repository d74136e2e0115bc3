import { MAX_LINE_LENGTH } from './line-splitter.ts';

/**
 * Line splitting that decodes only the lines an analyzer needs: those containing one of a few ASCII markers.
 *
 * Why the counts stay exact: UTF-8 decodes every ASCII byte to the same character and never produces ASCII
 * from other bytes, and `\n` never occurs inside a multi-byte character, so a line's bytes contain an ASCII
 * marker exactly when its decoded text does, and splitting bytes at `\n` gives the lines `forEachLine` gives.
 */

export interface MarkedLineCounts {
  /** Every line, as `forEachLine` counts them. */
  lines: number;
  /** Non-blank lines without a marker that were not handed to `onLine`. */
  plain: number;
}

/**
 * Text to find: a string, or a string with an `anchor`, a part of it that is searched for and around which
 * the whole text is then checked. Buffer.indexOf runs memchr on the first byte of what it searches, so a
 * part that starts with a byte rare in the input is found several times faster than the whole (in EPP
 * logs `Exhausted` beats `InferencePoolResourceExhausted`, whose `I` starts every klog info line).
 */
export type Needle = string | { readonly text: string; readonly anchor: string };

/**
 * A marker: a line is marked when it contains the needle, and, for a conditional marker, also one of `with`
 * (e.g. the stock "Request handled" line matters only when it carries an `endpoint`).
 */
export type Marker = Needle | { readonly needle: Needle; readonly with: readonly Needle[] };

/** A compiled needle: `find` gives the start of the first whole text at or after `from`, or -1. */
interface Finder {
  readonly bytes: Buffer;
  find(buf: Buffer, from: number): number;
}

function finder(needle: Needle): Finder {
  const text = typeof needle === 'string' ? needle : needle.text;
  const anchorText = typeof needle === 'string' ? needle : needle.anchor;
  for (const t of [text, anchorText]) {
    if (t === '' || !/^[\x00-\x09\x0b-\x7f]+$/.test(t)) throw new Error(`marker must be non-empty ASCII without \\n: ${JSON.stringify(t)}`);
  }
  const k = text.indexOf(anchorText);
  if (k < 0) throw new Error(`marker anchor ${JSON.stringify(anchorText)} is not part of ${JSON.stringify(text)}`);
  const bytes = Buffer.from(text, 'latin1');
  if (k === 0 && anchorText === text) return { bytes, find: (buf, from) => buf.indexOf(bytes, from) };
  const anchor = Buffer.from(anchorText, 'latin1');
  const tail = k + anchor.length;
  return {
    bytes,
    find(buf: Buffer, from: number): number {
      for (let at = buf.indexOf(anchor, from + k); at >= 0; at = buf.indexOf(anchor, at + 1)) {
        const start = at - k;
        if (start + bytes.length > buf.length) return -1;
        let same = true;
        for (let i = 0; same && i < k; i++) same = buf[start + i] === bytes[i];
        for (let i = tail; same && i < bytes.length; i++) same = buf[start + i] === bytes[i];
        if (same) return start;
      }
      return -1;
    },
  };
}

/**
 * Each line of a byte or text stream is exactly one of:
 *  - handed to `onLine`, decoded and cut exactly as `forEachLine` would: lines containing a marker, lines
 *    longer than `maxLineLength` bytes, and lines whose first non-whitespace byte is not ASCII (`trim()`
 *    decides whether they are blank);
 *  - counted in `plain`: lines of at most `maxLineLength` bytes whose first non-whitespace byte is ASCII
 *    and that contain no marker, never decoded;
 *  - dropped: lines of ASCII whitespace only (empty, spaces, tabs, `\r`, `\v`, `\f`), blank to `trim()`.
 */
export async function forEachMarkedLine(
  source: AsyncIterable<Buffer | string>,
  markers: readonly Marker[],
  onLine: (line: string) => void,
  maxLineLength = MAX_LINE_LENGTH,
): Promise<MarkedLineCounts> {
  const scanner = createLineScanner(markers, onLine, maxLineLength);
  // Text chunks are encoded; a surrogate pair split between two chunks is joined first.
  let highSurrogate = '';
  const bytesOf = (chunk: Buffer | string): Buffer => {
    if (typeof chunk !== 'string') {
      // a plain Uint8Array (web streams) has no Buffer.indexOf(Buffer)
      if (!Buffer.isBuffer(chunk))
        chunk = Buffer.from((chunk as Uint8Array).buffer, (chunk as Uint8Array).byteOffset, (chunk as Uint8Array).byteLength);
      if (highSurrogate === '') return chunk;
      const joined = Buffer.concat([Buffer.from(highSurrogate), chunk]);
      highSurrogate = '';
      return joined;
    }
    let text = highSurrogate + chunk;
    highSurrogate = '';
    const last = text.charCodeAt(text.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
      highSurrogate = text.slice(-1);
      text = text.slice(0, -1);
    }
    return Buffer.from(text, 'utf8');
  };
  for await (const chunk of source) scanner.scan(bytesOf(chunk));
  if (highSurrogate !== '') scanner.scan(Buffer.from(highSurrogate));
  return scanner.finish();
}

/**
 * The synchronous core of `forEachMarkedLine`, for callers that read bytes themselves (a file range read
 * with `readSync`): `scan` each piece of the input in order (a piece may end inside a line; the scanner
 * keeps what it needs of it, so the caller may reuse the buffer), then `finish` once.
 */
export interface LineScanner {
  scan(buf: Buffer): void;
  /**
   * Ends the input (a last line without `\n` is a line) and returns its counts; the scanner is then ready for
   * another input (one scanner for many, e.g. the blocks of a file: its functions stay optimized).
   */
  finish(): MarkedLineCounts;
}

export function createLineScanner(
  markers: readonly Marker[],
  onLine: (line: string) => void,
  maxLineLength = MAX_LINE_LENGTH,
): LineScanner {
  const needles = markers.map((m) => finder(typeof m === 'object' && 'needle' in m ? m.needle : m));
  // The conditions of conditional markers, each searched only when a line holds its marker.
  const withNeedles = markers.map((m) => (typeof m === 'object' && 'needle' in m ? m.with.map(finder) : []));
  const withAt = withNeedles.map((w) => w.map(() => -1));
  // The first maxLineLength UTF-16 units of a line come from at most 3 bytes each.
  const keepBytes = 3 * maxLineLength;
  const counts: MarkedLineCounts = { lines: 0, plain: 0 };
  const nextAt = needles.map(() => -1);

  const deliver = (buf: Buffer, start: number, end: number): void => {
    const text = buf.toString('utf8', start, Math.min(end, start + keepBytes));
    onLine(text.length > maxLineLength ? text.slice(0, maxLineLength) : text);
  };
  const classify = (buf: Buffer, start: number, end: number, marked: boolean): void => {
    counts.lines++;
    // a line of maxLineLength bytes or more may be as long as the limit, where push() counts it too long
    if (marked || end - start >= maxLineLength) return deliver(buf, start, end);
    for (let i = start; i < end; i++) {
      const c = buf[i] as number;
      if (c === 32 || (c >= 9 && c <= 13)) continue;
      if (c < 128) {
        counts.plain++;
        return;
      }
      return deliver(buf, start, end);
    }
  };
  /** Start of the first marker at or after `from` in `buf` (buf.length when none), cached per marker. */
  const nextMarker = (buf: Buffer, from: number): number => {
    let min = buf.length;
    for (let i = 0; i < needles.length; i++) {
      let at = nextAt[i] as number;
      if (at < from) {
        at = (needles[i] as Finder).find(buf, from);
        nextAt[i] = at = at < 0 ? buf.length : at;
      }
      if (at < min) min = at;
    }
    return min;
  };
  /** Whether the line [start, end) holds a marker, given that the nearest marker text starts in it. */
  const markedLine = (buf: Buffer, start: number, end: number): boolean => {
    for (let i = 0; i < needles.length; i++) {
      if ((nextAt[i] as number) >= end) continue;
      const conditions = withNeedles[i] as Finder[];
      if (conditions.length === 0) return true;
      const cached = withAt[i] as number[];
      for (let j = 0; j < conditions.length; j++) {
        let at = cached[j] as number;
        if (at < start) {
          at = (conditions[j] as Finder).find(buf, start);
          cached[j] = at = at < 0 ? buf.length : at;
        }
        // a condition must lie wholly inside the line
        if (at + (conditions[j] as Finder).bytes.length <= end) return true;
      }
    }
    return false;
  };
  /** The same decision for a whole line held alone in `buf` (a line that spanned pieces). */
  const hasMarker = (buf: Buffer): boolean =>
    needles.some((n, i) => {
      const conditions = withNeedles[i] as Finder[];
      return buf.includes(n.bytes) && (conditions.length === 0 || conditions.some((w) => buf.includes(w.bytes)));
    });

  // A line that spans pieces: its bytes so far (at most keepBytes of them).
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let pending = false;
  const addCarry = (piece: Buffer): void => {
    pending = true;
    if (carryBytes >= keepBytes || piece.length === 0) return;
    const kept = Buffer.from(piece.subarray(0, keepBytes - carryBytes)); // a copy: callers reuse buffers
    carry.push(kept);
    carryBytes += kept.length;
  };
  const finishCarry = (): void => {
    const line = carry.length === 1 ? (carry[0] as Buffer) : Buffer.concat(carry, carryBytes);
    carry = [];
    carryBytes = 0;
    pending = false;
    classify(line, 0, line.length, hasMarker(line));
  };

  return {
    scan(buf: Buffer): void {
      let start = 0;
      if (pending) {
        const nl = buf.indexOf(10);
        if (nl < 0) return addCarry(buf);
        addCarry(buf.subarray(0, nl));
        finishCarry();
        start = nl + 1;
      }
      nextAt.fill(-1);
      for (const w of withAt) w.fill(-1);
      let marker = -1;
      for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
        if (marker < start) marker = nextMarker(buf, start);
        classify(buf, start, nl, marker < nl && markedLine(buf, start, nl));
        start = nl + 1;
      }
      if (start < buf.length) addCarry(buf.subarray(start));
    },
    finish(): MarkedLineCounts {
      if (pending) finishCarry();
      const out = { ...counts };
      counts.lines = counts.plain = 0;
      return out;
    },
  };
}
