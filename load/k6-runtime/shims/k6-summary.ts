import { renderTextSummary, type SummaryData, type TextSummaryOptions } from '../text-summary.ts';

/**
 * Stand-in for the k6-summary jslib (`https://jslib.k6.io/k6-summary/0.0.x/index.js`, grafana/k6-jslib-summary;
 * the same renderer as k6's internal/js/summary-legacy.js): `textSummary(data, { indent, enableColors })`
 * renders the `handleSummary` data as k6's classic summary. `jUnit()` is refused by the static scan.
 */
export function textSummary(data: SummaryData, options?: TextSummaryOptions): string {
  return renderTextSummary(data, { enableColors: true, ...options });
}

export default { textSummary };
