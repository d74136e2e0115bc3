import { tryParseGoDuration } from '../../../k8s-rules/duration.ts';
/**
 * Go-style JSON decoding of an already-parsed YAML/JSON value into a described Go type, with Go's error texts.
 * The real EPP decodes its config with sigs.k8s.io/json (strict: unknown fields are errors, with their
 * `a.b[0].c` path) and plugin parameters with encoding/json (unknown fields ignored). A type mismatch gives
 * `json: cannot unmarshal <value> into Go struct field <Struct>.<json.path> of type <type>` (the first one wins,
 * decoding goes on, as Go's decodeState.saveError). Pure.
 *
 * Sources: golang encoding/json decode.go (UnmarshalTypeError, literalStore), sigs.k8s.io/json (strict field
 * errors), k8s.io/apimachinery runtime/serializer/json (`strict decoding error: ` + joined field errors).
 */

export type GoType =
  | { k: 'int' }
  | { k: 'float' }
  | { k: 'string'; goType?: string }
  | { k: 'bool' }
  /** json.RawMessage: any JSON value */
  | { k: 'raw' }
  | { k: 'slice'; goType: string; elem: GoType }
  | { k: 'map'; goType: string; elem: GoType }
  | { k: 'struct'; goType: string; fields: Record<string, GoType> };

export const INT: GoType = { k: 'int' };
export const FLOAT: GoType = { k: 'float' };
export const STRING: GoType = { k: 'string' };
export const BOOL: GoType = { k: 'bool' };
export const RAW: GoType = { k: 'raw' };
export const stringSlice = (goType = '[]string'): GoType => ({ k: 'slice', goType, elem: STRING });
export const struct = (goType: string, fields: Record<string, GoType>): GoType => ({ k: 'struct', goType, fields });

export interface DecodeOutcome {
  /** the first type error (Go's saved error), as Go prints it */
  typeError?: string;
  /** strict mode: unknown fields with their paths, in document order */
  unknownFields: string[];
}

function jsonKind(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

function typeName(t: GoType): string {
  switch (t.k) {
    case 'int':
      return 'int';
    case 'float':
      return 'float64';
    case 'string':
      return t.goType ?? 'string';
    case 'bool':
      return 'bool';
    case 'raw':
      return 'json.RawMessage';
    default:
      return t.goType;
  }
}

/** The short Go struct name ("v1alpha1.PluginSpec" → "PluginSpec"). */
function shortName(goType: string): string {
  const dot = goType.lastIndexOf('.');
  return dot >= 0 ? goType.slice(dot + 1) : goType;
}

export function decodeGo(value: unknown, type: GoType, strict: boolean): DecodeOutcome {
  const out: DecodeOutcome = { unknownFields: [] };
  const save = (msg: string) => {
    out.typeError ??= msg;
  };
  /** struct: innermost Go struct name; fields: json field names from the root (Go's errorContext.FieldStack) */
  const walk = (v: unknown, t: GoType, structName: string | undefined, fields: string[], path: string): void => {
    if (v === null || v === undefined || t.k === 'raw') return;
    const fail = (valueText: string) => {
      const where = structName !== undefined && fields.length > 0 ? `Go struct field ${structName}.${fields.join('.')}` : 'Go value';
      save(`json: cannot unmarshal ${valueText} into ${where} of type ${typeName(t)}`);
    };
    switch (t.k) {
      case 'int':
        if (typeof v !== 'number') return fail(jsonKind(v));
        if (!Number.isInteger(v)) return fail(`number ${String(v)}`);
        return;
      case 'float':
        if (typeof v !== 'number') return fail(jsonKind(v));
        return;
      case 'string':
        if (typeof v !== 'string') return fail(jsonKind(v));
        return;
      case 'bool':
        if (typeof v !== 'boolean') return fail(jsonKind(v));
        return;
      case 'slice':
        if (!Array.isArray(v)) return fail(jsonKind(v));
        v.forEach((x, i) => walk(x, t.elem, structName, fields, `${path}[${i}]`));
        return;
      case 'map':
        if (typeof v !== 'object' || Array.isArray(v)) return fail(jsonKind(v));
        for (const [key, x] of Object.entries(v as Record<string, unknown>)) walk(x, t.elem, structName, fields, `${path}[${key}]`);
        return;
      case 'struct': {
        if (typeof v !== 'object' || Array.isArray(v)) return fail(jsonKind(v));
        const name = shortName(t.goType);
        for (const [key, x] of Object.entries(v as Record<string, unknown>)) {
          const ft = t.fields[key];
          const p = path ? `${path}.${key}` : key;
          if (ft === undefined) {
            if (strict) out.unknownFields.push(`unknown field "${p}"`);
            continue;
          }
          walk(x, ft, name, [...fields, key], p);
        }
        return;
      }
    }
  };
  walk(value, type, undefined, [], '');
  return out;
}

/** Go's time.ParseDuration (units ns us µs ms s m h, signed, fractional); NaN when invalid. Milliseconds. */
export function goParseDurationMs(s: string): number {
  return tryParseGoDuration(s) ?? NaN;
}
