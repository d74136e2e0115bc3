/**
 * `pd-harness epp-config check`: load an EndpointPickerConfig as the twin's EPP does at start (both loader
 * phases: decode, feature gates, plugins, profiles) without running anything. Pure.
 */
import { parseEppConfig } from './config.ts';
import { buildScheduler } from './scheduler.ts';
import type { LoadWarning } from './plugins.ts';

export type CheckResult = { ok: true; warnings: LoadWarning[] } | { ok: false; error: string };

export function checkEppConfig(text: string): CheckResult {
  try {
    const s = buildScheduler(parseEppConfig(text));
    return { ok: true, warnings: s.warnings.filter((w) => w.level === 'error') };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
