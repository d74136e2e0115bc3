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

/*
 * The stock EPP's lines, as GAIE v1.2.0 writes them (llm-d-inference-scheduler v0.4.0 vendors GAIE v1.2.0,
 * go.mod, and runs its runner, cmd/epp/main.go, so its lines are the same). The logger is controller-runtime's
 * zap (cmd/epp/runner/runner.go `initLogging`: `zap.New(zap.UseFlagOptions(opts), zap.RawZapOpts(AddCaller()))`,
 * Development: true) with `--zap-encoder json` (config/charts/inferencepool/templates/epp-deployment.yaml):
 * zap's production JSON keys `level`, `ts` (controller-runtime's default RFC 3339 time encoder), `logger`,
 * `caller` (short: `pkg/file.go:line`), `msg`, then the logger's WithValues pairs, then the call's pairs
 * (zap does not remove repeated keys). A logr V(n) line has zap level -n, which the lowercase level encoder
 * writes `Level(-n)` for n ≥ 2 (`debug` for n = 1).
 */

/** How the EPP writes its logs: the seed's instrumented image, or a stock one at a verbosity. */
export interface LogMode {
  /** The image writes "Scoring decision" / "Scoring breakdown" lines (its name contains `instrumented`). */
  instrumented: boolean;
  /** `-v` (GAIE default logging.DEFAULT = 2; the chart's default values set 1). */
  verbosity: number;
}

export const GAIE_VERBOSE = 3;

/** An image whose name contains `instrumented` is the seed's EPP build; any other is stock. */
export function logModeFor(image: string | undefined, verbosity: number): LogMode {
  // no image (the program run directly, outside the kubelet): the twin's historic behaviour, the seed's build
  return { instrumented: image === undefined || image.includes('instrumented'), verbosity };
}

/** zapcore.RFC3339TimeEncoder: `2006-01-02T15:04:05Z07:00`, whole seconds, UTC in the container. */
export function rfc3339(ms: number = Date.now()): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function levelOf(v: number): string {
  return v <= 0 ? 'info' : v === 1 ? 'debug' : `Level(-${v})`;
}

/** A zap JSON line with pairs in order, repeated keys kept (JSON.stringify cannot write those). */
export function zapLine(
  head: { level: string; ts: string; logger?: string; caller: string; msg: string },
  pairs: [string, unknown][],
): string {
  const parts = [`"level":${JSON.stringify(head.level)}`, `"ts":${JSON.stringify(head.ts)}`];
  if (head.logger) parts.push(`"logger":${JSON.stringify(head.logger)}`);
  parts.push(`"caller":${JSON.stringify(head.caller)}`, `"msg":${JSON.stringify(head.msg)}`);
  for (const [k, v] of pairs) parts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
  return `{${parts.join(',')}}`;
}

/** `TypedName.String()` (GAIE v1.2.0 pkg/epp/plugins/typedname.go): `name/type`. */
function typed(p: { type: string; name: string }): string {
  return `${p.name}/${p.type}`;
}

/**
 * GAIE v1.2.0 cmd/epp/runner/runner.go:318 `setupLog.Info("parsed config", "scheduler-config", r.schedulerConfig)`
 * (setupLog = ctrl.Log.WithName("setup")); the value is SchedulerConfig.String()
 * (pkg/epp/scheduling/scheduler_config.go) with SchedulerProfile.String() per profile
 * (pkg/epp/scheduling/framework/scheduler_profile.go): scorers `name/type: weight` (`%d`).
 */
