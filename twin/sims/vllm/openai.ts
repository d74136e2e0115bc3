/**
 * The OpenAI-compatible surface as vLLM serves it: request validation (model name, max tokens, context length)
 * and the response / stream chunk shapes. Pure functions; the HTTP server does the I/O.
 */
import { chatTokenIds, textTokenIds, type ChatMessageLike } from './tokens.ts';

export type ApiKind = 'completion' | 'chat';

/**
 * vLLM's error envelope, `ErrorResponse(error=ErrorInfo(message, type, param, code))` with code the HTTP status
 * (vllm-project/vllm v0.15.0 vllm/entrypoints/openai/protocol.py `ErrorInfo` / `ErrorResponse`; the flat
 * `{"object": "error", ...}` body belongs to vLLM before the nested envelope).
 */
export interface ApiErrorBody {
  error: { message: string; type: string; param: null; code: number };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
  body(): ApiErrorBody {
    return { error: { message: this.message, type: this.type, param: null, code: this.status } };
  }
}

export const badRequest = (m: string): ApiError => new ApiError(400, 'BadRequestError', m);

export interface ParsedRequest {
  kind: ApiKind;
  model: string;
  /** Token count of each prompt (a completions request may batch several prompts). */
  promptTokens: number[];
  /** The (stand-in) token ids of each prompt: the filesystem connector hashes them. */
  promptTokenIds: number[][];
  maxTokens: number;
  /** true when the client set the limit (finish_reason "length" when reached), else "stop". */
  maxTokensGiven: boolean;
  stream: boolean;
  includeUsage: boolean;
}

export interface ValidationContext {
  servedModelNames: readonly string[];
  maxModelLen: number;
  defaultCompletionTokens: number;
}

function promptTokenIdLists(prompt: unknown): number[][] {
  if (typeof prompt === 'string') return [textTokenIds(prompt)];
  if (Array.isArray(prompt) && prompt.length > 0) {
    if (prompt.every((p) => typeof p === 'number')) return [prompt as number[]];
    if (prompt.every((p) => typeof p === 'string')) return prompt.map((p) => textTokenIds(p as string));
    if (prompt.every((p) => Array.isArray(p) && p.length > 0 && p.every((t) => typeof t === 'number'))) {
      return prompt as number[][];
    }
  }
  throw badRequest('prompt must be a string, a list of strings, a list of token ids or a list of token id lists');
}

function chatTokenIdList(messages: unknown): number[] {
  if (!Array.isArray(messages) || messages.length === 0) throw badRequest('messages must be a non-empty list');
  for (const m of messages) {
    if (!m || typeof m !== 'object' || typeof (m as { role?: unknown }).role !== 'string') {
      throw badRequest('each message needs a string role');
    }
  }
  return chatTokenIds(messages as ChatMessageLike[]);
}

function optionalPositiveInt(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw badRequest(`${key} must be at least 1, got ${JSON.stringify(v)}.`);
  return v;
}

export function contextLengthMessage(maxModelLen: number, promptTokens: number, maxTokens: number | undefined): string {
  if (maxTokens === undefined) {
    return `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${promptTokens} tokens in the messages, Please reduce the length of the messages.`;
  }
  return (
    `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${promptTokens + maxTokens} tokens ` +
    `(${promptTokens} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`
  );
}

export function parseRequest(kind: ApiKind, body: unknown, ctx: ValidationContext): ParsedRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('request body must be a JSON object');
  const b = body as Record<string, unknown>;
  const model = b['model'] === undefined || b['model'] === null ? (ctx.servedModelNames[0] ?? '') : b['model'];
  if (typeof model !== 'string') throw badRequest('model must be a string');
  if (!ctx.servedModelNames.includes(model)) throw new ApiError(404, 'NotFoundError', `The model \`${model}\` does not exist.`);

  const promptTokenIds = kind === 'chat' ? [chatTokenIdList(b['messages'])] : promptTokenIdLists(b['prompt']);
  const promptTokens = promptTokenIds.map((ids) => ids.length);
  const given =
    kind === 'chat'
      ? (optionalPositiveInt(b, 'max_completion_tokens') ?? optionalPositiveInt(b, 'max_tokens'))
      : optionalPositiveInt(b, 'max_tokens');
  const longest = Math.max(...promptTokens);
  if (longest >= ctx.maxModelLen || (given !== undefined && longest + given > ctx.maxModelLen)) {
    throw badRequest(contextLengthMessage(ctx.maxModelLen, longest, given));
  }
  const stream = b['stream'] === true;
  const opts = b['stream_options'];
  const includeUsage = stream && !!opts && typeof opts === 'object' && (opts as { include_usage?: unknown }).include_usage === true;
  return {
    kind,
    model,
    promptTokens,
    promptTokenIds,
    maxTokens: given ?? Math.min(ctx.defaultCompletionTokens, ctx.maxModelLen - longest),
    maxTokensGiven: given !== undefined,
    stream,
    includeUsage,
  };
}

