/**
 * What the mock model says: deterministic replies (scripted first, else an
 * echo of the last user message), OpenAI-shaped bodies and stream chunks,
 * and token counts that depend only on the text.
 */
/** One message of a conversation flattened to text, whatever the dialect. */
export interface MockMessage {
  role: string;
  content: string;
  /** role 'tool': the call it answers. */
  toolCallId?: string;
  /** role 'assistant': the tool calls it made. */
  toolCalls?: { id: string; name: string }[];
}

/** A scripted reply: plain text (used once, in order), or a rule matched against the last user message. */
export type ScriptEntry = string | { contains: string; reply: string };

/** Tokens as a model would roughly count them: one per 4 characters, at least one per non-empty text. */
export function countTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

/** The text of the last user message ('' when there is none). */
export function lastUserText(messages: MockMessage[]): string {
  return [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
}

export class ReplyScript {
  private queue: string[] = [];
  private rules: { contains: string; reply: string }[] = [];

  set(entries: ScriptEntry[]): void {
    this.queue = entries.filter((e): e is string => typeof e === 'string');
    this.rules = entries.filter((e): e is { contains: string; reply: string } => typeof e === 'object' && e !== null);
  }

  clear(): void {
    this.queue = [];
    this.rules = [];
  }

  /** The scripted reply to a conversation, if any: a matching rule, else the next queued reply (consumed). */
  scripted(messages: MockMessage[]): string | undefined {
    const lastUser = lastUserText(messages);
    const rule = this.rules.find((r) => lastUser.includes(r.contains));
    if (rule) return rule.reply;
    return this.queue.shift();
  }

  /** The reply to a conversation: a matching rule, the next queued reply, or the echo. */
  reply(messages: MockMessage[]): string {
    return this.scripted(messages) ?? `echo: ${lastUserText(messages)}`;
  }
}

export function usageOf(messages: MockMessage[], reply: string) {
  const prompt = messages.reduce((n, m) => n + countTokens(String(m.content ?? '')), 0);
  const completion = countTokens(reply);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function completionBody(id: string, model: string, content: string, finishReason: string, usage: ReturnType<typeof usageOf>) {
  return {
    id,
    object: 'chat.completion',
    created: 0,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
    usage,
  };
}

export function chunkBody(id: string, model: string, delta: Record<string, unknown>, finishReason: string | null) {
  return { id, object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta, finish_reason: finishReason }] };
}

/** Splits a reply into stream pieces: one per word, keeping the spaces. */
export function streamPieces(content: string): string[] {
  const pieces = content.match(/\S+\s*|\s+/g) ?? [];
  return pieces.length ? pieces : [''];
}

/** Splits tool-call arguments (JSON text) into stream pieces of up to 8 characters. */
export function jsonPieces(json: string): string[] {
  return json.match(/[\s\S]{1,8}/g) ?? [''];
}

/** A streamed reply as SSE frames; a stream cut falls in the deltas. */
export interface StreamFrames {
  head: string[];
  deltas: string[];
  tail: string[];
}

/** One SSE frame: `data:` alone (OpenAI) or after an `event:` line (Anthropic). */
export function sseFrame(data: unknown, event?: string): string {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  return event ? `event: ${event}\ndata: ${text}\n\n` : `data: ${text}\n\n`;
}

/** Deterministic search results for the mock search tool. */
export function searchResults(query: string) {
  const q = query || 'nothing';
  return {
    query: q,
    results: [1, 2, 3].map((i) => ({ title: `Result ${i} for ${q}`, url: `https://example.invalid/${encodeURIComponent(q)}/${i}`, snippet: `Snippet ${i} about ${q}.` })),
  };
}
