/** The CRDs the twin serves from the start, as if they had been applied. */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../common/build.mjs';
import { parse as parseYaml } from '#yaml';
import type { Obj } from './selectors.ts';

/**
 * The InferencePool v1 CRD is the project's manifests/crds copy (the GAIE v1.2.0 schema with its CEL
 * rules), so a pool breaking those rules is refused even before the manifests are applied.
 */
const INFERENCEPOOL_V1_CRD = pathToFileURL(
  join(packageRoot(import.meta.url), 'manifests', 'crds', 'inference.networking.k8s.io_inferencepools.yaml'),
);

function manifestCrd(file: URL): Obj {
  try {
    return parseYaml(fs.readFileSync(file, 'utf8')) as Obj;
  } catch (e) {
    throw new Error(`twin apiserver: cannot read the built-in CRD ${file.pathname}`, { cause: e });
  }
}

interface CrdSpec {
  group: string;
  version: string;
  kind: string;
  plural: string;
  shortNames?: string[];
  scope?: 'Namespaced' | 'Cluster';
  columns?: Obj[];
  scale?: boolean;
  categories?: string[];
}

const age = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export function crdObject(s: CrdSpec): Obj {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${s.plural}.${s.group}` },
    spec: {
      group: s.group,
      scope: s.scope ?? 'Namespaced',
      names: {
        plural: s.plural,
        singular: s.kind.toLowerCase(),
        kind: s.kind,
        listKind: `${s.kind}List`,
        ...(s.shortNames ? { shortNames: s.shortNames } : {}),
        ...(s.categories ? { categories: s.categories } : {}),
      },
      versions: [
        {
          name: s.version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          subresources: {
            status: {},
            ...(s.scale ? { scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } } : {}),
          },
          ...(s.columns ? { additionalPrinterColumns: [...s.columns, age] } : {}),
        },
      ],
    },
  };
}

export const BUILTIN_CRDS: Obj[] = [
  manifestCrd(INFERENCEPOOL_V1_CRD),
  crdObject({
    group: 'inference.networking.x-k8s.io',
    version: 'v1alpha2',
    kind: 'InferencePool',
    plural: 'inferencepools',
    shortNames: ['infpool'],
  }),
  crdObject({
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    kind: 'GatewayClass',
    plural: 'gatewayclasses',
    shortNames: ['gc'],
    scope: 'Cluster',
    columns: [
      { name: 'Controller', type: 'string', jsonPath: '.spec.controllerName' },
      { name: 'Accepted', type: 'string', jsonPath: '.status.conditions[?(@.type=="Accepted")].status' },
    ],
  }),
  crdObject({
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    kind: 'Gateway',
    plural: 'gateways',
    shortNames: ['gtw'],
    columns: [
      { name: 'Class', type: 'string', jsonPath: '.spec.gatewayClassName' },
      { name: 'Address', type: 'string', jsonPath: '.status.addresses[*].value' },
      { name: 'Programmed', type: 'string', jsonPath: '.status.conditions[?(@.type=="Programmed")].status' },
    ],
  }),
  crdObject({
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    kind: 'HTTPRoute',
    plural: 'httproutes',
    columns: [{ name: 'Hostnames', type: 'string', jsonPath: '.spec.hostnames' }],
  }),
  crdObject({
    group: 'gateway.networking.k8s.io',
    version: 'v1beta1',
    kind: 'ReferenceGrant',
    plural: 'referencegrants',
    shortNames: ['refgrant'],
  }),
  crdObject({
    group: 'sim.llm-d.io',
    version: 'v1alpha1',
    kind: 'SchedulerInstall',
    plural: 'schedulerinstalls',
    columns: [{ name: 'Profile', type: 'string', jsonPath: '.spec.epp.configProfile' }],
  }),
  crdObject({
    group: 'k6.io',
    version: 'v1alpha1',
    kind: 'TestRun',
    plural: 'testruns',
    columns: [{ name: 'Stage', type: 'string', jsonPath: '.status.stage' }],
  }),
];
