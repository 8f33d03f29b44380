// The writer turns notes into a short draft through the "chat" model chain,
// streamed: each piece goes on to an asker that streams the reply
// (`faultline ask writer '{"topic":"otters"}' --stream`) as it arrives. A
// cut before the first token retries or falls back to the backup model; a
// cut after it fails the draft with the partial text (StreamInterruptedError).
export default {
  version: 1,
  init: () => ({ drafts: 0 }),
  async onMessage(msg, ctx) {
    let text = '';
    let model;
    const request = { messages: [{ role: 'user', content: `Draft about ${msg.topic}: ${msg.notes?.summary ?? ''}` }] };
    for await (const chunk of ctx.model('chat').stream(request, { point: 'draft' })) {
      if (chunk.done) model = chunk.dependency;
      else {
        text += chunk.delta;
        ctx.streamReply(chunk.delta);
      }
    }
    ctx.state.drafts += 1;
    await ctx.checkpoint();
    return { text, words: text.split(/\s+/).length, model, draft: ctx.state.drafts };
  },
};
