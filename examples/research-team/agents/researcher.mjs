// The researcher gathers pages through the fetcher and the summarizer, then
// asks the "chat" model chain (primary, else backup) for research notes.
export default {
  version: 1,
  init: () => ({ researched: 0 }),
  async onMessage(msg, ctx) {
    const pages = await ctx.ask('fetcher', { query: msg.topic }, { timeoutMs: 5000 });
    const summary = await ctx.ask('summarizer', { pages }, { timeoutMs: 5000 });
    const reply = await ctx.model('chat').chat(
      { messages: [{ role: 'system', content: 'You write research notes.' }, { role: 'user', content: `Notes on ${msg.topic}: ${summary}` }] },
      { point: 'notes' },
    );
    ctx.state.researched += 1;
    await ctx.checkpoint();
    return { topic: msg.topic, summary: reply.content, model: reply.dependency, sources: pages.length };
  },
};
