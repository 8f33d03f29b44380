// The planner takes a topic, has the crew research and write it up, and
// keeps a count of the topics it has planned (checkpointed, so a restart
// does not lose it).
export default {
  version: 1,
  init: () => ({ planned: 0, recent: [] }),
  async onMessage(msg, ctx) {
    const topic = typeof msg === 'string' ? msg : msg?.topic;
    if (!topic) return { error: 'send {"topic": "..."}' };
    const notes = await ctx.ask('researcher', { topic }, { timeoutMs: 10000 });
    const draft = await ctx.ask('writer', { topic, notes }, { timeoutMs: 10000 });
    await ctx.send('indexer', { topic, words: draft.words });
    ctx.state.planned += 1;
    ctx.state.recent = [topic, ...ctx.state.recent].slice(0, 5);
    await ctx.checkpoint();
    return { topic, planned: ctx.state.planned, draft };
  },
};
