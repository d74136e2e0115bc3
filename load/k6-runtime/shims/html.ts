import type { CheerioAPI, Cheerio } from 'cheerio';
import type { AnyNode, Element as DomElement } from 'domhandler';

/**
 * k6/html on cheerio. k6's Selection (js/modules/k6/html/html.go) is jQuery-like over goquery: `each`
 * calls back with (index, Element), `map` with (index, Selection); `attr(name, default)`; `size()`.
 * cheerio is loaded lazily, only in VUs that parse HTML.
 */
let cheerioMod: { load(html: string): CheerioAPI } | undefined;
function cheerio(): { load(html: string): CheerioAPI } {
  cheerioMod ??= require('cheerio') as { load(html: string): CheerioAPI };
  return cheerioMod;
}

export class Element {
  constructor(
    private readonly $: CheerioAPI,
    readonly node: AnyNode,
  ) {}
  private sel(): Cheerio<AnyNode> {
    return this.$(this.node);
  }
  nodeName(): string {
    return ((this.node as DomElement).name ?? '#text').toLowerCase();
  }
  textContent(): string {
    return this.sel().text();
  }
  innerHTML(): string {
    return this.sel().html() ?? '';
  }
  id(): string {
    return this.sel().attr('id') ?? '';
  }
  className(): string {
    return this.sel().attr('class') ?? '';
  }
  classList(): string[] {
    return this.className().split(/\s+/).filter(Boolean);
  }
  getAttribute(name: string): string | undefined {
    return this.sel().attr(name);
  }
  hasAttribute(name: string): boolean {
    return this.sel().attr(name) !== undefined;
  }
  hasAttributes(): boolean {
    return Object.keys(this.attributes()).length > 0;
  }
  attributes(): Record<string, { name: string; value: string }> {
    const attrs = (this.node as DomElement).attribs ?? {};
    return Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, { name: k, value: v }]));
  }
  querySelector(selector: string): Element | undefined {
    const n = this.sel().find(selector).get(0);
    return n ? new Element(this.$, n) : undefined;
  }
  querySelectorAll(selector: string): Element[] {
    return this.sel()
      .find(selector)
      .toArray()
      .map((n) => new Element(this.$, n));
  }
  value(): string | undefined {
    const v = this.sel().val();
    return Array.isArray(v) ? v[0] : v;
  }
  toString(): string {
    return `[object html.Node]`;
  }
}

export class Selection {
  constructor(
    private readonly $: CheerioAPI,
    readonly s: Cheerio<AnyNode>,
  ) {}
  private wrap(s: Cheerio<AnyNode>): Selection {
    return new Selection(this.$, s);
  }
  get length(): number {
    return this.s.length;
  }
  size(): number {
    return this.s.length;
  }
  find(selector: string): Selection {
    return this.wrap(this.s.find(selector));
  }
  text(): string {
    return this.s.text();
  }
  html(): string | undefined {
    return this.s.length === 0 ? undefined : (this.s.html() ?? undefined);
  }
  attr(name: string, def?: string): string | undefined {
    return this.s.attr(name) ?? def;
  }
  val(): string | undefined {
    const v = this.s.val();
    return Array.isArray(v) ? v[0] : v;
  }
  data(key?: string): unknown {
    return key === undefined ? this.s.data() : this.s.data(key);
  }
  first(): Selection {
    return this.wrap(this.s.first());
  }
  last(): Selection {
    return this.wrap(this.s.last());
  }
  eq(i: number): Selection {
    return this.wrap(this.s.eq(i));
  }
  get(i: number): Element | undefined {
    const n = this.s.get(i);
    return n ? new Element(this.$, n) : undefined;
  }
  children(selector?: string): Selection {
    return this.wrap(selector ? this.s.children(selector) : this.s.children());
  }
  contents(): Selection {
    return this.wrap(this.s.contents());
  }
  parent(selector?: string): Selection {
    return this.wrap(selector ? this.s.parent(selector) : this.s.parent());
  }
  parents(selector?: string): Selection {
    return this.wrap(selector ? this.s.parents(selector) : this.s.parents());
  }
  closest(selector: string): Selection {
    return this.wrap(this.s.closest(selector));
  }
  next(selector?: string): Selection {
    return this.wrap(selector ? this.s.next(selector) : this.s.next());
  }
  prev(selector?: string): Selection {
    return this.wrap(selector ? this.s.prev(selector) : this.s.prev());
  }
  siblings(selector?: string): Selection {
    return this.wrap(selector ? this.s.siblings(selector) : this.s.siblings());
  }
  filter(selector: string): Selection {
    return this.wrap(this.s.filter(selector));
  }
  not(selector: string): Selection {
    return this.wrap(this.s.not(selector));
  }
  has(selector: string): Selection {
    return this.wrap(this.s.has(selector));
  }
  is(selector: string): boolean {
    return this.s.is(selector);
  }
  each(fn: (i: number, el: Element) => unknown): Selection {
    this.s.toArray().forEach((n, i) => fn(i, new Element(this.$, n)));
    return this;
  }
  map<T>(fn: (i: number, sel: Selection) => T): T[] {
    return this.s.toArray().map((n, i) => fn(i, this.wrap(this.$(n))));
  }
  toArray(): Selection[] {
    return this.s.toArray().map((n) => this.wrap(this.$(n)));
  }
  serialize(): string {
    return this.s.serialize();
  }
}

export function parseHTML(src: string): Selection {
  const $ = cheerio().load(String(src ?? ''));
  return new Selection($, $.root());
}

export default { parseHTML };
