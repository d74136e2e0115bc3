import * as path from 'node:path';
import { holdBuilds, packageRoot, runnableModule, runnableProgram } from '../../common/build.mjs';

/** How the twin runs a container image: a Node program with arguments, or a pull failure. */
export type ImageResolution =
  | { ok: true; program: string; args: string[]; kind: 'pause' | 'vllm' | 'epp' | 'node' | 'k6' | 'k6-starter' }
  | { ok: false; reason: 'ErrImagePull'; message: string };

const root = packageRoot(import.meta.url);

// Pod programs run compiled (dist/, built by `npm ci`) when the build is fresh, else from the sources under tsx.
export const PAUSE_PROGRAM = path.join(root, 'twin', 'runtime', 'programs', 'pause.mjs');
export const VLLM_PROGRAM = runnableModule('twin/sims/vllm/main.ts', root);
export const EPP_PROGRAM = runnableModule('twin/sims/epp/main.ts', root);
/**
 * grafana/k6: `k6` on pd-harness's built-in k6 runtime (a program file the pod runs, not an import of the twin):
 * its single-file bundle when fresh (dist/bundles/k6-cli/, common/build.mjs BUNDLES), else load/k6/k6-cli.ts as above.
 */
export const K6_PROGRAM = runnableProgram('k6-cli', root);
export const K6_STARTER_PROGRAM = path.join(root, 'twin', 'runtime', 'programs', 'k6-starter.mjs');

/** Keeps the builds the pod programs above come from while this twin runs (a rebuild must not prune them). */
export function holdPodPrograms(): void {
  holdBuilds([VLLM_PROGRAM, EPP_PROGRAM, K6_PROGRAM], root);
}

export const SUPPORTED_IMAGES = [
  'registry.k8s.io/pause*',
  'vllm/vllm-openai*',
  'ghcr.io/llm-d/llm-d-inference-scheduler*',
  'registry.k8s.io/gateway-api-inference-extension/epp*',
  'node* / docker.io/library/node*',
  'grafana/k6* (k6 run / inspect / version)',
  'ghcr.io/grafana/k6-operator:*starter (the TestRun starter)',
];

/** Image reference without a leading `docker.io/` for comparison (docker.io/vllm/x == vllm/x). */
function normalize(image: string): string {
  return image.trim().replace(/^docker\.io\//, '');
}

function isNodeImage(image: string): boolean {
  const n = normalize(image);
  return /^(library\/)?node([:@].*)?$/.test(n);
}

function isNodeCommand(word: string | undefined): boolean {
  return word !== undefined && path.posix.basename(word) === 'node';
}

/**
 * Maps an image and the container's command/args to the program the twin runs.
 * Pure: says nothing about whether the program file exists (the supervisor checks that).
 */
export function resolveImage(image: string, command: readonly string[] = [], args: readonly string[] = []): ImageResolution {
  const n = normalize(image);
  if (n.startsWith('registry.k8s.io/pause') || n.startsWith('k8s.gcr.io/pause')) {
    return { ok: true, kind: 'pause', program: PAUSE_PROGRAM, args: [] };
  }
  if (n.startsWith('vllm/vllm-openai')) {
    return { ok: true, kind: 'vllm', program: VLLM_PROGRAM, args: vllmArgs(command, args) };
  }
  if (n.startsWith('ghcr.io/llm-d/llm-d-inference-scheduler') || n.startsWith('registry.k8s.io/gateway-api-inference-extension/epp')) {
    // the EPP learns its image (instrumented build or stock) from a twin-only flag
    return { ok: true, kind: 'epp', program: EPP_PROGRAM, args: [...args, `--twin-image=${image}`] };
  }
  if (n.startsWith('grafana/k6:') || n === 'grafana/k6' || n.startsWith('grafana/k6@')) return k6Image(image, command, args);
  if (n.startsWith('ghcr.io/grafana/k6-operator:') && n.includes('starter')) {
    // the starter's `sh -c "curl ...; curl ..."` (k6-operator pkg/resources/containers/curl_start.go)
    const words = [...command, ...args];
    if (words[0] !== 'sh' || words[1] !== '-c') {
      return {
        ok: false,
        reason: 'ErrImagePull',
        message: `twin runs image ${image} only as k6-operator's starter (sh -c "curl ..."), not ${JSON.stringify(words.join(' ').slice(0, 80))}`,
      };
    }
    return { ok: true, kind: 'k6-starter', program: K6_STARTER_PROGRAM, args: words.slice(2) };
  }
  if (isNodeImage(image)) {
    // The node image's entrypoint runs `node` with the args when command is not given.
    const words = command.length > 0 ? [...command, ...args] : [...args];
    const rest = isNodeCommand(words[0]) ? words.slice(1) : command.length > 0 ? undefined : words;
    if (rest === undefined) {
      return { ok: false, reason: 'ErrImagePull', message: `twin runs only \`node\` in image ${image}, not ${JSON.stringify(words[0])}` };
    }
    const [program, ...programArgs] = rest;
    if (program === undefined) {
      return { ok: false, reason: 'ErrImagePull', message: `twin needs a script to run for image ${image} (command/args are empty)` };
    }
    return { ok: true, kind: 'node', program, args: programArgs };
  }
  return {
    ok: false,
    reason: 'ErrImagePull',
    message: `Failed to pull image "${image}": the pd-harness twin cannot run this image; supported images: ${SUPPORTED_IMAGES.join(', ')}`,
  };
}

/**
 * grafana/k6's entrypoint is `k6` (its Dockerfile ENTRYPOINT ["k6"]): `command: [k6, run, ...]` (how k6-operator
 * runs it) or args alone after the entrypoint. Anything else (e.g. `sh -c`) is refused at pull time, one line.
 */
function k6Image(image: string, command: readonly string[], args: readonly string[]): ImageResolution {
  const words = command.length > 0 ? [...command, ...args] : ['k6', ...args];
  if (path.posix.basename(words[0] ?? '') !== 'k6') {
    return {
      ok: false,
      reason: 'ErrImagePull',
      message: `twin runs image ${image} only as \`k6 ...\` (the built-in k6 runtime), not ${JSON.stringify(words[0])}`,
    };
  }
  return { ok: true, kind: 'k6', program: K6_PROGRAM, args: words.slice(1) };
}

/** vLLM's image entrypoint is `vllm serve`-like; pass the container args (and a command after `vllm`) on. */
function vllmArgs(command: readonly string[], args: readonly string[]): string[] {
  const cmd = [...command];
  // e.g. command: ["vllm"] or ["python3", "-m", "vllm.entrypoints.openai.api_server"]
  if (cmd.length > 0 && path.posix.basename(cmd[0] ?? '') === 'vllm') cmd.shift();
  else if (cmd.some((w) => w.startsWith('vllm.entrypoints'))) cmd.length = 0;
  return [...cmd, ...args];
}

/** Node flags to run a program: tsx for TypeScript, then the twin preload. */
export function nodeArgvFor(program: string, preloadUrl: string, tsxUrl: string): string[] {
  const flags = /\.(ts|mts|cts|tsx)$/.test(program) ? ['--import', tsxUrl] : [];
  return [...flags, '--import', preloadUrl, program];
}
