// The summarizer joins the pages' texts into one line.
export default {
  init: () => ({ summarized: 0 }),
  async onMessage(msg, ctx) {
    ctx.state.summarized += 1;
    return (msg.pages ?? []).map((p) => p.text).join('; ');
  },
};
