// The indexer keeps an index of written topics. It is transient: a normal
// exit (process.exit(0), say after {"retire": true}) is not restarted.
export default {
  init: () => ({ topics: {} }),
  async onMessage(msg, ctx) {
    if (msg?.retire) process.exit(0);
    if (msg?.topic) ctx.state.topics[msg.topic] = msg.words ?? 0;
    await ctx.checkpoint();
    return { indexed: Object.keys(ctx.state.topics).length };
  },
};
