/**
 * The reproduction matrix (suite `spec.repro`): connector x concurrency x prompt length x client timeout,
 * expanded into cells with stable ids (`p2p-c4-p1500-t300ms`), a per-cell seed, and the load plan each cell
 * sends through the gateway. Pure.
 */
import { seededRandom, seedFromText } from '../../k8s-rules/prng.ts';
import type { LoadPlan } from '../../load/plan.ts';
import type { Connector, ReproMatrix } from '../../suites/schema.ts';

export interface ReproCell {
  /** Stable id: `<connector>-c<concurrency>-p<promptTokens>-t<timeout>`, e.g. `p2p-c4-p1500-t300ms`. */
  id: string;
  connector: Connector;
  concurrency: number;
  promptTokens: number;
  clientTimeoutMs: number;
  requests: number;
}

/** How a connector is reached and observed in the seed topology (facts.md §1, the vllm-ab-test HTTPRoute). */
export interface ConnectorTopology {
  /** Value of the `x-kv-backend` header the vllm-ab-test HTTPRoute matches. */
  header: string;
  /** The `app` label of the connector's pods. */
  app: string;
  namespace: string;
  decodeSelector: string;
  proxyWorkload: string;
}

export const CONNECTOR_TOPOLOGY: Record<Connector, ConnectorTopology> = {
  p2p: {
    header: 'nvlink',
    app: 'vllm-p2p-test',
    namespace: 'llm-d-vllm',
    decodeSelector: 'app=vllm-p2p-test,role=decode',
    proxyWorkload: 'vllm-p2p-proxy',
  },
  fs: {
    header: 'fs',
    app: 'vllm-fs-test',
    namespace: 'llm-d-vllm',
    decodeSelector: 'app=vllm-fs-test,role=decode',
    proxyWorkload: 'vllm-fs-proxy',
  },
};

export const MODEL = 'Qwen/Qwen3-Coder-30B-A3B-Instruct';
export const MAX_MODEL_LEN = 2048;
/** Tokens each request asks for; prompt + this must stay within max-model-len unless a cell means to cross it. */
export const COMPLETION_TOKENS = 16;
/** The simulator (and a rough rule for real tokenizers on English text): ~4 characters per token. */
export const CHARS_PER_TOKEN = 4;

/** `300ms`, `35s`, `2m`, `1500ms`: the shortest exact spelling, used in cell ids. */
export function durationLabel(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  const s = ms / 1000;
  if (s >= 60 && s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

export function cellId(c: Pick<ReproCell, 'connector' | 'concurrency' | 'promptTokens' | 'clientTimeoutMs'>): string {
  return `${c.connector}-c${c.concurrency}-p${c.promptTokens}-t${durationLabel(c.clientTimeoutMs)}`;
}

/** Every cell, in a fixed order (connector, then concurrency, prompt length, timeout as written); duplicates dropped. */
export function expandMatrix(m: ReproMatrix): ReproCell[] {
  const cells: ReproCell[] = [];
  const seen = new Set<string>();
  for (const connector of m.connectors) {
    for (const concurrency of m.concurrency) {
      for (const promptTokens of m.promptTokens) {
        for (const clientTimeoutMs of m.clientTimeout) {
          const cell = { connector, concurrency, promptTokens, clientTimeoutMs, requests: m.requestsPerCell };
          const id = cellId(cell);
          if (seen.has(id)) continue;
          seen.add(id);
          cells.push({ id, ...cell });
        }
      }
    }
  }
  return cells;
}

/** The cell with this id, or an error naming the ones there are. */
export function findCell(cells: readonly ReproCell[], id: string): ReproCell {
  const cell = cells.find((c) => c.id === id);
  if (!cell) throw new Error(`no cell "${id}" in the matrix (cells: ${cells.map((c) => c.id).join(', ')})`);
  return cell;
}

/** FNV-1a, 32 bit. */

/**
 * A cell's own seed, from the campaign seed and the cell id only: replaying one cell (`--cell ID --seed N`)
 * gets the same prompts and trigger as it had inside the whole campaign.
 */
export function cellSeed(campaignSeed: number, id: string): number {
  return seedFromText(`${campaignSeed}:${id}`) & 0x7fffffff;
}

export { seededRandom };

const WORDS = [
  'kv',
  'cache',
  'prefill',
  'decode',
  'block',
  'token',
  'nvlink',
  'tensor',
  'engine',
  'batch',
  'layer',
  'index',
  'select',
  'gpu',
  'route',
  'proxy',
];

/**
 * A prompt of about `tokens` tokens (`tokens * 4` characters), seeded filler words, with `{{i}}` up front so
 * every request differs. The load engine fills `{{i}}` in.
 */
export function promptTemplate(tokens: number, seed: number): string {
  const head = 'request {{i}}: ';
  // `{{i}}` renders to at most ~6 characters; count the head as rendered.
  const target = Math.max(1, tokens * CHARS_PER_TOKEN - (head.length - 5 + 3));
  const rand = seededRandom(seed);
  let text = '';
  while (text.length < target) text += `${WORDS[Math.floor(rand() * WORDS.length)]} `;
  return head + text.slice(0, target);
}

/** How long a cell may run at most: every request hitting its timeout, one wave per concurrency slot, plus slack. */
export function cellBoundMs(cell: ReproCell): number {
  const waves = Math.ceil(cell.requests / cell.concurrency);
  return Math.min(30 * 60_000, waves * (cell.clientTimeoutMs + 1000) + 10_000);
}

/** The cell's load: `requests` completions at `concurrency` through the vllm-ab-test route of the connector's proxy. */
export function cellLoadPlan(cell: ReproCell, seed: number): LoadPlan {
  const topo = CONNECTOR_TOPOLOGY[cell.connector];
  return {
    requests: cell.requests,
    concurrency: cell.concurrency,
    timeoutMs: cell.clientTimeoutMs,
    maxDurationMs: cellBoundMs(cell),
    captureHeaders: ['x-request-id'],
    request: {
      method: 'POST',
      path: '/v1/completions',
      headers: { 'content-type': 'application/json', 'x-kv-backend': topo.header },
      body: { model: MODEL, prompt: promptTemplate(cell.promptTokens, seed), max_tokens: COMPLETION_TOKENS, stream: false },
    },
  };
}

/** Cells whose prompt plus completion go over max-model-len: vLLM answers them 400, so they test nothing else. */
export function overLongCells(cells: readonly ReproCell[]): ReproCell[] {
  return cells.filter((c) => c.promptTokens + COMPLETION_TOKENS > MAX_MODEL_LEN);
}
