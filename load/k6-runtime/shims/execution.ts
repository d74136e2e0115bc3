import { AbortTest, inInit, vu } from './state.ts';

/**
 * k6/execution (internal/js/modules/k6/execution/execution.go, k6 v2.2.0). Single instance: the
 * instance and test counters are the same. Reading a scenario or vu property in the init context throws,
 * as in k6.
 */
function iterCtx() {
  if (inInit() || !vu.ctx) throw new Error('getting scenario information outside of the VU context is not supported');
  return vu.ctx;
}

const scenario = {
  get name() {
    return iterCtx().scenario;
  },
  get executor() {
    return iterCtx().executor;
  },
  get startTime() {
    return iterCtx().scenarioStartMs;
  },
  get progress() {
    return iterCtx().progress;
  },
  get iterationInInstance() {
    return iterCtx().iterationInScenario;
  },
  get iterationInTest() {
    return iterCtx().iterationInTest;
  },
};

const vuTags = new Proxy({} as Record<string, string>, {
  get: (_t, k: string) => vu.userTags[k],
  set: (_t, k: string, v: unknown) => {
    if (v !== null && typeof v === 'object')
      throw new Error(`invalid value for the tag '${k}': only String, Boolean and Number types are accepted`);
    vu.userTags[k] = String(v);
    return true;
  },
  deleteProperty: (_t, k: string) => {
    delete vu.userTags[k];
    return true;
  },
  ownKeys: () => Reflect.ownKeys(vu.userTags),
  getOwnPropertyDescriptor: (_t, k: string) =>
    k in vu.userTags ? { enumerable: true, configurable: true, value: vu.userTags[k] } : undefined,
  has: (_t, k: string) => k in vu.userTags,
});

const vuInfo = {
  get idInInstance() {
    return vu.id;
  },
  get idInTest() {
    return vu.id;
  },
  get iterationInInstance() {
    iterCtx();
    return vu.iterationInInstance;
  },
  get iterationInScenario() {
    iterCtx();
    return vu.iterationInScenario;
  },
  get tags() {
    iterCtx();
    return vuTags;
  },
  get metrics() {
    iterCtx();
    return { tags: vuTags, metadata: {} };
  },
};

const instance = {
  get iterationsCompleted(): number {
    throw new Error('exec.instance.iterationsCompleted is not supported by the built-in k6 runtime (k6 docs: k6/execution, instance)');
  },
  get iterationsInterrupted(): number {
    throw new Error('exec.instance.iterationsInterrupted is not supported by the built-in k6 runtime (k6 docs: k6/execution, instance)');
  },
  get vusActive(): number {
    throw new Error('exec.instance.vusActive is not supported by the built-in k6 runtime (k6 docs: k6/execution, instance)');
  },
  get vusInitialized(): number {
    throw new Error('exec.instance.vusInitialized is not supported by the built-in k6 runtime (k6 docs: k6/execution, instance)');
  },
  get currentTestRunDuration(): number {
    return Date.now() - (vu.testStartMs ?? Date.now());
  },
};

const test = {
  abort(reason?: string): never {
    throw new AbortTest(reason ? `test aborted: ${reason}` : 'test aborted');
  },
  get options() {
    return JSON.parse(JSON.stringify(vu.options)) as unknown;
  },
};

export default { scenario, vu: vuInfo, instance, test };
export { scenario, vuInfo as vu, instance, test };
