/**
 * Fault lenses on the call sites of an MCP dependency: `ctx.call(dep, { tool,
 * arguments })` is a call site like any other, so the lenses arm faults on
 * the dependency, at the point the agent host names for that line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findCallSites } from './callSites.ts';
import { LENS_ACTIONS, pointId, siteDependency } from './faultPoints.ts';

const agent = `export default {
  async onMessage(msg, ctx) {
    const tools = await ctx.tools('files');
    const page = await ctx.call('files', { tool: 'read_file', arguments: { path: msg.path } });
    const named = await ctx.call('files', {
      tool: 'write_file',
      arguments: { path: msg.path, content: page.content[0].text },
    }, { point: 'save' });
    if (named.isError) ctx.log.warn({ tools: tools.length }, 'write failed');
    return page;
  },
};`;

test('ctx.call sites of an MCP dependency get the lenses of any dependency, at the points the host names', () => {
  const sites = findCallSites(agent, '/w/agents/librarian.mjs');
  assert.deepEqual(sites.map((s) => [s.kind, s.line, s.name, s.point]), [
    ['call', 3, 'files', undefined],
    ['call', 4, 'files', 'save'],
  ], 'ctx.tools is not a call site: it lists, it does not call a tool');
  const points = sites.map((s) => pointId('/w/faultline.config.json', '/w/agents/librarian.mjs', s));
  // The host names a call site `file:line` (1-based, relative to the config), the line the call starts on.
  assert.deepEqual(points, ['agents/librarian.mjs:4', 'save']);
  for (const [i, site] of sites.entries()) {
    assert.equal(siteDependency(site, { chat: ['primary'] }), 'files');
    const armed = LENS_ACTIONS.filter((a) => a.action !== 'crash').map((a) => ({ fault: a.fault, target: siteDependency(site, undefined), params: { ...a.params, point: points[i] } }));
    assert.deepEqual(armed.map((a) => [a.fault, a.target, a.params.point]), [
      ['error', 'files', points[i]],
      ['latency', 'files', points[i]],
      ['blackhole', 'files', points[i]],
    ]);
  }
});
