/**
 * Server-sent events from a reply body, as both model dialects stream them:
 * `event:` and `data:` lines, an event ending at a blank line. An event whose
 * lines all arrived but not its blank line is delivered when the body ends
 * (the reader decides whether the stream was complete: a cut shows as a
 * missing end marker); a line cut in the middle is dropped.
 */
export interface SseEvent {
  /** The `event:` field (Anthropic names every event; OpenAI names none). */
  event?: string;
  /** The `data:` lines, joined with newlines. */
  data: string;
}

export async function* sseEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event: string | undefined;
  let data: string[] = [];
  const line = (l: string): SseEvent | undefined => {
    if (l === '') {
      const out = data.length ? { event, data: data.join('\n') } : undefined;
      event = undefined;
      data = [];
      return out;
    }
    if (l.startsWith(':')) return undefined;
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    const value = colon < 0 ? '' : l.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    return undefined;
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const l = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      const ev = line(l);
      if (ev) yield ev;
    }
  }
  // A line the body ended in the middle of was cut: only whole lines count.
  const last = line('');
  if (last) yield last;
}
