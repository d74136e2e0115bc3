/**
 * EndpointPickerConfig (inference.networking.x-k8s.io/v1alpha1) loading, phase one, as the real loader:
 * gateway-api-inference-extension v1.2.0 pkg/epp/config/loader/configloader.go (LoadConfigPhaseOne: strict
 * decoding through apimachinery's UniversalDecoder with serializer.EnableStrict, then validateFeatureGates,
 * then setDefaultsPhaseOne) and apix/config/v1alpha1/endpointpickerconfig_types.go (the Go types: weights are
 * `*int`). Errors carry the runner's wrapping (cmd/epp/runner/runner.go parseConfigurationPhaseOne:
 * `failed to parse config - ...`). Phase two (plugins, profiles) is scheduler.ts. Pure.
 */
import { parse as parseYaml, parseDocument } from '#yaml';
import { decodeGo, goParseDurationMs, INT, FLOAT, RAW, STRING, struct, type GoType } from './gojson.ts';

export const EPP_CONFIG_API_VERSION = 'inference.networking.x-k8s.io/v1alpha1';
export const EPP_CONFIG_GROUP = 'inference.networking.x-k8s.io';
export const EPP_CONFIG_KIND = 'EndpointPickerConfig';

/** Feature gates the v1.2.0 runner registers (runner.go: datalayer.FeatureGate, flowcontrol.FeatureGate). */
export const REGISTERED_FEATURE_GATES: readonly string[] = ['dataLayer', 'flowControl'];

export class EppConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EppConfigError';
  }
}

export interface PluginSpec {
  type: string;
  /** defaults to type (setDefaultsPhaseOne) */
  name: string;
  /** the raw parameters (json.RawMessage); undefined when absent or null */
  parameters: unknown;
}

export interface ProfilePluginRef {
  pluginRef: string;
  weight?: number;
}

export interface ProfileSpec {
  name: string;
  plugins: ProfilePluginRef[];
}

export interface SaturationDetectorSpec {
  queueDepthThreshold: number;
  kvCacheUtilThreshold: number;
  metricsStalenessThresholdMs: number;
}

export interface EppConfig {
  plugins: PluginSpec[];
  schedulingProfiles: ProfileSpec[];
  featureGates: string[];
  saturationDetector: SaturationDetectorSpec;
}

/** saturationdetector defaults (pkg/epp/saturationdetector/config.go v1.2.0). */
export const SATURATION_DEFAULTS: SaturationDetectorSpec = {
  queueDepthThreshold: 5,
  kvCacheUtilThreshold: 0.8,
  metricsStalenessThresholdMs: 200,
};

const CONFIG_TYPE: GoType = struct('v1alpha1.EndpointPickerConfig', {
  apiVersion: STRING,
  kind: STRING,
  plugins: {
    k: 'slice',
    goType: '[]v1alpha1.PluginSpec',
    elem: struct('v1alpha1.PluginSpec', { name: STRING, type: STRING, parameters: RAW }),
  },
  schedulingProfiles: {
    k: 'slice',
    goType: '[]v1alpha1.SchedulingProfile',
    elem: struct('v1alpha1.SchedulingProfile', {
      name: STRING,
      plugins: {
        k: 'slice',
        goType: '[]v1alpha1.SchedulingPlugin',
        elem: struct('v1alpha1.SchedulingPlugin', { pluginRef: STRING, weight: INT }),
      },
    }),
  },
  featureGates: { k: 'slice', goType: 'v1alpha1.FeatureGates', elem: STRING },
  saturationDetector: struct('v1alpha1.SaturationDetector', {
    queueDepthThreshold: INT,
    kvCacheUtilThreshold: FLOAT,
    metricsStalenessThreshold: RAW, // metav1.Duration, checked below (its own UnmarshalJSON)
  }),
});

const PHASE_ONE = 'failed to parse config - ';
const INVALID = `${PHASE_ONE}the configuration is invalid - `;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** YAML → a JS value as sigs.k8s.io/yaml's YAMLToJSONStrict would see it (duplicate keys are errors). */
function readYaml(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const dup = doc.errors.find((e) => e.code === 'DUPLICATE_KEY');
  if (dup) {
    const line = text.slice(0, dup.pos[0]).split('\n').length;
    const key = /^\s*(?:"([^"]*)"|'([^']*)'|([^:\n]*?))\s*:/.exec(text.slice(dup.pos[0]));
    // the real text has a line break after "unmarshal errors:"; one line here
    throw new EppConfigError(
      `${INVALID}error converting YAML to JSON: yaml: unmarshal errors: line ${line}: key ${JSON.stringify(key?.[1] ?? key?.[2] ?? key?.[3] ?? '')} already set in map`,
    );
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = text.slice(0, e.pos[0]).split('\n').length;
    throw new EppConfigError(`${INVALID}error converting YAML to JSON: yaml: line ${line}: ${e.message.split('\n')[0]}`);
  }
  return parseYaml(text);
}

