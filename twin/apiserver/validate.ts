/** Validation on create/update: returns field causes for a 422 Invalid. Covers what clients commonly get wrong. */
import type { Obj } from './selectors.ts';
import { fromLabelSelectorObject, matchLabels } from './selectors.ts';
import type { StatusCause } from './status.ts';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const required = (field: string): StatusCause => ({ reason: 'FieldValueRequired', message: 'Required value', field });
const invalid = (field: string, value: unknown, why: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${JSON.stringify(value)}: ${why}`,
  field,
});

function validateContainers(list: unknown, field: string, causes: StatusCause[]): void {
  if (!Array.isArray(list) || list.length === 0) {
    causes.push(required(field));
    return;
  }
  const seen = new Set<string>();
  list.forEach((c: Obj, i) => {
    if (!c || typeof c !== 'object') return causes.push(invalid(`${field}[${i}]`, c, 'must be an object')) as unknown as void;
    if (!c.name) causes.push(required(`${field}[${i}].name`));
    else if (!DNS_LABEL.test(String(c.name)))
      causes.push(
        invalid(`${field}[${i}].name`, c.name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'"),
      );
    else if (seen.has(c.name))
      causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: "${c.name}"`, field: `${field}[${i}].name` });
    seen.add(c.name);
    if (!c.image) causes.push(required(`${field}[${i}].image`));
  });
}

export function validateObject(kind: string, group: string, obj: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = obj.metadata?.name;
  if (!name)
    causes.push({ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' });
  else if (String(name).length > 253 || !DNS_SUBDOMAIN.test(String(name)))
    causes.push(
      invalid(
        'metadata.name',
        name,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
      ),
    );
  for (const [k, v] of Object.entries((obj.metadata?.labels ?? {}) as Obj)) {
    if (typeof v !== 'string') causes.push(invalid(`metadata.labels.${k}`, v, 'must be a string'));
  }
  if (group === '' && kind === 'Pod') validateContainers(obj.spec?.containers, 'spec.containers', causes);
  if (group === 'apps' && (kind === 'Deployment' || kind === 'ReplicaSet')) {
    const spec = obj.spec ?? {};
    if (!spec.selector) causes.push(required('spec.selector'));
    if (typeof spec.replicas === 'number' && spec.replicas < 0)
      causes.push(invalid('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
    if (!spec.template) causes.push(required('spec.template'));
    else {
      validateContainers(spec.template.spec?.containers, 'spec.template.spec.containers', causes);
      if (spec.selector && !matchLabels(fromLabelSelectorObject(spec.selector), spec.template.metadata?.labels))
        causes.push(
          invalid('spec.template.metadata.labels', spec.template.metadata?.labels ?? {}, '`selector` does not match template `labels`'),
        );
    }
  }
  if (group === '' && kind === 'Service') {
    const spec = obj.spec ?? {};
    if (spec.type !== 'ExternalName' && spec.clusterIP !== 'None' && !(Array.isArray(spec.ports) && spec.ports.length > 0))
      causes.push(required('spec.ports'));
    ((spec.ports ?? []) as Obj[]).forEach((p, i) => {
      if (typeof p.port !== 'number') causes.push(required(`spec.ports[${i}].port`));
    });
  }
  if (group === '' && (kind === 'ConfigMap' || kind === 'Secret')) {
    for (const field of ['data', 'binaryData', 'stringData']) {
      for (const [k, v] of Object.entries((obj[field] ?? {}) as Obj)) {
        if (typeof v !== 'string') causes.push(invalid(`${field}[${k}]`, v, 'must be a string'));
      }
    }
  }
  if (group === 'apiextensions.k8s.io' && kind === 'CustomResourceDefinition') {
    const spec = obj.spec ?? {};
    if (!spec.group) causes.push(required('spec.group'));
    if (!spec.names?.plural) causes.push(required('spec.names.plural'));
    if (!spec.names?.kind) causes.push(required('spec.names.kind'));
    if (!Array.isArray(spec.versions) || spec.versions.length === 0) causes.push(required('spec.versions'));
    if (spec.group && spec.names?.plural && name !== `${spec.names.plural}.${spec.group}`)
      causes.push(invalid('metadata.name', name, `must be spec.names.plural+"."+spec.group`));
  }
  return causes;
}
