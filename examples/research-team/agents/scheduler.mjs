// The scheduler keeps the system busy: every few seconds it asks the planner
// for a new topic, so the live tree shows work, mailboxes and restarts.
const TOPICS = ['supervision trees', 'circuit breakers', 'checkpoints', 'backoff with jitter', 'fallback chains'];

export default {
  version: 1,
  init: () => ({ asked: 0, answered: 0, failed: 0 }),
  onStart(ctx) {
    const everyMs = Number(ctx.options.everyMs ?? 3000);
    const timer = setInterval(async () => {
      const topic = TOPICS[ctx.state.asked % TOPICS.length];
      ctx.state.asked += 1;
      try {
        await ctx.ask('planner', { topic }, { timeoutMs: 15000 });
        ctx.state.answered += 1;
      } catch (e) {
        ctx.state.failed += 1;
        ctx.log.warn({ err: e, topic }, 'planner did not answer');
      }
      await ctx.checkpoint().catch(() => {});
    }, everyMs);
    ctx.signal.addEventListener('abort', () => clearInterval(timer));
  },
  onMessage(msg, ctx) {
    return { ...ctx.state };
  },
};
