/**
 * What the built-in runtime refuses, found before the first request: imports (at bundling) and uses in the
 * script's own files that a static scan can see. Each refusal names the feature and the k6 docs term.
 */

const MODULES: [RegExp, string, string][] = [
  [/^https:\/\/jslib\.k6\.io\//, 'jslib module', 'jslib'],
  [/^https?:\/\//, 'remote module', 'Modules, remote modules'],
  [/^k6\/experimental\/websockets$|^k6\/websockets$/, 'the browser-like WebSocket API (k6/ws is supported)', 'k6/websockets'],
  [/^k6\/net\/grpc$|^k6\/experimental\/grpc$/, 'gRPC', 'k6/net/grpc'],
  [/^k6\/browser$|^k6\/experimental\/browser$/, 'the browser module', 'k6/browser'],
  [/^k6\/secrets$/, 'secrets', 'k6/secrets'],
  [/^k6\/x\//, 'an xk6 extension', 'Extensions'],
  [/^k6\/experimental\//, 'an experimental module', 'k6/experimental'],
];

export function refusedImport(spec: string, supported: readonly string[]): string {
  for (const [re, what, docs] of MODULES) {
    if (re.test(spec)) {
      const extra =
        what === 'jslib module' || what === 'remote module'
          ? ' is not vendored: the built-in runtime does not fetch remote modules; download it next to the script and import it by relative path'
          : ' is not supported by the built-in k6 runtime';
      return `unsupported import '${spec}': ${what}${extra} (k6 docs: ${docs})`;
    }
  }
  return `unsupported import '${spec}' (the built-in k6 runtime supports ${supported.join(', ')}; k6 docs: Modules)`;
}

const USES: [RegExp, string, string][] = [
  [/\.submitForm\s*\(/, 'Response.submitForm()', 'Response.submitForm'],
  [/\.clickLink\s*\(/, 'Response.clickLink()', 'Response.clickLink'],
  [/\bjUnit\s*\(/, 'jUnit() of the k6-summary jslib', 'jslib, k6-summary'],
  [/\bhttp\.file\s*\(/, 'http.file() (multipart/form-data bodies)', 'http.file'],
  [/\bcompression\s*:\s*['"`]/, 'params.compression', 'Params, compression'],
  [/\bresponseType\s*:\s*['"`]binary/, "params.responseType 'binary'", 'Params, responseType'],
  [/\bauth\s*:\s*['"`]ntlm/, 'params.auth ntlm', 'Params, auth'],
  [
    /\binstance\s*\.\s*(iterationsCompleted|iterationsInterrupted|vusActive|vusInitialized)\b/,
    'k6/execution instance counters',
    'k6/execution, instance',
  ],
  [
    /\bsetResponseCallback\s*\(\s*(function|\(|[a-zA-Z_$][\w$]*\s*=>)/,
    'a responseCallback other than http.expectedStatuses()',
    'setResponseCallback',
  ],
];

/** First refused use in a source text (comments stripped), with its 1-based line. */
export function scanSource(text: string): { line: number; message: string } | undefined {
  const code = stripComments(text);
  for (const [re, what, docs] of USES) {
    const m = re.exec(code);
    if (m) {
      const line = code.slice(0, m.index).split('\n').length;
      return { line, message: `unsupported by the built-in k6 runtime: ${what} (k6 docs: ${docs})` };
    }
  }
  return undefined;
}

/** Blank out // and /* *\/ comments (keeping newlines, so line numbers hold); strings are left alone. */
export function stripComments(text: string): string {
  let out = '';
  let i = 0;
  let quote: string | undefined;
  while (i < text.length) {
    const c = text[i] ?? '';
    const n = text[i + 1];
    if (quote) {
      out += c;
      if (c === '\\') {
        out += n ?? '';
        i += 2;
        continue;
      }
      if (c === quote) quote = undefined;
      i++;
    } else if (c === '/' && n === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && n === '*') {
      i += 2;
      while (i < text.length && !(text[i] === '*' && text[i + 1] === '/')) {
        if (text[i] === '\n') out += '\n';
        i++;
      }
      i += 2;
    } else {
      if (c === '"' || c === "'" || c === '`') quote = c;
      out += c;
      i++;
    }
  }
  return out;
}
