// The writer turns notes into a short draft through the "chat" model chain.
export default {
  version: 1,
  init: () => ({ drafts: 0 }),
  async onMessage(msg, ctx) {
    const reply = await ctx.model('chat').chat({ messages: [{ role: 'user', content: `Draft about ${msg.topic}: ${msg.notes?.summary ?? ''}` }] }, { point: 'draft' });
    ctx.state.drafts += 1;
    await ctx.checkpoint();
    return { text: reply.content, words: reply.content.split(/\s+/).length, model: reply.dependency, draft: ctx.state.drafts };
  },
};
