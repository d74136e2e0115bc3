/**
 * The EPP's zap-style JSON log lines. Pure formatters (object in, one line out) so their shapes are
 * unit-tested; the seed's `rg 'Scoring decision'` pipeline and the harness's analyzer parse them.
 */
import type { ScheduleResult, Scheduler } from './scheduler.ts';
import type { PickRequest } from './types.ts';

export type Level = 'debug' | 'info' | 'error';

export const RESOURCE_EXHAUSTED_ERROR =
  'InferencePoolResourceExhausted - failed to find target pod: no pods available for the given request';

export function line(level: Level, ts: number, msg: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ level, ts, msg, ...fields });
}

export function epochSeconds(ms: number = Date.now()): number {
  return ms / 1000;
}

/** Filters / Scorers / Picker are plugin types (so a check for "by-label-selector" works whatever the name). */
export function profileLoadedLine(s: Scheduler, ts: number): string {
  const p = s.profile;
  return JSON.stringify({
    level: 'info',
    ts,
    logger: 'scheduler',
    msg: 'Loaded scheduling profile',
    profile: p.name,
    Filters: p.filters.map((f) => f.type),
    Scorers: p.scorers.map((w) => w.scorer.type),
    Picker: p.picker.type,
  });
}

type Ok = Extract<ScheduleResult, { ok: true }>;

export function decisionLine(s: Scheduler, req: PickRequest, r: Ok, ts: number): string {
  const scores = new Array<string>(r.candidates.length);
  for (let i = 0; i < r.candidates.length; i++) scores[i] = `${r.candidates[i]!.logName}=${r.totals[i]!.toFixed(3)}`;
  return JSON.stringify({
    level: 'info',
    ts,
    msg: 'Scoring decision',
    request_id: req.requestId,
    model: req.model,
    prompt_len: req.promptLength,
    picker: `${s.profile.picker.type}/${s.profile.picker.name}`,
    selected: r.selected.map((e) => e.logName),
    scores,
  });
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Per endpoint: total and, per scorer (by name), raw score, weight and weighted score. */
export function breakdownLine(s: Scheduler, req: PickRequest, r: Ok, ts: number): string {
  const endpoints = r.candidates.map((e, i) => {
    const scorers: Record<string, { raw: number; weight: number; weighted: number }> = {};
    s.profile.scorers.forEach((w, k) => {
      const raw = r.raw[k]![i]!;
      scorers[w.scorer.name] = { raw: round(raw), weight: w.weight, weighted: round(raw * w.weight) };
    });
    return { endpoint: e.logName, total: round(r.totals[i]!), scorers };
  });
  return JSON.stringify({
    level: 'info',
    ts,
    msg: 'Scoring breakdown',
    request_id: req.requestId,
    model: req.model,
    prompt_len: req.promptLength,
    profile: s.profile.name,
    endpoints,
  });
}

export function profileFailedLine(s: Scheduler, req: PickRequest, ts: number): string {
  return JSON.stringify({
    level: 'error',
    ts,
    logger: 'scheduler',
    msg: 'failed to run scheduler profile',
    profile: s.profile.name,
    error: RESOURCE_EXHAUSTED_ERROR,
    request_id: req.requestId,
  });
}

export function configErrorLine(message: string, ts: number): string {
  return JSON.stringify({ level: 'error', ts, logger: 'setup', msg: 'failed to load EndpointPickerConfig', error: message });
}
