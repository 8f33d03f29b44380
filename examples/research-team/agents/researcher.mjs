// The researcher gathers notes on a topic through the fetcher and the summarizer.
export default {
  version: 1,
  init: () => ({ researched: 0 }),
  async onMessage(msg, ctx) {
    const pages = await ctx.ask('fetcher', { query: msg.topic }, { timeoutMs: 5000 });
    const summary = await ctx.ask('summarizer', { pages }, { timeoutMs: 5000 });
    ctx.state.researched += 1;
    await ctx.checkpoint();
    return { topic: msg.topic, summary, sources: pages.length };
  },
};
