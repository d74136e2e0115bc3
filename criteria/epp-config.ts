import { parse } from '#yaml';
import { isRecord } from './verdict.ts';

/** The plugins of an EndpointPickerConfig (`inference.networking.x-k8s.io/v1alpha1`), resolved. */
export interface EppConfigPlugins {
  /** plugins[]: type and name (name defaults to the type). */
  plugins: { type: string; name: string }[];
  /** Per scheduling profile: the types its pluginRefs resolve to, in order. */
  profiles: Record<string, string[]>;
  /** Plugin names some profile references. */
  referenced: string[];
  /** pluginRefs that name no plugin. */
  unresolvedRefs: string[];
}

/** Parses `epp-config.yaml`; throws a one-line Error when it is not an EndpointPickerConfig. */
export function parseEppConfig(text: string): EppConfigPlugins {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new Error(`epp-config.yaml does not parse: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isRecord(doc)) throw new Error('epp-config.yaml is not a YAML mapping');
  if (doc.kind !== undefined && doc.kind !== 'EndpointPickerConfig')
    throw new Error(`epp-config.yaml has kind ${String(doc.kind)}, not EndpointPickerConfig`);
  const plugins = (Array.isArray(doc.plugins) ? doc.plugins : [])
    .filter(isRecord)
    .filter((p) => typeof p.type === 'string')
    .map((p) => ({ type: p.type as string, name: typeof p.name === 'string' && p.name !== '' ? p.name : (p.type as string) }));
  const byName = new Map(plugins.map((p) => [p.name, p.type]));
  const profiles: Record<string, string[]> = {};
  const unresolvedRefs: string[] = [];
  const referenced = new Set<string>();
  for (const profile of (Array.isArray(doc.schedulingProfiles) ? doc.schedulingProfiles : []).filter(isRecord)) {
    const name = typeof profile.name === 'string' ? profile.name : 'default';
    const types: string[] = [];
    for (const ref of (Array.isArray(profile.plugins) ? profile.plugins : []).filter(isRecord)) {
      const pluginRef = ref.pluginRef;
      if (typeof pluginRef !== 'string') continue;
      const type = byName.get(pluginRef);
      if (type === undefined) unresolvedRefs.push(`${name}:${pluginRef}`);
      else {
        types.push(type);
        referenced.add(pluginRef);
      }
    }
    profiles[name] = types;
  }
  return { plugins, profiles, referenced: [...referenced], unresolvedRefs };
}
