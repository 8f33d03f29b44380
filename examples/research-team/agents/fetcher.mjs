// The fetcher returns a few deterministic "pages" for a query.
export default {
  init: () => ({ fetched: 0 }),
  async onMessage(msg, ctx) {
    ctx.state.fetched += 1;
    const q = String(msg.query ?? '');
    return [1, 2, 3].map((i) => ({ url: `local://${encodeURIComponent(q)}/${i}`, text: `${q} fact ${i}` }));
  },
};
