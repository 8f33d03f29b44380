// A counter that checkpoints every message: whichever node runs it next goes
// on from the last count it acknowledged.
export default {
  version: 1,
  init: () => ({ count: 0 }),
  async onMessage(msg, ctx) {
    ctx.state.count += 1;
    await ctx.checkpoint();
    return { agent: ctx.id, count: ctx.state.count, seen: msg?.n ?? null };
  },
};
