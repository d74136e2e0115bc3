import { vu } from './state.ts';

/**
 * k6/execution, the part the generated suite scripts use (k6 docs, "k6/execution"): `scenario.iterationInTest`
 * (unique across all instances of a distributed test), `scenario.name`, `vu.idInInstance`. Anything else is
 * undefined here, so a script that reads it fails in its first iteration rather than getting a made-up value.
 */
const g = globalThis as Record<string, unknown>;

export const scenario = {
  get name(): string {
    return vu.scenario;
  },
  get iterationInTest(): number {
    return vu.iterationInTest;
  },
};

export const vuInfo = {
  get idInInstance(): number {
    return Number(g['__VU'] ?? 0);
  },
};

export default { scenario, vu: vuInfo };
