/**
 * Token estimates. The simulator has no tokenizer: a text counts ceil(chars / 4) tokens (at least 1), the usual
 * rule of thumb for English with BPE tokenizers. A prompt given as token ids counts its ids. A chat counts its
 * messages' contents plus 4 template tokens per message and 3 for the assistant header (ChatML-like).
 */

export function estimateTextTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

export interface ChatMessageLike {
  role: string;
  content: unknown;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '',
      )
      .join('');
  }
  return '';
}

export function estimateChatTokens(messages: readonly ChatMessageLike[]): number {
  let total = 3;
  for (const m of messages) total += 4 + Math.ceil(contentText(m.content).length / 4);
  return total;
}

const WORDS = ['the', 'twin', 'model', 'says', 'hello', 'from', 'a', 'simulated', 'decode', 'engine', 'token', 'stream'];

/** The i-th generated token's text: deterministic filler, one word per token. */
export function tokenText(i: number): string {
  return ' ' + (WORDS[i % WORDS.length] ?? 'token');
}

/**
 * Stand-in token ids, consistent with the estimates above (same count): the twin has no tokenizer, but the
 * filesystem connector keys stored KV by a hash of the prompt's token ids, so equal prompts must give equal ids
 * and different prompts (almost always) different ones. A text becomes one id per 4-character chunk (FNV-1a of
 * the chunk, folded into Qwen3's 151 936-entry vocabulary); a chat adds 4 template ids per message (derived from
 * its role) and 3 for the assistant header.
 */
const VOCAB = 151_936;

function chunkId(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0) % VOCAB;
}

export function textTokenIds(text: string): number[] {
  if (text.length === 0) return [chunkId('')];
  const ids: number[] = [];
  for (let i = 0; i < text.length; i += 4) ids.push(chunkId(text.slice(i, i + 4)));
  return ids;
}

export function chatTokenIds(messages: readonly ChatMessageLike[]): number[] {
  const ids: number[] = [];
  for (const m of messages) {
    for (let k = 0; k < 4; k++) ids.push(chunkId(`<|im_start|>${m.role}#${k}`));
    const text = contentText(m.content);
    for (let i = 0; i < text.length; i += 4) ids.push(chunkId(text.slice(i, i + 4)));
  }
  for (let k = 0; k < 3; k++) ids.push(chunkId(`<|im_start|>assistant#${k}`));
  return ids;
}
