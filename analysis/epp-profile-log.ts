import { parseJsonObject, splitPrefixes } from './log-line.ts';

/** The scheduling profile an EPP reports on start. filters/scorers/picker are plugin types. */
export interface LoadedProfile {
  profile: string;
  filters: string[];
  scorers: string[];
  picker?: string;
  /** From the real start line: plugin instance names (`by-kv-backend`), scorer weights by name, the profile handler type. */
  names?: string[];
  weights?: Record<string, number>;
  handler?: string;
}

/** Cheap pre-check before parsing; matches "Loaded scheduling profile", "loaded profile" and "parsed config". */
export function mentionsLoadedProfile(line: string): boolean {
  if (line.includes('parsed config') && line.includes('scheduler-config')) return true;
  return line.includes('oaded') && line.includes('rofile') && (line.includes('corers') || line.includes('ilters'));
}

/**
 * The real EPP's start line, GAIE v1.2.0 `cmd/epp/runner/runner.go:318`
 * `setupLog.Info("parsed config", "scheduler-config", r.schedulerConfig)`: the value is
 * `SchedulerConfig.String()` (pkg/epp/scheduling/scheduler_config.go)
 * `{ProfileHandler: <name/type>, Profiles: map[<profile>:{Filters: [<name/type>, ...], Scorers: [<name/type>: <weight>, ...], Picker: <name/type>} ...]}`
 * (`SchedulerProfile.String()`, pkg/epp/scheduling/framework/scheduler_profile.go; plugins written by
 * `TypedName.String()` = `Name + "/" + Type`, pkg/epp/plugins/typedname.go). One LoadedProfile per profile.
 */
export function parseSchedulerConfigValue(value: string): LoadedProfile[] {
  const handler = /ProfileHandler:\s*([^,}\s]+)/.exec(value)?.[1];
  const out: LoadedProfile[] = [];
  const profileRe = /(?:map\[|\s)([^\s:[\]{}]+):\{Filters:\s*\[([^\]]*)\],\s*Scorers:\s*\[([^\]]*)\],\s*Picker:\s*([^}\s]*)\}/g;
  for (const m of value.matchAll(profileRe)) {
    const filters = splitTyped(m[2] ?? '');
    const scorers = splitTyped(m[3] ?? '').map((s) => {
      const w = /^(.*):\s*(-?\d+(?:\.\d+)?)$/.exec(s);
      return w ? { typed: w[1] ?? '', weight: Number(w[2]) } : { typed: s, weight: undefined };
    });
    const picker = m[4] ? typedName(m[4]) : undefined;
    const weights: Record<string, number> = {};
    for (const s of scorers) if (s.weight !== undefined) weights[typedName(s.typed).name] = s.weight;
    out.push({
      profile: m[1] ?? 'default',
      filters: filters.map((f) => typedName(f).type),
      scorers: scorers.map((s) => typedName(s.typed).type),
      ...(picker ? { picker: picker.type } : {}),
      names: [...filters.map((f) => typedName(f).name), ...scorers.map((s) => typedName(s.typed).name), ...(picker ? [picker.name] : [])],
      weights,
      ...(handler ? { handler: typedName(handler).type } : {}),
    });
  }
  return out;
}