export function parsedConfigLine(s: Scheduler, ms: number = Date.now()): string {
  const one = (p: Scheduler['profile']) =>
    `{Filters: [${p.filters.map(typed).join(', ')}], Scorers: [${p.scorers.map((w) => `${typed(w.scorer)}: ${Math.trunc(w.weight)}`).join(', ')}], Picker: ${typed(p.picker)}}`;
  // fmt prints a Go map with its keys sorted
  const profiles = [...(s.profiles?.values() ?? [s.profile])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const value = `{ProfileHandler: ${s.profileHandler}/${s.profileHandler}, Profiles: map[${profiles.map((p) => `${p.name}:${one(p)}`).join(' ')}]}`;
  return zapLine({ level: 'info', ts: rfc3339(ms), logger: 'setup', caller: 'runner/runner.go:318', msg: 'parsed config' }, [
    ['scheduler-config', value],
  ]);
}

/** The pairs GAIE's request logger carries (handlers/server.go:197 WithValues x-request-id; director.go:157 WithValues). */
function requestPairs(req: PickRequest): [string, unknown][] {
  const objectiveKey = req.headers['x-gateway-inference-objective'] ?? '';
  return [
    ['x-request-id', req.requestId],
    ['objectiveKey', objectiveKey],
    ['incomingModelName', req.model],
    ['targetModelName', req.model],
    ['priority', 0],
  ];
}

/**
 * GAIE v1.2.0 pkg/epp/requestcontrol/director.go:266 (prepareRequest), at V(3):
 * `"Request handled"` with objectiveKey, incomingModelName, targetModel and endpoint = the primary profile's
 * target pods as `net.JoinHostPort(ip, port)`, comma-joined (IPv6 addresses in brackets).
 */
export function requestHandledLine(req: PickRequest, hostPorts: readonly string[], ms: number = Date.now()): string {
  const objectiveKey = req.headers['x-gateway-inference-objective'] ?? '';
  return zapLine({ level: levelOf(GAIE_VERBOSE), ts: rfc3339(ms), caller: 'requestcontrol/director.go:266', msg: 'Request handled' }, [
    ...requestPairs(req),
    ['objectiveKey', objectiveKey],
    ['incomingModelName', req.model],
    ['targetModel', req.model],
    ['endpoint', hostPorts.join(',')],
  ]);
}

/** `net.JoinHostPort`: IPv6 hosts in brackets. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * GAIE v1.2.0 pkg/epp/handlers/server.go:225 `logger.V(logutil.DEFAULT).Error(err, "Error handling request")`
 * (logr writes Error lines at any verbosity; zap's development mode adds a stacktrace) with the director's
 * error `inference gateway: InferencePoolResourceExhausted - failed to find target pod: <scheduler error>`
 * (director.go:185, pkg/epp/util/error/error.go `Error()`), the scheduler error from
 * single_profile_handler.go:93 `failed to run scheduler profile '<name>'`.
 */
export function errorHandlingRequestLine(req: PickRequest, error: string, ms: number = Date.now()): string {
  return zapLine({ level: 'error', ts: rfc3339(ms), caller: 'handlers/server.go:225', msg: 'Error handling request' }, [
    ['x-request-id', req.requestId],
    ['error', error],
    [
      'stacktrace',
      'sigs.k8s.io/gateway-api-inference-extension/pkg/epp/handlers.(*StreamingServer).Process\n\t/workspace/pkg/epp/handlers/server.go:225',
    ],
  ]);
}

/**
 * GAIE v1.2.0 pkg/epp/scheduling/scheduler.go:73, at V(3): `"failed to run scheduler profile"` with the
 * profile and the profile's error (scheduler_profile.go: `inference gateway: Internal - no pods available for the given request`).
 */
export function schedulerProfileFailedLine(s: Scheduler, req: PickRequest, ms: number = Date.now()): string {
  return zapLine(
    { level: levelOf(GAIE_VERBOSE), ts: rfc3339(ms), caller: 'scheduling/scheduler.go:73', msg: 'failed to run scheduler profile' },
    [...requestPairs(req), ['profile', s.profile.name], ['error', 'inference gateway: Internal - no pods available for the given request']],
  );
}

/** The lines one pick writes in a mode (instrumented lines first, as the instrumented build logs them before returning). */
export function pickLines(mode: LogMode, s: Scheduler, req: PickRequest, r: Ok, ms: number = Date.now(), portOverride?: number): string[] {
  const out: string[] = [];
  if (mode.instrumented) {
    const ts = epochSeconds(ms);
    out.push(decisionLine(s, req, r, ts), breakdownLine(s, req, r, ts));
  }
  if (mode.verbosity >= GAIE_VERBOSE)
    out.push(
      requestHandledLine(
        req,
        r.selected.map((e) => joinHostPort(e.address, portOverride ?? e.port)),
        ms,
      ),
    );
  return out;
}

/**
 * The lines a failed pick writes in a mode; `error` is the director's error as the client gets it
 * (`inference gateway: <code> - <message>`, service.ts eppError).
 */
export function failedPickLines(mode: LogMode, s: Scheduler, req: PickRequest, error: string, ms: number = Date.now()): string[] {
  if (mode.instrumented) return [profileFailedLine(s, req, epochSeconds(ms))];
  const out: string[] = [];
  if (mode.verbosity >= GAIE_VERBOSE) out.push(schedulerProfileFailedLine(s, req, ms));
  out.push(errorHandlingRequestLine(req, error, ms));
  return out;
}
