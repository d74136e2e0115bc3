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
      .map((part) => (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : ''))
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
