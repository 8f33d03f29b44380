import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findCallSites } from './callSites.ts';
import { pointId, siteDependency } from './faultPoints.ts';

const js = `export default {
  async onMessage(msg, ctx) {
    // ctx.call('not-a-call') in a comment
    const s = "ctx.call('nor in a string')";
    const page = await ctx.call('search', { q: msg.q });
    const named = await ctx.call('search', {}, { point: 'lookup' });
    const reply = await ctx.model('chat').chat({ messages: [] }, { point: 'draft' });
    other.call('x');
    return ctx.model(\`chat\`);
  },
};`;

test('finds ctx.call and ctx.model sites by parsing, not by text', () => {
  const sites = findCallSites(js, 'agents/a.mjs');
  assert.deepEqual(sites.map((s) => [s.kind, s.line, s.name, s.point]), [
    ['call', 4, 'search', undefined],
    ['call', 5, 'search', 'lookup'],
    ['model', 6, 'chat', 'draft'],
    ['model', 8, 'chat', undefined],
  ]);
});

test('parses TypeScript agents and tolerates code mid-edit', () => {
  const ts = `import type { AgentContext } from 'faultline';\nexport default { async onMessage(msg: unknown, ctx: AgentContext): Promise<string> { return (await ctx.call<string>('search', msg as object)) as string; } };`;
  assert.equal(findCallSites(ts, 'a.ts').length, 1);
  assert.deepEqual(findCallSites('export default { onMessage(m, ctx) { ctx.call(', 'b.mjs'), []);
});

test('points: the explicit name, else file:line relative to the config', () => {
  assert.equal(pointId('/w/faultline.config.json', '/w/agents/a.mjs', { line: 4 }), 'agents/a.mjs:5');
  assert.equal(pointId('/w/faultline.config.json', '/w/agents/a.mjs', { line: 4, point: 'lookup' }), 'lookup');
  assert.equal(siteDependency({ kind: 'model', line: 0, column: 0, endLine: 0, name: 'chat' }, { chat: ['primary', 'backup'] }), 'primary');
  assert.equal(siteDependency({ kind: 'call', line: 0, column: 0, endLine: 0, name: 'search' }, undefined), 'search');
});
