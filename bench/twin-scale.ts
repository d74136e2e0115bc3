/**
 * Figure 5: how far the embedded twin goes. The seed topology (2 proxies + 4 model pods) as the baseline,
 * then 8 + 16 and, when free memory and the time budget allow, 32 + 64: seconds from twin start to every
 * workload Ready (EPP rolled out, route Accepted) and total RSS (twin host process + every pod process).
 */
import { freemem } from 'node:os';
import { readManifests } from '../cluster/manifests.ts';
import { SEED_MANIFESTS } from '../runner/seed-topology.ts';
import type { Outcome } from './figures.ts';
import { MB } from './parse.ts';
import { describePhases, scalePoint, startHostedTwin, type ScalePoint } from './hosted-twin.ts';
import { countKinds, scaledTopology } from './topology.ts';

/** Time kept for the figures that run after this one (time to first verdict). */
const RESERVED_AFTER_S = 200;

async function measure(copies: number, timeoutMs: number, log: (t: string) => void): Promise<ScalePoint> {
  const objects = scaledTopology(readManifests(SEED_MANIFESTS), copies);
  const twin = await startHostedTwin(objects, timeoutMs);
  try {
    const point = scalePoint(twin, countKinds(objects));
    log(`  ${describePoint(point)} (${describePhases(twin.phases)})`);
    return point;
  } finally {
    await twin.stop();
  }
}

export function describePoint(p: ScalePoint): string {
  return (
    `${p.proxies} proxies + ${p.modelPods} model pods: Ready in ${p.upS.toFixed(1)} s (${p.cpuS.toFixed(1)} s CPU), ` +
    `${p.rssMB.toFixed(0)} MB RSS (${p.pssMB.toFixed(0)} MB PSS) in ${p.processes} processes (twin host ${p.hostMB.toFixed(0)} MB, largest pod ${p.maxPodMB.toFixed(0)} MB)`
  );
}

function figures(p: ScalePoint, seed: ScalePoint): Outcome[] {
  const label = `twin scale ${p.proxies} proxies + ${p.modelPods} model pods`;
  // #18: 32 + 64 Ready within 30 s and 4 GB
  const large = p.modelPods >= 64;
  return [
    {
      name: `${label} up and Ready`,
      value: p.upS,
      unit: 's',
      baseline: seed.upS,
      better: 'lower',
      ...(large ? { goal: { on: 'value' as const, op: '<=' as const, target: 30 } } : {}),
      note: `baseline: seed topology, 2 + 4; ${p.cpuS.toFixed(1)} s CPU`,
    },
    {
      name: `${label} total RSS`,
      value: p.rssMB,
      unit: 'MB',
      baseline: seed.rssMB,
      better: 'lower',
      ...(large ? { goal: { on: 'value' as const, op: '<=' as const, target: 4096 } } : {}),
      note: `${p.processes} processes; PSS (shared pages once) ${p.pssMB.toFixed(0)} MB`,
    },
  ];
}

/**
 * `deadline` (epoch ms) bounds the whole figure: the 32 + 64 step runs only when the time left and the free
 * memory (projected from the 8 + 16 step's per-process RSS, with 2x headroom) allow it.
 */
export async function twinScaleFigures(
  log: (t: string) => void,
  deadline: number,
  seedPoint?: ScalePoint,
  /** Run 32 + 64 whatever the time budget says (memory is still checked). */
  forceLarge = false,
): Promise<Outcome[]> {
  // The twin-overhead figure already brought the seed topology up in this run: reuse its numbers.
  const seed = seedPoint ?? (await measure(1, 120_000, log));
  if (seedPoint) log(`  seed (from the twin overhead run): ${describePoint(seedPoint)}`);
  const outcomes: Outcome[] = [
    {
      name: 'twin scale seed topology 2 proxies + 4 model pods up and Ready',
      value: seed.upS,
      unit: 's',
      baseline: seed.upS,
      better: 'lower',
      goal: { on: 'value', op: '<=', target: 3 },
      note: `${seed.cpuS.toFixed(1)} s CPU (twin host + pods) until Ready`,
    },
    {
      name: 'twin scale seed topology total RSS',
      value: seed.rssMB,
      unit: 'MB',
      baseline: seed.rssMB,
      better: 'lower',
      note: `${seed.processes} processes; PSS (shared pages once) ${seed.pssMB.toFixed(0)} MB`,
    },
    {
      name: 'twin scale seed topology largest pod process RSS',
      value: seed.maxPodMB,
      unit: 'MB',
      baseline: seed.maxPodMB,
      better: 'lower',
      goal: { on: 'value', op: '<=', target: 45 },
    },
  ];
  const mid = await measure(4, 180_000, log);
  outcomes.push(...figures(mid, seed));

  const perProcessMB = mid.rssMB / mid.processes;
  const needMB = perProcessMB * (16 * 6 + 2) * 2;
  const freeMB = freemem() / MB;
  // 4x the pods of the 8 + 16 step, all compiling TypeScript on 2 cores: project 2x linear, plus margin.
  const projectedS = mid.upS * 4 * 2 + 30;
  const leftS = (deadline - Date.now()) / 1000 - RESERVED_AFTER_S;
  const name = 'twin scale 32 proxies + 64 model pods';
  if (freeMB < needMB) {
    outcomes.push({ name, skipped: `free memory ${freeMB.toFixed(0)} MB < ${needMB.toFixed(0)} MB needed (projected, 2x headroom)` });
  } else if (leftS < projectedS && !forceLarge) {
    outcomes.push({
      name,
      skipped: `time budget: ${Math.max(0, leftS).toFixed(0)} s left for it < ${projectedS.toFixed(0)} s projected; \`npm run bench -- --only 5 --scale-large --no-write\` runs it`,
    });
  } else {
    try {
      const big = await measure(16, forceLarge ? 600_000 : leftS * 1000, log);
      outcomes.push(...figures(big, seed));
    } catch (err) {
      outcomes.push({ name, skipped: `did not come up: ${(err as Error).message.split('\n')[0]}` });
    }
  }
  return outcomes;
}
