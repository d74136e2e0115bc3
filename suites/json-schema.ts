/** The suites' JSON Schema (draft-07, what the YAML language server reads), generated from the zod schema. */
import { z } from '#zod';
import { SuiteSchema } from './schema.ts';

export const SCHEMA_FILE_NAME = 'suite.schema.json';

/** The JSON Schema of a suite file as written (input side: durations as text, defaults optional). */
export function suiteJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(SuiteSchema, { target: 'draft-07', io: 'input' }) as Record<string, unknown>;
  return nameDefinitions(schema);
}

/** The schema as the text of `suites/suite.schema.json` (stable, ends with a newline). */
export function suiteJsonSchemaText(): string {
  return `${JSON.stringify(suiteJsonSchema(), null, 2)}\n`;
}

/** zod names shared definitions `__schema0`; the only shared one here is the recursive JSON value. */
function nameDefinitions(schema: Record<string, unknown>): Record<string, unknown> {
  const defs = schema.definitions as Record<string, unknown> | undefined;
  if (!defs) return schema;
  let text = JSON.stringify(schema);
  for (const [name, def] of Object.entries(defs)) {
    const json = JSON.stringify(def);
    if (/^__schema\d+$/.test(name) && json.includes('"type":"null"') && json.includes('"type":"array"')) {
      text = text.split(`"#/definitions/${name}"`).join('"#/definitions/JsonValue"').split(`"${name}":`).join('"JsonValue":');
    }
  }
  return JSON.parse(text) as Record<string, unknown>;
}
