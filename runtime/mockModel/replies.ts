/**
 * What the mock model says: deterministic replies (scripted first, else an
 * echo of the last user message), OpenAI-shaped bodies and stream chunks,
 * and token counts that depend only on the text.
 */
export interface MockMessage { role: string; content: string }

/** A scripted reply: plain text (used once, in order), or a rule matched against the last user message. */
export type ScriptEntry = string | { contains: string; reply: string };

/** Tokens as a model would roughly count them: one per 4 characters, at least one per non-empty text. */
export function countTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
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

  /** The reply to a conversation: a matching rule, the next queued reply, or the echo. */
  reply(messages: MockMessage[]): string {
    const lastUser = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const rule = this.rules.find((r) => lastUser.includes(r.contains));
    if (rule) return rule.reply;
    const next = this.queue.shift();
    return next ?? `echo: ${lastUser}`;
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

/** Deterministic search results for the mock search tool. */
export function searchResults(query: string) {
  const q = query || 'nothing';
  return {
    query: q,
    results: [1, 2, 3].map((i) => ({ title: `Result ${i} for ${q}`, url: `https://example.invalid/${encodeURIComponent(q)}/${i}`, snippet: `Snippet ${i} about ${q}.` })),
  };
}
