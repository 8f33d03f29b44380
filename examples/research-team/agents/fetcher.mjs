// The fetcher searches through the "search" tool; while search is down its
// policy serves the last good result for the same query (degrade: cache).
export default {
  init: () => ({ fetched: 0 }),
  async onMessage(msg, ctx) {
    ctx.state.fetched += 1;
    const q = String(msg.query ?? '');
    const found = await ctx.call('search', { query: q }, { point: 'search' });
    if (found?.unavailable) return [];
    return (found.results ?? []).map((r) => ({ url: r.url, text: r.snippet, stale: !!found.stale }));
  },
};
