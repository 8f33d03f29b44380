// The indexer keeps an index of written topics, and notes each one in the
// "notes" MCP server (mcp/notes-server.mjs) through ctx.call. While that
// server is down its policy answers "unavailable" (degrade: skip) and the
// indexer goes on without it. It is transient: a normal exit
// (process.exit(0), say after {"retire": true}) is not restarted.
export default {
  init: () => ({ topics: {} }),
  async onMessage(msg, ctx) {
    if (msg?.retire) process.exit(0);
    let noted;
    if (msg?.topic) {
      ctx.state.topics[msg.topic] = msg.words ?? 0;
      const r = await ctx.call('notes', { tool: 'add_note', arguments: { topic: msg.topic, words: msg.words ?? 0 } }, { point: 'note' });
      if (r.unavailable) ctx.log.warn({ reason: r.reason }, `notes server unavailable; "${msg.topic}" indexed without a note`);
      else if (r.isError) ctx.log.warn({ error: r.content?.[0]?.text }, `the notes server refused "${msg.topic}"`);
      else noted = r.structuredContent?.topics;
      if (noted !== undefined) ctx.log.info({ topics: noted }, r.content?.[0]?.text ?? 'noted');
    }
    await ctx.checkpoint();
    return { indexed: Object.keys(ctx.state.topics).length, ...(noted !== undefined ? { noted } : {}) };
  },
};
