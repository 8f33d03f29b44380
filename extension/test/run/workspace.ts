/** Test-workspace tweaks: one more agent that calls a dependency by a named point (the CodeLens and dependency-fault tests aim there). */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const CALLER = `// Calls the search dependency: the CodeLens and dependency-fault tests aim here.
export default {
  async onMessage(msg, ctx) {
    const q = String(msg?.q ?? 'otp');
    return await ctx.call('search', { path: '/search', query: { q } }, { point: 'lookup' });
  },
};
`;

export function addCallerAgent(ws: string): void {
  const file = path.join(ws, 'faultline.config.json');
  const c = JSON.parse(readFileSync(file, 'utf8'));
  delete c.$schema;
  // The example's own search (a mock the runtime serves) when it has one: agents depend on it.
  c.dependencies = { search: { kind: 'http', url: 'http://127.0.0.1:9' }, ...c.dependencies };
  c.supervisor.children.push({ agent: { id: 'caller', module: 'agents/caller.mjs' } });
  writeFileSync(file, JSON.stringify(c, null, 2) + '\n');
  writeFileSync(path.join(ws, 'agents', 'caller.mjs'), CALLER);
}
