import { z } from '#zod';
import { defineCriterion } from './registry-types.ts';
import { currentProfiles, pluginType, type LoadedProfile } from '../analysis/epp-profile-log.ts';
import { parseEppConfig, type EppConfigPlugins } from './epp-config.ts';
import { loadedProfilesOf, type Observations } from './observations.ts';
import { verdict, type Verdict } from './verdict.ts';

export interface EppProfileInput {
  /** Plugin types or names the EPP must run. */
  has?: string[];
  /** Plugin types or names it must not run. */
  lacks?: string[];
}

/**
 * Checks the plugins in two sources, each when observed: the rendered EndpointPickerConfig (plugins[] types
 * and names, and what each scheduling profile's pluginRefs resolve to) and the EPP's start log (the loaded
 * profile's Filters, Scorers and Picker). In the config, `has` needs the plugin declared and, when there are
 * scheduling profiles, used by one (profile handlers live outside profiles); `lacks` fails on any mention.
 * The start log names no profile handler, so `has: [*-profile-handler]` is checked in the config only.
 */
export function eppProfile(input: EppProfileInput, obs: Observations): Verdict {
  const name = 'eppProfile';
  const has = input.has ?? [];
  const lacks = input.lacks ?? [];
  const expected = { has, lacks };
  let config: EppConfigPlugins | undefined;
  let configError: string | undefined;
  if (obs.eppConfigYaml !== undefined) {
    try {
      config = parseEppConfig(obs.eppConfigYaml);
    } catch (err) {
      configError = (err as Error).message;
    }
  }
  const loaded = loadedProfilesOf(obs);
  const current = loaded && loaded.length > 0 ? currentProfiles(loaded) : undefined;
  if (obs.eppConfigYaml === undefined && !current) {
    return verdict(name, false, 'no EPP config and no loaded-profile line in the EPP log to check', {}, { expected, cause: 'no-data' });
  }
  const problems: string[] = [];
  const evidence: Record<string, unknown> = {};
  if (configError) problems.push(configError);
  const typeOf = new Map((config?.plugins ?? []).map((p) => [p.name, p.type]));
  if (config) {
    const declared = new Set(config.plugins.flatMap((p) => [p.type, p.name]));
    const hasProfiles = Object.keys(config.profiles).length > 0;
    const used = new Set([...Object.values(config.profiles).flat(), ...config.referenced]);
    const missing = has.filter((p) => !declared.has(p) || (hasProfiles && !used.has(p) && !isProfileHandler(typeOf.get(p) ?? p)));
    const present = lacks.filter((p) => declared.has(p) || used.has(p));
    if (missing.length) problems.push(`the rendered EPP config lacks ${missing.join(', ')}`);
    if (present.length) problems.push(`the rendered EPP config has ${present.join(', ')}`);
    if (config.unresolvedRefs.length)
      problems.push(`the rendered EPP config has pluginRefs to no plugin: ${config.unresolvedRefs.join(', ')}`);
    evidence.config = {
      plugins: config.plugins.map((p) => (p.name === p.type ? p.type : `${p.type}/${p.name}`)),
      profiles: config.profiles,
    };
  }
  if (current) {
    const logTypes = new Set(current.flatMap(typesOf));
    // the real start line ("parsed config") also names each plugin instance (name/type)
    const logNames = new Set(current.flatMap((p) => p.names ?? []));
    // A name from the config (by-kv-backend) is checked as its type, which is what the log shows.
    const asType = (p: string): string => pluginType(typeOf.get(p) ?? p);
    const inLog = (p: string): boolean => logTypes.has(asType(p)) || logNames.has(p);
    const missing = has.filter((p) => !isProfileHandler(asType(p)) && !inLog(p));
    const present = lacks.filter((p) => inLog(p));
    const which = `the EPP start log (profile ${current.map((p) => p.profile).join(', ')})`;
    if (missing.length) problems.push(`${which} lacks ${missing.join(', ')}`);
    if (present.length) problems.push(`${which} has ${present.join(', ')}`);
    evidence.startLog = current;
  }
  const sources = [config || configError ? 'rendered config' : undefined, current ? 'EPP start log' : undefined]
    .filter(Boolean)
    .join(' and ');
  const ok = problems.length === 0;
  const want = [has.length ? `has ${has.join(', ')}` : '', lacks.length ? `lacks ${lacks.join(', ')}` : ''].filter(Boolean).join('; ');
  const summary = ok ? `${sources}: ${want || 'no expectations'}` : problems.join('; ');
  return verdict(name, ok, summary, { sources, ...evidence }, { expected, actual: evidence });
}

function isProfileHandler(type: string): boolean {
  return type.endsWith('-profile-handler');
}

function typesOf(p: LoadedProfile): string[] {
  return [...p.filters, ...p.scorers, ...(p.picker ? [p.picker] : [])].map(pluginType);
}

export const eppProfileCriterion = defineCriterion({
  name: 'eppProfile',
  description: "The EPP's rendered config and start log have / lack these plugins.",
  schema: z.strictObject({
    has: z.array(z.string().min(1)).default([]).describe('Plugins the EPP config must contain (type or name).'),
    lacks: z.array(z.string().min(1)).default([]).describe('Plugins it must not contain.'),
  }),
  failureCause: 'config',
  evaluate: eppProfile,
});
