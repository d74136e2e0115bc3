/**
 * JUnit XML for CI systems that do not read Allure. Playwright's built-in `junit` reporter writes it
 * (reports/junit.xml); this module checks its structure the way the common JUnit XSD (Jenkins/Ant)
 * defines it, with a small XML parser (no dependency): testsuites > testsuite > testcase, counts that
 * add up, failure/error/skipped children.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const amp = s.indexOf('&', i);
    if (amp < 0) return out + s.slice(i);
    out += s.slice(i, amp);
    const semi = s.indexOf(';', amp);
    if (semi < 0) throw new Error(`unterminated entity at ${amp}`);
    const name = s.slice(amp + 1, semi);
    if (name.startsWith('#x')) out += String.fromCodePoint(parseInt(name.slice(2), 16));
    else if (name.startsWith('#')) out += String.fromCodePoint(parseInt(name.slice(1), 10));
    else if (name in ENTITIES) out += ENTITIES[name];
    else throw new Error(`unknown entity &${name};`);
    i = semi + 1;
  }
  return out;
}

function isNameChar(c: string): boolean {
  return c !== '' && !' \t\r\n/>=<"\''.includes(c);
}

/** Parses well-formed XML (elements, attributes, text, CDATA, comments, declarations); throws on malformed input. */
export function parseXml(xml: string): XmlElement {
  let i = 0;
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const top = () => stack[stack.length - 1]!;
  const expectAt = (what: string) => {
    if (!xml.startsWith(what, i)) throw new Error(`expected ${what} at offset ${i}`);
    i += what.length;
  };
  const skipSpace = () => {
    while (i < xml.length && ' \t\r\n'.includes(xml[i]!)) i++;
  };
  const readName = () => {
    const start = i;
    while (i < xml.length && isNameChar(xml[i]!)) i++;
    if (i === start) throw new Error(`expected a name at offset ${i}`);
    return xml.slice(start, i);
  };
  while (i < xml.length) {
    if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i);
      if (end < 0) throw new Error('unterminated declaration');
      i = end + 2;
    } else if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
    } else if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i);
      if (end < 0) throw new Error('unterminated CDATA');
      top().text += xml.slice(i + 9, end);
      i = end + 3;
    } else if (xml.startsWith('<!', i)) {
      const end = xml.indexOf('>', i);
      if (end < 0) throw new Error('unterminated doctype');
      i = end + 1;
    } else if (xml.startsWith('</', i)) {
      i += 2;
      const name = readName();
      skipSpace();
      expectAt('>');
      const open = stack.pop();
      if (!open || open === root || open.name !== name) throw new Error(`closing </${name}> does not match <${open?.name ?? '(none)'}>`);
    } else if (xml[i] === '<') {
      i++;
      const el: XmlElement = { name: readName(), attrs: {}, children: [], text: '' };
      for (;;) {
        skipSpace();
        if (xml.startsWith('/>', i)) {
          i += 2;
          top().children.push(el);
          break;
        }
        if (xml[i] === '>') {
          i++;
          top().children.push(el);
          stack.push(el);
          break;
        }
        const attr = readName();
        skipSpace();
        expectAt('=');
        skipSpace();
        const quote = xml[i];
        if (quote !== '"' && quote !== "'") throw new Error(`attribute ${attr} of <${el.name}> is not quoted`);
        const end = xml.indexOf(quote, i + 1);
        if (end < 0) throw new Error(`unterminated attribute ${attr}`);
        if (attr in el.attrs) throw new Error(`duplicate attribute ${attr} on <${el.name}>`);
        el.attrs[attr] = decode(xml.slice(i + 1, end));
        i = end + 1;
      }
    } else {
      const next = xml.indexOf('<', i);
      const end = next < 0 ? xml.length : next;
      top().text += decode(xml.slice(i, end));
      i = end;
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${top().name}>`);
  const elements = root.children;
  if (elements.length !== 1) throw new Error(`expected one root element, found ${elements.length}`);
  if (root.text.trim()) throw new Error('text outside the root element');
  return elements[0]!;
}

export interface JUnitTotals {
  suites: number;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  testcases: { suite: string; name: string; classname: string; outcome: 'passed' | 'failed' | 'error' | 'skipped'; message?: string }[];
}

const NUM = /^\d+$/;
const TIME = /^\d+(\.\d+)?([eE][-+]?\d+)?$/;

/** Structural checks of the JUnit schema; returns the problems (empty = valid) and the totals found. */
export function checkJUnit(xml: string): { problems: string[]; totals: JUnitTotals } {
  const problems: string[] = [];
  const totals: JUnitTotals = { suites: 0, tests: 0, failures: 0, errors: 0, skipped: 0, testcases: [] };
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (err) {
    return { problems: [`not well-formed XML: ${(err as Error).message}`], totals };
  }
  const suites = root.name === 'testsuites' ? root.children.filter((c) => c.name === 'testsuite') : root.name === 'testsuite' ? [root] : [];
  if (root.name !== 'testsuites' && root.name !== 'testsuite')
    problems.push(`root element is <${root.name}>, not <testsuites> or <testsuite>`);
  if (root.name === 'testsuites') {
    for (const c of root.children) if (c.name !== 'testsuite') problems.push(`<testsuites> contains <${c.name}>`);
  }
  for (const s of suites) {
    const where = `testsuite ${s.attrs.name ?? '(unnamed)'}`;
    if (!s.attrs.name) problems.push(`${where}: no name attribute`);
    for (const a of ['tests', 'failures', 'errors'] as const) {
      if (!NUM.test(s.attrs[a] ?? '')) problems.push(`${where}: attribute ${a} is not a count (${s.attrs[a] ?? 'missing'})`);
    }
    if (s.attrs.skipped !== undefined && !NUM.test(s.attrs.skipped)) problems.push(`${where}: attribute skipped is not a count`);
    if (s.attrs.time !== undefined && !TIME.test(s.attrs.time)) problems.push(`${where}: attribute time is not a number`);
    const cases = s.children.filter((c) => c.name === 'testcase');
    for (const c of s.children)
      if (!['testcase', 'properties', 'system-out', 'system-err'].includes(c.name)) problems.push(`${where}: unexpected <${c.name}>`);
    let failures = 0;
    let errors = 0;
    let skipped = 0;
    for (const tc of cases) {
      const tcWhere = `${where} > testcase ${tc.attrs.name ?? '(unnamed)'}`;
      if (!tc.attrs.name) problems.push(`${tcWhere}: no name attribute`);
      if (tc.attrs.classname === undefined) problems.push(`${tcWhere}: no classname attribute`);
      if (tc.attrs.time !== undefined && !TIME.test(tc.attrs.time)) problems.push(`${tcWhere}: attribute time is not a number`);
      const f = tc.children.filter((c) => c.name === 'failure');
      const e = tc.children.filter((c) => c.name === 'error');
      const sk = tc.children.filter((c) => c.name === 'skipped');
      for (const c of tc.children)
        if (!['failure', 'error', 'skipped', 'system-out', 'system-err', 'properties'].includes(c.name))
          problems.push(`${tcWhere}: unexpected <${c.name}>`);
      if (f.length + e.length + sk.length > 1) problems.push(`${tcWhere}: more than one of failure/error/skipped`);
      const outcome = f.length ? 'failed' : e.length ? 'error' : sk.length ? 'skipped' : 'passed';
      failures += f.length ? 1 : 0;
      errors += e.length ? 1 : 0;
      skipped += sk.length ? 1 : 0;
      const message = (f[0] ?? e[0])?.attrs.message;
      totals.testcases.push({
        suite: s.attrs.name ?? '',
        name: tc.attrs.name ?? '',
        classname: tc.attrs.classname ?? '',
        outcome,
        ...(message !== undefined ? { message } : {}),
      });
    }
    const count = (a: string) => Number(s.attrs[a] ?? NaN);
    if (count('tests') !== cases.length) problems.push(`${where}: tests=${s.attrs.tests} but ${cases.length} testcase(s)`);
    if (count('failures') !== failures) problems.push(`${where}: failures=${s.attrs.failures} but ${failures} testcase(s) with <failure>`);
    if (count('errors') !== errors) problems.push(`${where}: errors=${s.attrs.errors} but ${errors} testcase(s) with <error>`);
    if (s.attrs.skipped !== undefined && count('skipped') !== skipped)
      problems.push(`${where}: skipped=${s.attrs.skipped} but ${skipped} testcase(s) with <skipped>`);
    totals.suites++;
    totals.tests += cases.length;
    totals.failures += failures;
    totals.errors += errors;
    totals.skipped += skipped;
  }
  if (root.name === 'testsuites') {
    for (const a of ['tests', 'failures', 'errors', 'skipped'] as const) {
      const v = root.attrs[a];
      if (v !== undefined && Number(v) !== totals[a]) problems.push(`testsuites: ${a}=${v} but the suites add up to ${totals[a]}`);
    }
  }
  return { problems, totals };
}
