import type { TestInfo } from '@playwright/test';
import { redact, redactObject } from '../core/redact.ts';

/**
 * Attachments for the Playwright/Allure report. Everything passes through redaction: no token or
 * Authorization header ever reaches a report.
 */
export async function attachJson(testInfo: TestInfo, name: string, value: unknown): Promise<void> {
  await testInfo.attach(name, { body: JSON.stringify(redactObject(value), null, 2), contentType: 'application/json' });
}

export async function attachText(testInfo: TestInfo, name: string, text: string): Promise<void> {
  await testInfo.attach(name, { body: redact(text), contentType: 'text/plain' });
}

export async function attachYaml(testInfo: TestInfo, name: string, text: string): Promise<void> {
  await testInfo.attach(name, { body: redact(text), contentType: 'text/yaml' });
}

export async function attachSvg(testInfo: TestInfo, name: string, svg: string): Promise<void> {
  await testInfo.attach(name, { body: svg, contentType: 'image/svg+xml' });
}

/** A fixed-width table as text, the way a person reads it in the report. */
export function textTable(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => (c ?? '').padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
