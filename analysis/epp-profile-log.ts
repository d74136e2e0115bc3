import { parseJsonObject, splitPrefixes } from './log-line.ts';

/** The scheduling profile an EPP reports on start. Plugin names are types (`type/name` reduced to `type`). */
export interface LoadedProfile {
  profile: string;
  filters: string[];
  scorers: string[];
  picker?: string;
}

/** Cheap pre-check before parsing; matches "Loaded scheduling profile" and "loaded profile". */
export function mentionsLoadedProfile(line: string): boolean {
  return line.includes('oaded') && line.includes('rofile') && (line.includes('corers') || line.includes('ilters'));
}

/**
 * Parses a start line, as JSON (the twin's EPP:
 * `{"msg":"Loaded scheduling profile","profile":"default","Filters":[],"Scorers":["active-request-scorer"],"Picker":"max-score-picker"}`)
 * or as text (`Loaded profile default Filters: [] Scorers: [active-request-scorer] Picker: max-score-picker`).
 */
export function parseLoadedProfileLine(line: string): LoadedProfile | undefined {
  if (!mentionsLoadedProfile(line)) return undefined;
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
      .map((v) => (typeof v === 'string' ? v : v && typeof v === 'object' ? ((v as Record<string, unknown>).type ?? (v as Record<string, unknown>).name) : undefined))
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
