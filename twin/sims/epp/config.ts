/**
 * EndpointPickerConfig (inference.networking.x-k8s.io/v1alpha1) parsing and validation.
 * Pure: text in, a validated config out, or an EppConfigError with one clear message.
 */
import { parse as parseYaml } from 'yaml';

export const EPP_CONFIG_API_VERSION = 'inference.networking.x-k8s.io/v1alpha1';
export const EPP_CONFIG_KIND = 'EndpointPickerConfig';

export class EppConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EppConfigError';
  }
}

export interface PluginSpec {
  type: string;
  /** defaults to type */
  name: string;
  parameters: Record<string, unknown>;
}

export interface ProfilePluginRef {
  pluginRef: string;
  weight?: number;
}

export interface ProfileSpec {
  name: string;
  plugins: ProfilePluginRef[];
}

export interface EppConfig {
  plugins: PluginSpec[];
  schedulingProfiles: ProfileSpec[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseEppConfig(text: string): EppConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new EppConfigError(`failed to parse EndpointPickerConfig YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isRecord(doc)) throw new EppConfigError('EndpointPickerConfig must be a YAML mapping');
  if (doc.apiVersion !== undefined && doc.apiVersion !== EPP_CONFIG_API_VERSION) {
    throw new EppConfigError(`unsupported apiVersion "${String(doc.apiVersion)}", want ${EPP_CONFIG_API_VERSION}`);
  }
  if (doc.kind !== undefined && doc.kind !== EPP_CONFIG_KIND) {
    throw new EppConfigError(`unsupported kind "${String(doc.kind)}", want ${EPP_CONFIG_KIND}`);
  }
  const rawPlugins = doc.plugins ?? [];
  if (!Array.isArray(rawPlugins)) throw new EppConfigError('plugins must be a list');
  const plugins: PluginSpec[] = [];
  const names = new Set<string>();
  rawPlugins.forEach((p, i) => {
    if (!isRecord(p) || typeof p.type !== 'string' || p.type === '') {
      throw new EppConfigError(`plugins[${i}]: "type" is required`);
    }
    const name = typeof p.name === 'string' && p.name !== '' ? p.name : p.type;
    if (names.has(name)) throw new EppConfigError(`plugins[${i}]: duplicate plugin name "${name}"`);
    names.add(name);
    if (p.parameters !== undefined && p.parameters !== null && !isRecord(p.parameters)) {
      throw new EppConfigError(`plugins[${i}] (${name}): parameters must be a mapping`);
    }
    plugins.push({ type: p.type, name, parameters: isRecord(p.parameters) ? p.parameters : {} });
  });

  const rawProfiles = doc.schedulingProfiles ?? [];
  if (!Array.isArray(rawProfiles)) throw new EppConfigError('schedulingProfiles must be a list');
  const schedulingProfiles: ProfileSpec[] = rawProfiles.map((p, i) => {
    if (!isRecord(p) || typeof p.name !== 'string' || p.name === '') {
      throw new EppConfigError(`schedulingProfiles[${i}]: "name" is required`);
    }
    const refs = p.plugins ?? [];
    if (!Array.isArray(refs)) throw new EppConfigError(`schedulingProfiles[${i}] (${p.name}): plugins must be a list`);
    return {
      name: p.name,
      plugins: refs.map((r, j) => {
        if (!isRecord(r) || typeof r.pluginRef !== 'string') {
          throw new EppConfigError(`schedulingProfiles[${i}].plugins[${j}]: "pluginRef" is required`);
        }
        if (!names.has(r.pluginRef)) {
          throw new EppConfigError(`schedulingProfiles[${i}] (${p.name}): pluginRef "${r.pluginRef}" names no plugin`);
        }
        if (r.weight !== undefined && (typeof r.weight !== 'number' || !Number.isFinite(r.weight) || r.weight < 0)) {
          throw new EppConfigError(`schedulingProfiles[${i}].plugins[${j}]: weight must be a non-negative number`);
        }
        return r.weight === undefined ? { pluginRef: r.pluginRef } : { pluginRef: r.pluginRef, weight: r.weight };
      }),
    };
  });
  return { plugins, schedulingProfiles };
}
