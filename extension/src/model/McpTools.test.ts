import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DependencyStatus } from '../../../runtime/protocol/status.ts';
import type { McpTool } from '../../../runtime/protocol/schema/mcp.ts';
import { McpTools, RETRY_MS } from './McpTools.ts';
import { dependencyItems } from './dependencyList.ts';

const echo: McpTool = { name: 'echo', description: 'Echoes back the input string', inputSchema: { type: 'object', properties: { message: { type: 'string', description: 'Message to echo' } }, required: ['message'] }, annotations: { readOnlyHint: true } };
const sum: McpTool = { name: 'get-sum', description: 'Returns the sum of two numbers', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } } };

const mcp = (id: string, server: Partial<NonNullable<DependencyStatus['server']>> = {}): DependencyStatus => ({
  id,
  kind: 'mcp',
  breaker: 'closed',
  errorRate: 0,
  server: { transport: 'stdio', state: 'running', pid: 100, restarts: 0, since: '2026-01-01T00:00:00.000Z', ...server },
});
const settle = () => new Promise((r) => setImmediate(r));

test('tools are read once per start of a running MCP server, through the tools method', async () => {
  const asked: string[] = [];
  const call = async (d: string) => (asked.push(d), { tools: [echo, sum] });
  const tools = new McpTools();
  let changes = 0;
  tools.onDidChange(() => changes++);
  const deps = [mcp('everything'), mcp('starting', { state: 'starting', pid: undefined }), { id: 'search', kind: 'http', breaker: 'closed', errorRate: 0 } as DependencyStatus];
  tools.sync(deps, call);
  tools.sync(deps, call);
  await settle();
  assert.deepEqual(asked, ['everything'], 'only running MCP servers, one request at a time');
  assert.deepEqual(tools.get('everything')?.tools?.map((t) => t.name), ['echo', 'get-sum']);
  assert.equal(changes, 1);
  tools.sync(deps, call);
  await settle();
  assert.deepEqual(asked, ['everything'], 'the same start of the server: no new request');
  tools.sync([mcp('everything', { pid: 101, restarts: 1 })], call);
  await settle();
  assert.deepEqual(asked, ['everything', 'everything'], 'restarted: read again');
  tools.sync(deps, undefined);
  assert.equal(tools.get('everything'), undefined, 'disconnected: forgotten');
  tools.dispose();
});

test('a failed read shows why and is tried again after a while; an answer for an old connection is dropped', async () => {
  let now = 0;
  let fail = true;
  const call = async () => {
    if (fail) throw new Error('Dependency "files" circuit breaker is open');
    return { tools: [echo] };
  };
  const tools = new McpTools(() => now);
  tools.sync([mcp('files')], call);
  await settle();
  assert.match(tools.get('files')!.error!, /breaker is open/);
  fail = false;
  tools.sync([mcp('files')], call);
  await settle();
  assert.ok(tools.get('files')!.error, 'not again at once');
  now += RETRY_MS;
  tools.sync([mcp('files')], call);
  await settle();
  assert.deepEqual(tools.get('files')!.tools?.map((t) => t.name), ['echo']);

  let release!: () => void;
  const slow = () => new Promise<{ tools: McpTool[] }>((r) => (release = () => r({ tools: [sum] })));
  tools.sync([mcp('files', { pid: 7 })], slow);
  tools.sync([mcp('files', { pid: 7 })], call);
  release();
  await settle();
  assert.deepEqual(tools.get('files')!.tools?.map((t) => t.name), ['echo'], 'the reply over the replaced connection is not used');
  tools.dispose();
});

test('the Dependencies view lists an MCP server\'s tools under it, folded, with their arguments', () => {
  const tools = new McpTools();
  (tools as unknown as { lists: Map<string, unknown> }).lists.set('everything', { generation: '100/0', list: { tools: [echo, sum] }, at: 0 });
  const [row, plain] = dependencyItems([mcp('everything'), { id: 'search', kind: 'http', breaker: 'closed', errorRate: 0 }], [], (d) => tools.get(d));
  assert.equal(row.description, 'closed · 0% errors · stdio pid 100');
  assert.match(row.contextValue, /\bmcp\b/);
  assert.match(row.contextValue, /\bmcpStdio\b/);
  assert.match(row.tooltip, /MCP server over stdio: \*\*running\*\*, pid 100, restarts 0/);
  assert.equal(row.collapsed, true);
  assert.deepEqual(row.children?.map((c) => [c.id, c.label, c.icon, c.contextValue]), [
    ['tool:everything:echo', 'echo', 'eye', 'mcpTool'],
    ['tool:everything:get-sum', 'get-sum', 'tools', 'mcpTool'],
  ]);
  assert.equal(row.children![0].description, 'Echoes back the input string');
  assert.match(row.children![0].tooltip, /\| `message` \* \| string \| Message to echo \|/);
  assert.match(row.children![0].tooltip, /ctx\.call\('everything', \{ tool: 'echo'/);
  assert.equal(plain.children, undefined, 'other dependencies have no children');

  const down = dependencyItems([mcp('files', { state: 'backoff', pid: undefined, lastError: { type: 'exited', message: 'the server process (pid 9) exited after 0 s', time: 't' } })], [], () => ({ error: 'Dependency "files" could not be reached' }))[0];
  assert.equal(down.description, 'closed · 0% errors · server backoff');
  assert.match(down.tooltip, /last: the server process \\\(pid 9\\\) exited/);
  assert.deepEqual(down.children?.map((c) => [c.label, c.icon]), [['tools unavailable', 'warning']]);
  tools.dispose();
});