/**
 * LoadConfigPhaseOne: strict decode, feature gates, phase-one defaults. Throws EppConfigError with the real
 * message (`failed to parse config - the configuration is invalid - strict decoding error: unknown field "x"`).
 */
export function parseEppConfig(text: string): EppConfig {
  const doc = readYaml(text);
  if (doc === null || doc === undefined) {
    throw new EppConfigError(`${INVALID}Object 'Kind' is missing in '${text.trim() || 'null'}'`);
  }
  if (!isRecord(doc)) {
    throw new EppConfigError(
      `${INVALID}couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(doc) ? 'array' : typeof doc === 'number' ? 'number' : typeof doc === 'boolean' ? 'bool' : 'string'} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`,
    );
  }
  // apimachinery: the group/version/kind in the document must be the registered one (missing parts default to it)
  const apiVersion = typeof doc.apiVersion === 'string' ? doc.apiVersion : '';
  const kind = typeof doc.kind === 'string' ? doc.kind : '';
  if ((apiVersion !== '' && apiVersion !== EPP_CONFIG_API_VERSION) || (kind !== '' && kind !== EPP_CONFIG_KIND)) {
    const version = apiVersion === '' ? EPP_CONFIG_API_VERSION : apiVersion;
    // the real text goes on with ` in scheme "<file:line of runtime.NewScheme()>"`, not reproduced
    throw new EppConfigError(`${INVALID}no kind "${kind || EPP_CONFIG_KIND}" is registered for version "${version}"`);
  }
  const decoded = decodeGo(doc, CONFIG_TYPE, true);
  if (decoded.typeError) throw new EppConfigError(`${INVALID}${decoded.typeError}`);
  let staleness = SATURATION_DEFAULTS.metricsStalenessThresholdMs;
  const sd = isRecord(doc.saturationDetector) ? doc.saturationDetector : {};
  if (sd.metricsStalenessThreshold !== undefined && sd.metricsStalenessThreshold !== null) {
    const v = sd.metricsStalenessThreshold;
    if (typeof v !== 'string')
      throw new EppConfigError(
        `${INVALID}json: cannot unmarshal ${typeof v === 'number' ? 'number' : 'object'} into Go value of type string`,
      );
    const ms = goParseDurationMs(v);
    if (Number.isNaN(ms)) throw new EppConfigError(`${INVALID}time: invalid duration ${JSON.stringify(v)}`);
    if (ms > 0) staleness = ms;
  }
  if (decoded.unknownFields.length > 0) {
    throw new EppConfigError(`${INVALID}strict decoding error: ${decoded.unknownFields.join(', ')}`);
  }

  const featureGates = Array.isArray(doc.featureGates)
    ? (doc.featureGates as unknown[]).filter((g): g is string => typeof g === 'string')
    : [];
  for (const gate of featureGates) {
    if (!REGISTERED_FEATURE_GATES.includes(gate)) {
      throw new EppConfigError(`${PHASE_ONE}failed to validate feature gates - ${gate} is an unregistered Feature Gate`);
    }
  }

  const plugins: PluginSpec[] = (Array.isArray(doc.plugins) ? doc.plugins : []).map((p) => {
    const r = isRecord(p) ? p : {};
    const type = typeof r.type === 'string' ? r.type : '';
    const name = typeof r.name === 'string' && r.name !== '' ? r.name : type;
    return { type, name, parameters: r.parameters ?? undefined };
  });
  const schedulingProfiles: ProfileSpec[] = (Array.isArray(doc.schedulingProfiles) ? doc.schedulingProfiles : []).map((p) => {
    const r = isRecord(p) ? p : {};
    return {
      name: typeof r.name === 'string' ? r.name : '',
      plugins: (Array.isArray(r.plugins) ? r.plugins : []).map((x) => {
        const ref = isRecord(x) ? x : {};
        const pluginRef = typeof ref.pluginRef === 'string' ? ref.pluginRef : '';
        return typeof ref.weight === 'number' ? { pluginRef, weight: ref.weight } : { pluginRef };
      }),
    };
  });
  const qdt = typeof sd.queueDepthThreshold === 'number' ? sd.queueDepthThreshold : 0;
  const kvt = typeof sd.kvCacheUtilThreshold === 'number' ? sd.kvCacheUtilThreshold : 0;
  return {
    plugins,
    schedulingProfiles,
    featureGates,
    saturationDetector: {
      queueDepthThreshold: qdt > 0 ? qdt : SATURATION_DEFAULTS.queueDepthThreshold,
      kvCacheUtilThreshold: kvt > 0 && kvt < 1 ? kvt : SATURATION_DEFAULTS.kvCacheUtilThreshold,
      metricsStalenessThresholdMs: staleness,
    },
  };
}
