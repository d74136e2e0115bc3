/**
 * Decoding of Kubernetes protobuf request bodies for the few kinds kubectl's typed `create` commands send
 * that way (`kubectl create namespace|configmap|secret`, `kubectl auth can-i`). The envelope is `k8s\0` + runtime.Unknown
 * {typeMeta, raw}; `raw` is the kind's generated protobuf message. Other kinds answer 415.
 */
import type { Obj } from './selectors.ts';

type Kind = 'string' | 'bytes' | 'bool' | 'int' | 'time' | { msg: Schema } | { map: 'string' | 'bytes' } | { repeated: Kind };
type Schema = Record<number, [string, Kind]>;

const ownerReference: Schema = {
  1: ['kind', 'string'],
  3: ['name', 'string'],
  4: ['uid', 'string'],
  5: ['apiVersion', 'string'],
  6: ['controller', 'bool'],
  7: ['blockOwnerDeletion', 'bool'],
};
const objectMeta: Schema = {
  1: ['name', 'string'],
  2: ['generateName', 'string'],
  3: ['namespace', 'string'],
  5: ['uid', 'string'],
  6: ['resourceVersion', 'string'],
  7: ['generation', 'int'],
  8: ['creationTimestamp', 'time'],
  11: ['labels', { map: 'string' }],
  12: ['annotations', { map: 'string' }],
  13: ['ownerReferences', { repeated: { msg: ownerReference } }],
  14: ['finalizers', { repeated: 'string' }],
};
const meta: [string, Kind] = ['metadata', { msg: objectMeta }];

const SCHEMAS: Record<string, Schema> = {
  'v1/Namespace': { 1: meta, 2: ['spec', { msg: { 1: ['finalizers', { repeated: 'string' }] } }] },
  'v1/ConfigMap': { 1: meta, 2: ['data', { map: 'string' }], 3: ['binaryData', { map: 'bytes' }], 4: ['immutable', 'bool'] },
  'v1/Secret': {
    1: meta,
    2: ['data', { map: 'bytes' }],
    3: ['type', 'string'],
    4: ['stringData', { map: 'string' }],
    5: ['immutable', 'bool'],
  },
  'v1/ServiceAccount': { 1: meta },
  // `kubectl auth can-i` sends its review as protobuf (k8s.io/api authorization/v1 generated.proto:
  // SelfSubjectAccessReviewSpec 1 resourceAttributes, 2 nonResourceAttributes; ResourceAttributes 1 namespace,
  // 2 verb, 3 group, 4 version, 5 resource, 6 subresource, 7 name; NonResourceAttributes 1 path, 2 verb)
  'authorization.k8s.io/v1/SelfSubjectAccessReview': {
    1: meta,
    2: [
      'spec',
      {
        msg: {
          1: [
            'resourceAttributes',
            {
              msg: {
                1: ['namespace', 'string'],
                2: ['verb', 'string'],
                3: ['group', 'string'],
                4: ['version', 'string'],
                5: ['resource', 'string'],
                6: ['subresource', 'string'],
                7: ['name', 'string'],
              },
            },
          ],
          2: ['nonResourceAttributes', { msg: { 1: ['path', 'string'], 2: ['verb', 'string'] } }],
        },
      },
    ],
  },
};

interface Field {
  no: number;
  wire: number;
  value: bigint | Buffer;
}

function readVarint(b: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= b.length) throw new Error('truncated varint');
    const byte = b[pos++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return [result, pos];
    shift += 7n;
  }
  throw new Error('varint too long');
}

function fields(b: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < b.length) {
    const [tag, p1] = readVarint(b, pos);
    pos = p1;
    const no = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      const [v, p2] = readVarint(b, pos);
      out.push({ no, wire, value: v });
      pos = p2;
    } else if (wire === 2) {
      const [l, p2] = readVarint(b, pos);
      const end = p2 + Number(l);
      if (end > b.length) throw new Error('truncated field');
      out.push({ no, wire, value: b.subarray(p2, end) });
      pos = end;
    } else if (wire === 1) {
      out.push({ no, wire, value: b.subarray(pos, pos + 8) });
      pos += 8;
    } else if (wire === 5) {
      out.push({ no, wire, value: b.subarray(pos, pos + 4) });
      pos += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

function decodeValue(kind: Kind, f: Field): unknown {
  if (kind === 'string') return (f.value as Buffer).toString('utf8');
  if (kind === 'bytes') return (f.value as Buffer).toString('base64');
  if (kind === 'bool') return f.value !== 0n;
  if (kind === 'int') return Number(f.value as bigint);
  if (kind === 'time') {
    const t = decodeMessage({ 1: ['seconds', 'int'], 2: ['nanos', 'int'] }, f.value as Buffer);
    return new Date(Number(t.seconds ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  if ('msg' in kind) return decodeMessage(kind.msg, f.value as Buffer);
  throw new Error('unexpected kind');
}

function decodeMessage(schema: Schema, b: Buffer): Obj {
  const out: Obj = {};
  for (const f of fields(b)) {
    const spec = schema[f.no];
    if (!spec) continue;
    const [name, kind] = spec;
    if (typeof kind === 'object' && 'map' in kind) {
      const entry = fields(f.value as Buffer);
      const k = entry.find((e) => e.no === 1);
      const v = entry.find((e) => e.no === 2);
      const map = (out[name] ??= {}) as Obj;
      map[k ? (k.value as Buffer).toString('utf8') : ''] = v ? decodeValue(kind.map, v) : '';
    } else if (typeof kind === 'object' && 'repeated' in kind) {
      ((out[name] ??= []) as unknown[]).push(decodeValue(kind.repeated, f));
    } else {
      const v = decodeValue(kind, f);
      // gogo-protobuf writes every optional field; zero values mean "unset" in the JSON form.
      if (v !== '' && v !== 0 && v !== false) out[name] = v;
    }
  }
  return out;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** The JSON form of a protobuf-encoded object, or undefined when its kind is not one we can decode. */
export function decodeK8sProtobuf(body: Buffer): Obj | undefined {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw new Error('missing k8s protobuf envelope');
  const unknown = decodeMessage(
    { 1: ['typeMeta', { msg: { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] } }], 2: ['raw', 'bytes'] },
    body.subarray(4),
  );
  const tm = (unknown.typeMeta ?? {}) as Obj;
  const schema = SCHEMAS[`${tm.apiVersion}/${tm.kind}`];
  if (!schema) return undefined;
  const obj = decodeMessage(schema, Buffer.from(String(unknown.raw ?? ''), 'base64'));
  return { apiVersion: tm.apiVersion, kind: tm.kind, ...obj };
}