function splitTyped(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** `TypedName.String()` is `name/type`: `by-kv-backend/by-label-selector` → name by-kv-backend, type by-label-selector. */
export function typedName(s: string): { name: string; type: string } {
  const slash = s.lastIndexOf('/');
  return slash < 0 ? { name: s.trim(), type: s.trim() } : { name: s.slice(0, slash).trim(), type: s.slice(slash + 1).trim() };
}

/** Every profile of one real start line (zap JSON, console or klog), else undefined. */
export function parseParsedConfigLine(line: string): LoadedProfile[] | undefined {
  if (!(line.includes('parsed config') && line.includes('scheduler-config'))) return undefined;
  const { body } = splitPrefixes(line);
  const obj = parseJsonObject(body);
  let value: unknown = obj?.['scheduler-config'];
  if (typeof value !== 'string') {
    const m = /scheduler-config"?\s*[:=]\s*"((?:[^"\\]|\\.)*)"/.exec(body);
    value = m ? m[1] : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const profiles = parseSchedulerConfigValue(value);
  return profiles.length ? profiles : undefined;
}

/**
 * Parses a start line, as JSON (the twin's EPP:
 * `{"msg":"Loaded scheduling profile","profile":"default","Filters":[],"Scorers":["active-request-scorer"],"Picker":"max-score-picker"}`)
 * or as text (`Loaded profile default Filters: [] Scorers: [active-request-scorer] Picker: max-score-picker`).
 */
export function parseLoadedProfileLine(line: string): LoadedProfile | undefined {
  if (!mentionsLoadedProfile(line)) return undefined;
  const real = parseParsedConfigLine(line);
  if (real) return real.find((p) => p.profile === 'default') ?? real[0];
  const { body } = splitPrefixes(line);
  const obj = parseJsonObject(body);
  if (obj && typeof obj.msg === 'string' && /loaded/i.test(obj.msg) && /profile/i.test(obj.msg)) {
    const profile = field(obj, 'profile') ?? field(obj, 'profileName') ?? field(obj, 'name');
    const picker = field(obj, 'Picker') ?? field(obj, 'picker');
    return {
      profile: typeof profile === 'string' ? profile : 'default',
      filters: names(field(obj, 'Filters') ?? field(obj, 'filters')),
      scorers: names(field(obj, 'Scorers') ?? field(obj, 'scorers')),
      ...(picker !== undefined && names(picker)[0] !== undefined ? { picker: names(picker)[0] } : {}),
    };
  }
  const text = obj === undefined ? body : JSON.stringify(obj);
  const filters = /Filters:?\s*\[([^\]]*)\]/i.exec(text);
  const scorers = /Scorers:?\s*\[([^\]]*)\]/i.exec(text);
  if (!filters && !scorers) return undefined;
  const picker = /Picker:?\s*\[?([\w./-]+)/i.exec(text)?.[1];
  const profile = /profile[\s:="]+([\w.-]+)/i.exec(text.replace(/Loaded\s+(scheduling\s+)?profile/i, 'profile'))?.[1];
  return {
    profile: profile && !/^(filters|scorers)$/i.test(profile) ? profile : 'default',
    filters: names(filters?.[1] ?? ''),
    scorers: names(scorers?.[1] ?? ''),
    ...(picker ? { picker: pluginType(picker) } : {}),
  };
}

/** Every loaded-profile line, in log order (an EPP that restarted reports its profile again). */
export function parseLoadedProfiles(lines: Iterable<string>): LoadedProfile[] {
  const out: LoadedProfile[] = [];
  for (const line of lines) {
    const real = parseParsedConfigLine(line);
    if (real) {
      out.push(...real);
      continue;
    }
    const p = parseLoadedProfileLine(line);
    if (p) out.push(p);
  }
  return out;
}

/** The most recent report of each profile: what the EPP runs now. */
export function currentProfiles(profiles: readonly LoadedProfile[]): LoadedProfile[] {
  const byName = new Map<string, LoadedProfile>();
  for (const p of profiles) byName.set(p.profile, p);
  return [...byName.values()];
}

/** `max-score-picker/max-score-picker` (type/name) → `max-score-picker`. */
export function pluginType(name: string): string {
  const slash = name.indexOf('/');
  return (slash < 0 ? name : name.slice(0, slash)).trim();
}

function field(obj: Record<string, unknown>, key: string): unknown {
  return obj[key];
}

function names(value: unknown): string[] {
  if (Array.isArray(value)) {
    return value
      .map((v) =>
        typeof v === 'string'
          ? v
          : v && typeof v === 'object'
            ? ((v as Record<string, unknown>).type ?? (v as Record<string, unknown>).name)
            : undefined,
      )
      .filter((v): v is string => typeof v === 'string' && v.trim() !== '')
      .map(pluginType);
  }
  if (typeof value === 'string') {
    return value
      .split(/[\s,]+/)
      .map((s) => s.replace(/^["']|["']$/g, ''))
      .filter((s) => s !== '')
      .map(pluginType);
  }
  return [];
}
