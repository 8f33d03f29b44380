// The writer turns notes into a short draft.
export default {
  version: 1,
  init: () => ({ drafts: 0 }),
  async onMessage(msg, ctx) {
    ctx.state.drafts += 1;
    await ctx.checkpoint();
    const text = `${msg.topic}: ${msg.notes?.summary ?? ''}`.trim();
    return { text, words: text.split(/\s+/).length, draft: ctx.state.drafts };
  },
};
