/**
 * The replay command of a repro bundle: `npx pd-harness repro SUITE --cell ID --seed N`, the `replay.sh` that
 * holds it, and parsing it back (tests and tools run what the bundle says). Pure.
 */

export interface ReplayTarget {
  suiteFile: string;
  cellId: string;
  seed: number;
}

const SAFE = /^[A-Za-z0-9_./:=@%+-]+$/;

export function shellQuote(arg: string): string {
  return SAFE.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function replayArgs(t: ReplayTarget): string[] {
  return ['repro', t.suiteFile, '--cell', t.cellId, '--seed', String(t.seed)];
}

export function replayCommand(t: ReplayTarget): string {
  return ['npx', 'pd-harness', ...replayArgs(t)].map(shellQuote).join(' ');
}

/** A script that replays the cell from a clean shell: it goes to the checkout the campaign ran in first. */
export function replayScript(t: ReplayTarget, opts: { cwd: string; campaign: string }): string {
  return [
    '#!/bin/sh',
    `# Replays cell ${t.cellId} of repro campaign ${opts.campaign} (seed ${t.seed}).`,
    '# On the twin this starts a fresh twin, deploys the suite and runs only this cell with the same seed.',
    'set -e',
    `cd ${shellQuote(opts.cwd)}`,
    replayCommand(t),
    '',
  ].join('\n');
}

/** Splits a shell command line with single/double quotes and backslashes (no expansions). */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error('unterminated single quote');
      cur += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length) j++;
        cur += line[j];
      }
      if (j >= line.length) throw new Error('unterminated double quote');
      i = j;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** Reads the replay target from a replay.sh (or any text with an `npx pd-harness repro ...` line). */
export function parseReplayCommand(text: string): ReplayTarget {
  const line = text.split('\n').find((l) => /^\s*(exec\s+)?npx\s+pd-harness\s+repro\s/.test(l));
  if (!line) throw new Error('no "npx pd-harness repro" line');
  const words = splitShellWords(line.trim()).filter((w) => w !== 'exec');
  const args = words.slice(3);
  const suiteFile = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1]!.startsWith('--')));
  const option = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const cellId = option('--cell');
  const seed = Number(option('--seed'));
  if (!suiteFile || !cellId || !Number.isInteger(seed)) throw new Error(`replay command lacks a suite, --cell or --seed: ${line.trim()}`);
  return { suiteFile, cellId, seed };
}
