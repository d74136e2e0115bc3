import { StringDecoder } from 'node:string_decoder';

/** Lines longer than this are cut to it (the rest is dropped), so memory stays bounded on any input. */
export const MAX_LINE_LENGTH = 1 << 20;

/**
 * Calls `onLine` for every line of a byte or text stream, in order, without the `\n`.
 * A final line without a newline is delivered too; an empty input delivers nothing.
 * Synchronous callbacks per chunk keep this several times faster than node:readline on large logs.
 */
export async function forEachLine(
  source: AsyncIterable<Buffer | string>,
  onLine: (line: string) => void,
  maxLineLength = MAX_LINE_LENGTH,
): Promise<number> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let lines = 0;
  const emit = (line: string): void => {
    lines++;
    onLine(line);
  };
  const append = (piece: string): void => {
    if (carry.length < maxLineLength) carry += piece.slice(0, maxLineLength - carry.length);
  };
  for await (const chunk of source) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      if (carry === '' && nl - start <= maxLineLength) {
        emit(text.slice(start, nl));
      } else {
        append(text.slice(start, nl));
        emit(carry);
        carry = '';
      }
      start = nl + 1;
    }
    if (start < text.length) append(text.slice(start));
  }
  append(decoder.end());
  if (carry !== '') emit(carry);
  return lines;
}