export interface Usage {
  prompt_tokens: number;
  total_tokens: number;
  completion_tokens: number;
  prompt_tokens_details: null;
}

export function usage(prompt: number, completion: number): Usage {
  return { prompt_tokens: prompt, total_tokens: prompt + completion, completion_tokens: completion, prompt_tokens_details: null };
}

/**
 * vLLM's response id: `cmpl-<base>` for completions, `chatcmpl-<base>` for chat, where base is the X-Request-Id
 * header when present, else a random id (vllm-project/vllm v0.15.0 vllm/entrypoints/openai/serving_completion.py
 * `f"cmpl-{self._base_request_id(raw_request)}"`, serving_chat.py
 * `f"chatcmpl-{self._base_request_id(raw_request, request.request_id)}"`; `_base_request_id` in serving_engine.py
 * reads `X-Request-Id`).
 */
export function responseId(kind: ApiKind, xRequestId: string | undefined, random: string): string {
  return `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${xRequestId ?? random}`;
}

export interface ChoiceResult {
  text: string;
  finishReason: 'length' | 'stop';
}

interface Head {
  id: string;
  created: number;
  model: string;
}

export function completionResponse(h: Head, choices: readonly ChoiceResult[], u: Usage): Record<string, unknown> {
  return {
    id: h.id,
    object: 'text_completion',
    created: h.created,
    model: h.model,
    choices: choices.map((c, index) => ({
      index,
      text: c.text,
      logprobs: null,
      finish_reason: c.finishReason,
      stop_reason: null,
      prompt_logprobs: null,
    })),
    usage: u,
    kv_transfer_params: null,
  };
}

export function chatResponse(h: Head, choices: readonly ChoiceResult[], u: Usage): Record<string, unknown> {
  return {
    id: h.id,
    object: 'chat.completion',
    created: h.created,
    model: h.model,
    choices: choices.map((c, index) => ({
      index,
      message: {
        role: 'assistant',
        content: c.text,
        refusal: null,
        annotations: null,
        audio: null,
        function_call: null,
        tool_calls: [],
        reasoning_content: null,
      },
      logprobs: null,
      finish_reason: c.finishReason,
      stop_reason: null,
    })),
    usage: u,
    prompt_logprobs: null,
    kv_transfer_params: null,
  };
}

/** One SSE chunk carrying a token (or the role header for chat, or the finish reason). */
export function streamChunk(
  kind: ApiKind,
  h: Head,
  index: number,
  delta: { text?: string; role?: boolean },
  finishReason: 'length' | 'stop' | null,
): Record<string, unknown> {
  if (kind === 'completion') {
    return {
      id: h.id,
      object: 'text_completion',
      created: h.created,
      model: h.model,
      choices: [{ index, text: delta.text ?? '', logprobs: null, finish_reason: finishReason, stop_reason: null }],
    };
  }
  const d: Record<string, unknown> = delta.role ? { role: 'assistant', content: '' } : { content: delta.text ?? '' };
  return {
    id: h.id,
    object: 'chat.completion.chunk',
    created: h.created,
    model: h.model,
    choices: [{ index, delta: d, logprobs: null, finish_reason: finishReason }],
  };
}

export function usageChunk(kind: ApiKind, h: Head, u: Usage): Record<string, unknown> {
  return {
    id: h.id,
    object: kind === 'chat' ? 'chat.completion.chunk' : 'text_completion',
    created: h.created,
    model: h.model,
    choices: [],
    usage: u,
  };
}

export function modelsResponse(names: readonly string[], root: string, maxModelLen: number, created: number): Record<string, unknown> {
  return {
    object: 'list',
    data: names.map((id) => ({
      id,
      object: 'model',
      created,
      owned_by: 'vllm',
      root,
      parent: null,
      max_model_len: maxModelLen,
      permission: [
        {
          id: `modelperm-${id.replace(/[^A-Za-z0-9]/g, '').slice(0, 24)}`,
          object: 'model_permission',
          created,
          allow_create_engine: false,
          allow_sampling: true,
          allow_logprobs: true,
          allow_search_indices: false,
          allow_view: true,
          allow_fine_tuning: false,
          organization: '*',
          group: null,
          is_blocking: false,
        },
      ],
    })),
  };
}
