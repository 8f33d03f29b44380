/**
 * MCP dependencies against real servers in real processes: the reference
 * "everything" server over stdio and over streamable HTTP, and the test
 * server (test/fixtures/mcp/test-server.mjs), whose tools count their calls,
 * answer with a tool error, hang and end the process. One runtime runs them
 * all; the tests go in order, as a user would try them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { cli, fixtures, repoRoot, up, workspace, type Running } from './helpers/runtime.ts';
import { freePort, waitForPort } from './helpers/servers.ts';
import { resolveConfig } from '../runtime/config/load.ts';
import { ConfigError } from '../runtime/errors.ts';
import type { DependencyStatus, RuntimeStatus } from '../runtime/protocol/status.ts';
import type { TracesResult } from '../runtime/protocol/schema/traces.ts';
import type { ToolsResult } from '../runtime/protocol/schema/mcp.ts';
import { findCallSites } from '../extension/src/codelens/callSites.ts';
import { LENS_ACTIONS, pointId, siteDependency } from '../extension/src/codelens/faultPoints.ts';

const everythingBin = path.join(repoRoot, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
const testServer = path.join(fixtures, 'mcp', 'test-server.mjs');
const caller = path.join(fixtures, 'mcp', 'caller.mjs');

type ToolResult = { content: { type: string; text?: string }[]; structuredContent?: Record<string, any>; isError?: boolean };
type Failed = { error: { name: string; message: string } };

const dep = (s: RuntimeStatus, id: string) => s.dependencies.find((d) => d.id === id) as DependencyStatus;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A server process the test runs itself (the streamable HTTP ones), on a loopback port. */
async function serve(args: string[], port: number): Promise<ChildProcess> {
  const p = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  p.stderr!.resume();
  await waitForPort(port, 15_000, () => p.exitCode === null);
  return p;
}

async function stopProcess(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await gone;
}

describe('MCP dependencies', () => {
  let rt: Running;
  let evPort: number;
  let thPort: number;
  let everythingHttp: ChildProcess | undefined;
  let testsHttp: ChildProcess | undefined;
  const pids = new Set<number>();

  const ask = (message: Record<string, unknown>, timeoutMs = 15_000) => rt.client.call('ask', { agent: 'caller', message, timeoutMs }, timeoutMs + 5000) as Promise<any>;
  const call = (dependency: string, request: unknown, timeoutMs?: number) => rt.client.call('call', { dependency, request, ...(timeoutMs ? { timeoutMs } : {}) }, 60_000) as Promise<ToolResult>;
  const calls = async (dependency: string) => (await call(dependency, { tool: 'calls' })).structuredContent as Record<string, number>;
  const running = (id: string, not?: number) => (s: RuntimeStatus) => {
    const sv = dep(s, id).server;
    return sv?.state === 'running' && sv.pid !== not;
  };

  before(async () => {
    [evPort, thPort] = [await freePort(), await freePort()];
    everythingHttp = await serve([path.join(fixtures, 'mcp', 'everything-http.mjs'), String(evPort)], evPort);
    testsHttp = await serve([testServer, '--http', String(thPort)], thPort);
    const ws = workspace({
      name: 'mcp',
      runtime: { spares: 0 },
      telemetry: { traces: 'none', logs: 'none', metrics: 'none' },
      dependencies: {
        everything: { kind: 'mcp', command: 'node', args: [everythingBin, 'stdio'], env: { FAULTLINE_MCP_TEST: 'passed' } },
        // Relative: the script beside the config, run in srv/.
        tests: { kind: 'mcp', command: 'node', args: ['./server.mjs'], cwd: 'srv', retry: { maxAttempts: 3, baseDelayMs: 100 }, timeoutMs: 5000 },
        hung: { kind: 'mcp', command: 'node', args: [testServer], retry: { maxAttempts: 1 }, timeoutMs: 300, breaker: { window: 3, minimumCalls: 3, failureRatio: 0.5, openMs: 600_000 }, degrade: 'cache' },
        once: { kind: 'mcp', command: 'node', args: [testServer], retry: { maxAttempts: 1 } },
        broken: { kind: 'mcp', command: 'node', args: ['./no-such-server.mjs'], retry: { maxAttempts: 2, baseDelayMs: 50 } },
        'everything-http': { kind: 'mcp', url: `http://127.0.0.1:${evPort}/mcp`, retry: { maxAttempts: 2, baseDelayMs: 100 } },
        'tests-http': { kind: 'mcp', url: `http://127.0.0.1:${thPort}/mcp`, retry: { maxAttempts: 6, baseDelayMs: 200 }, timeoutMs: 5000 },
      },
      supervisor: { id: 'root', children: [{ agent: { id: 'caller', module: 'agents/caller.mjs' } }] },
    });
    copyFileSync(caller, path.join(ws, 'agents', 'caller.mjs'));
    writeFileSync(path.join(ws, 'server.mjs'), `import ${JSON.stringify(testServer)};\n`);
    mkdirSync(path.join(ws, 'srv'));
    rt = await up(ws, [], { FAULTLINE_SECRET_FOR_TEST: 'not for the servers' });
    await rt.until((s) => ['everything', 'tests', 'hung', 'once', 'everything-http', 'tests-http'].every((id) => dep(s, id).server?.state === 'running') && s.tree.children.every((c) => c.state === 'running'), 'every MCP server running');
  });

  after(async () => {
    if (rt) for (const d of (await rt.status()).dependencies) if (d.server?.pid) pids.add(d.server.pid);
    await rt?.stop();
    // Stopping the runtime stops its stdio servers, by PID if need be.
    const until = Date.now() + 10_000;
    while ([...pids].some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    for (const p of pids) if (alive(p)) process.kill(p, 'SIGKILL');
    await Promise.all([stopProcess(everythingHttp), stopProcess(testsHttp)]);
    assert.deepEqual([...pids].filter(alive), [], 'no MCP server outlives the runtime');
  });

  test('tools are listed over stdio and streamable HTTP, by ctx.tools and by the tools method', async () => {
    const names = (await ask({ op: 'tools', dependency: 'everything' })) as string[];
    assert.ok(names.includes('echo') && names.includes('get-sum'), names.join(', '));
    const http = (await rt.client.call('tools', { dependency: 'everything-http' })) as ToolsResult;
    assert.equal(http.dependency, 'everything-http');
    const sum = http.tools.find((t) => t.name === 'get-sum');
    assert.ok(sum, 'get-sum over http');
    assert.deepEqual(Object.keys((sum.inputSchema as { properties: object }).properties).sort(), ['a', 'b']);
    const own = (await rt.client.call('tools', { dependency: 'tests' })) as ToolsResult;
    assert.deepEqual(own.tools.map((t) => t.name).sort(), ['calls', 'count', 'env', 'exit', 'fail', 'hang', 'pid']);
    await assert.rejects(rt.client.call('tools', { dependency: 'nope' }), /No dependency "nope"/);
  });

  test('calls are answered; a server gets a minimal environment plus its env, runs in its cwd, and its stderr is logged under its name', async () => {
    const echo = (await ask({ op: 'call', dependency: 'everything', tool: 'echo', arguments: { message: 'over stdio' } })) as ToolResult;
    assert.deepEqual(echo.content, [{ type: 'text', text: 'Echo: over stdio' }]);
    const sum = await call('everything-http', { tool: 'get-sum', arguments: { a: 2, b: 3 } });
    assert.match(sum.content[0].text!, /\b5\b/);

    const env = (await call('tests', { tool: 'env', arguments: { name: 'FAULTLINE_SECRET_FOR_TEST' } })).structuredContent!;
    assert.equal(env.value, null, "the runtime's environment is not passed on");
    assert.deepEqual(env.names.filter((n: string) => !['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER'].includes(n)), []);
    assert.equal(env.cwd, path.join(rt.dir, 'srv'), 'a relative cwd resolves against the config');
    const everythingEnv = JSON.parse((await call('everything', { tool: 'get-env' })).content[0].text!);
    assert.equal(everythingEnv.FAULTLINE_MCP_TEST, 'passed');
    assert.equal(everythingEnv.FAULTLINE_SECRET_FOR_TEST, undefined);

    const lines = readFileSync(path.join(rt.dir, '.faultline', 'logs', 'runtime.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.dependency === 'tests' && l.stream === 'stderr' && /test-server ready/.test(l.msg)), 'the stderr line, with the dependency');
    assert.ok(lines.some((l) => l.dependency === 'everything' && /MCP server everything running \(pid \d+\)/.test(l.msg)));
  });

  test('a stdio server killed by its PID is started again with backoff and answers again', async () => {
    const before = dep(await rt.status(), 'everything').server!;
    pids.add(before.pid!);
    process.kill(before.pid!, 'SIGKILL');
    const s = await rt.until(running('everything', before.pid), 'everything running again under a new pid');
    const after = dep(s, 'everything').server!;
    pids.add(after.pid!);
    assert.equal(after.restarts, before.restarts + 1);
    assert.match(after.lastError!.message, new RegExp(`pid ${before.pid}\\) exited`));
    const echo = await call('everything', { tool: 'echo', arguments: { message: 'again' } });
    assert.equal(echo.content[0].text, 'Echo: again');
    assert.match(readFileSync(path.join(rt.dir, '.faultline', 'logs', 'runtime.log'), 'utf8'), new RegExp(`MCP server everything \\(pid ${before.pid}\\) exited; starting it again in \\d+ ms`));
  });

  test('the kill-server fault does the same from the CLI; it takes only stdio MCP dependencies', async () => {
    const before = dep(await rt.status(), 'tests').server!;
    pids.add(before.pid!);
    const r = await cli(['inject', 'kill-server', 'tests'], rt.dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kill-server on tests \(fired on 1\)/);
    const s = await rt.until(running('tests', before.pid), 'tests running again');
    pids.add(dep(s, 'tests').server!.pid!);
    assert.equal(alive(before.pid!), false);
    assert.equal((await call('tests', { tool: 'pid' })).structuredContent!.pid, dep(s, 'tests').server!.pid);
    const bad = await cli(['inject', 'kill-server', 'everything-http'], rt.dir);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /No MCP server over stdio matches "everything-http"/);
  });

  test('a tool error is returned to the agent as the result: not retried, not held against the breaker, counted as a tool error', async () => {
    const r = (await ask({ op: 'call', dependency: 'tests', tool: 'fail', arguments: { why: 'on purpose' } })) as ToolResult;
    assert.equal(r.isError, true);
    assert.equal(r.content[0].text, 'failed: on purpose');
    assert.equal((await calls('tests')).fail, 1, 'the server saw one call');
    const d = dep(await rt.status(), 'tests');
    assert.equal(d.toolErrors, 1);
    assert.equal(d.breaker, 'closed');
    assert.equal(d.errorRate, 0);
    const metrics = await (await fetch(`http://127.0.0.1:${rt.port}/metrics`)).text();
    assert.match(metrics, /faultline_dependency_tool_errors_total\{dependency="tests",tool="fail"\} 1/);

    const traces = (await rt.client.call('traces', { agent: 'caller' })) as TracesResult;
    const spans = traces.traces.flatMap((t) => t.spans);
    const failSpan = spans.find((x) => x.name === 'execute_tool fail');
    assert.ok(failSpan, spans.map((x) => x.name).join(', '));
    assert.equal(failSpan.attributes['gen_ai.tool.name'], 'fail');
    assert.equal(failSpan.attributes['faultline.dependency'], 'tests');
    assert.equal(failSpan.status, 'error');
    assert.equal(failSpan.attributes['error.type'], 'tool_error');
    assert.ok(spans.some((x) => x.name === 'execute_tool echo' && x.attributes['gen_ai.tool.name'] === 'echo' && x.status !== 'error'));
  });

  test('a request without a tool is refused before the policy: InvalidCallError, nothing retried or counted', async () => {
    const before = dep(await rt.status(), 'tests').calls;
    const r = (await ask({ op: 'raw', dependency: 'tests', request: { arguments: {} } })) as Failed;
    assert.equal(r.error.name, 'InvalidCallError');
    assert.match(r.error.message, /needs "tool"/);
    await assert.rejects(call('tests', { tool: 'count', argumentz: {} }), /unknown field "argumentz"/);
    assert.equal(dep(await rt.status(), 'tests').calls, before);
  });

  test("an attempt's timeout cancels its MCP request, and the call is retried", async () => {
    await assert.rejects(call('tests', { tool: 'hang' }, 300), /failed 3 attempts; last: DependencyTimeoutError/);
    let seen: Record<string, number> = {};
    for (let i = 0; i < 40 && (seen.cancelled ?? 0) < 3; i++) {
      seen = await calls('tests');
      if ((seen.cancelled ?? 0) < 3) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(seen.hang, 3, 'three attempts reached the server');
    assert.equal(seen.cancelled, 3, 'each was cancelled by notifications/cancelled');
  });

  test('a hung server: attempts time out, the breaker opens, and degrade "cache" answers tools from the last list', async () => {
    // One listing that succeeds, two calls that time out: 2 of the window's 3 calls failed.
    assert.ok(((await rt.client.call('tools', { dependency: 'hung' })) as ToolsResult).tools.length > 0);
    for (let i = 0; i < 2; i++) {
      const r = (await ask({ op: 'call', dependency: 'hung', tool: 'hang' })) as Failed;
      assert.equal(r.error.name, 'RetriesExhaustedError');
      assert.match(r.error.message, /DependencyTimeoutError: Dependency "hung" did not answer within 300 ms/);
    }
    assert.equal(dep(await rt.status(), 'hung').breaker, 'open');
    const refused = (await ask({ op: 'call', dependency: 'hung', tool: 'hang' })) as Failed;
    assert.equal(refused.error.name, 'BreakerOpenError');
    const stale = (await rt.client.call('tools', { dependency: 'hung' })) as ToolsResult;
    assert.equal(stale.stale, true);
    assert.ok(stale.tools.some((t) => t.name === 'hang'));
  });

  test('a server that exits mid-call: the call fails as a transport failure, and the server is started again', async () => {
    const before = dep(await rt.status(), 'once').server!;
    pids.add(before.pid!);
    const r = (await ask({ op: 'call', dependency: 'once', tool: 'exit', arguments: { code: 3 } })) as Failed;
    assert.equal(r.error.name, 'RetriesExhaustedError');
    assert.match(r.error.message, /DependencyNetworkError.*connection-closed/);
    const s = await rt.until(running('once', before.pid), 'once running again');
    pids.add(dep(s, 'once').server!.pid!);
    assert.equal((await call('once', { tool: 'pid' })).structuredContent!.pid, dep(s, 'once').server!.pid);
  });

  test('a server that cannot start leaves the runtime up and its dependency down', async () => {
    const s = await rt.status();
    const sv = dep(s, 'broken').server!;
    assert.ok(sv.state === 'backoff' || sv.state === 'starting', sv.state);
    assert.ok(sv.restarts >= 1, 'it is tried again');
    assert.match(sv.lastError!.message, /exited before it completed the MCP handshake/);
    assert.equal((await fetch(`http://127.0.0.1:${rt.port}/readyz`)).status, 200);
    const r = (await ask({ op: 'call', dependency: 'broken', tool: 'anything' })) as Failed;
    assert.equal(r.error.name, 'RetriesExhaustedError');
    assert.match(r.error.message, /not-running|did not start/);
  });

  test('streamable HTTP: after the server restarts, the next attempt opens a new connection', async () => {
    assert.equal((await call('tests-http', { tool: 'count' })).structuredContent!.count, 1);
    await stopProcess(testsHttp);
    // The server comes back while the call is being retried.
    const restarted = new Promise<ChildProcess>((resolve, reject) => setTimeout(() => serve([testServer, '--http', String(thPort)], thPort).then(resolve, reject), 300));
    const r = await call('tests-http', { tool: 'count' });
    testsHttp = await restarted;
    assert.equal(r.structuredContent!.count, 1, 'answered by the new server process');
    const d = dep(await rt.status(), 'tests-http');
    assert.equal(d.server!.state, 'running');
    assert.ok(d.server!.restarts >= 1, 'a reconnection');
    assert.ok(d.retries! >= 1);
  });

  test('dependency faults act on MCP calls at the policy layer, also at one call site', async () => {
    const count0 = (await calls('tests')).count ?? 0;
    const f = (await rt.client.call('inject', { fault: 'error', target: 'tests', params: { status: 503, point: 'lookup' } })) as { id: string };
    try {
      const r = (await ask({ op: 'call', dependency: 'tests', tool: 'count', point: 'lookup' })) as Failed;
      assert.equal(r.error.name, 'RetriesExhaustedError');
      assert.match(r.error.message, /HTTP 503 \(injected fault\)/);
      const other = (await ask({ op: 'call', dependency: 'tests', tool: 'count' })) as ToolResult;
      assert.equal(other.structuredContent!.count, count0 + 1, 'another call site is not affected, and the faulted one never reached the server');
    } finally {
      await rt.client.call('clearFault', { id: f.id });
    }
    const retries0 = dep(await rt.status(), 'tests').retries!;
    await rt.client.call('inject', { fault: 'timeout', target: 'tests', params: { count: 1 } });
    assert.equal((await call('tests', { tool: 'count' }, 300)).structuredContent!.count, count0 + 2, 'the retry after the injected timeout answers');
    assert.equal(dep(await rt.status(), 'tests').retries, retries0 + 1);
    const b = (await rt.client.call('inject', { fault: 'blackhole', target: 'everything-http' })) as { id: string };
    try {
      await assert.rejects(call('everything-http', { tool: 'echo', arguments: { message: 'x' } }), /ECONNREFUSED/);
    } finally {
      await rt.client.call('clearFault', { id: b.id });
    }
  });

  test("the editor's fault lens at a ctx.call site of an MCP dependency arms a fault that fires there", async () => {
    const file = path.join(rt.dir, 'agents', 'caller.mjs');
    const site = findCallSites(readFileSync(file, 'utf8'), file).find((x) => x.kind === 'call' && x.name === 'tests')!;
    assert.ok(site, 'the lens finds the call site');
    const point = pointId(path.join(rt.dir, 'faultline.config.json'), file, site);
    assert.match(point, /^agents\/caller\.mjs:\d+$/);
    const fail = LENS_ACTIONS.find((a) => a.action === 'fail')!;
    const { id } = (await rt.client.call('inject', { fault: fail.fault, target: siteDependency(site, {})!, params: { ...fail.params, point } })) as { id: string };
    try {
      const r = (await ask({ op: 'lens' })) as Failed;
      assert.equal(r.error?.name, 'RetriesExhaustedError', JSON.stringify(r));
      assert.match(r.error.message, /HTTP 503 \(injected fault\)/);
      const elsewhere = (await ask({ op: 'call', dependency: 'tests', tool: 'count' })) as ToolResult;
      assert.equal(elsewhere.isError, undefined, 'another site of the same dependency is not faulted');
    } finally {
      await rt.client.call('clearFault', { id });
    }
    assert.ok(((await ask({ op: 'lens' })) as ToolResult).structuredContent!.count > 0);
  });

  test('the status, tools and call results match the protocol document the build wrote', async () => {
    const doc = JSON.parse(readFileSync(path.join(repoRoot, 'dist', 'faultline.protocol.schema.json'), 'utf8'));
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const check = (what: string, schema: object, value: unknown) => {
      const v = ajv.compile(schema);
      assert.ok(v(value), `${what}: ${ajv.errorsText(v.errors)}`);
    };
    check('status', doc.status, await rt.status());
    check('tools', doc.methods.tools.result, await rt.client.call('tools', { dependency: 'everything' }));
    check('tools (stale)', doc.methods.tools.result, await rt.client.call('tools', { dependency: 'hung' }));
    check('call params', doc.methods.call.params, { dependency: 'tests', request: { tool: 'count' }, timeoutMs: 1000 });
  });

  test('a message delivered again after a crash gets the journaled MCP result: the tool is not called twice', async () => {
    const count0 = (await calls('tests')).count ?? 0;
    const marker = path.join(rt.dir, 'died-once');
    const r = (await ask({ op: 'call-then-die', dependency: 'tests', tool: 'count', marker }, 30_000)) as ToolResult;
    assert.equal(r.structuredContent!.count, count0 + 1);
    assert.equal((await calls('tests')).count, count0 + 1, 'the replay took the journaled result');
  });

  test('faultline tools prints a table (or JSON); faultline call prints the result as JSON and fails with the error', async () => {
    const table = await cli(['tools', 'everything'], rt.dir);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^TOOL\s+DESCRIPTION\s+ARGUMENTS$/m);
    assert.match(table.stdout, /^get-sum\s+Returns the sum of two numbers\s+a\*, b\*$/m);
    const json = await cli(['tools', 'everything-http', '--json'], rt.dir);
    assert.equal(json.code, 0, json.stderr);
    assert.ok((JSON.parse(json.stdout) as ToolsResult).tools.some((t) => t.name === 'echo'));

    const ok = await cli(['call', 'everything', '{"tool":"echo","arguments":{"message":"from the CLI"}}'], rt.dir);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).content[0].text, 'Echo: from the CLI');
    const toolError = await cli(['call', 'tests', '{"tool":"fail"}'], rt.dir);
    assert.equal(toolError.code, 1);
    assert.equal(JSON.parse(toolError.stdout).isError, true);
    assert.match(toolError.stderr, /the tool reported an error/);
    const noTool = await cli(['call', 'tests', '{"arguments":{}}'], rt.dir);
    assert.equal(noTool.code, 2);
    assert.match(noTool.stderr, /needs "tool"/);
    const unknown = await cli(['call', 'nope', '{}'], rt.dir);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No dependency "nope"/);
    const down = await cli(['tools', 'broken'], rt.dir);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /faultline tools: .*"broken"/);
    assert.equal((await cli(['call', 'tests', 'not json'], rt.dir)).code, 2);
    const help = await cli(['--help'], rt.dir);
    assert.match(help.stdout, /tools <dependency> \[--json\]/);
    assert.match(help.stdout, /call <dependency> <json>/);
    assert.match((await cli(['call', '--help'], rt.dir)).stdout, /Usage: faultline call <dependency> <json>/);
    const status = await cli(['status'], rt.dir);
    assert.match(status.stdout, /dependency everything\s+breaker closed\s+errors \d+\.\d%\s+mcp stdio running pid \d+/);
  });
});

describe('MCP config', () => {
  const base = (d: Record<string, unknown>) => ({ name: 'x', dependencies: { tools: d }, supervisor: { id: 'root', children: [] } });
  const problems = (d: Record<string, unknown>): string[] => {
    try {
      resolveConfig(base(d), '/tmp/faultline.config.json');
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      return e.problems;
    }
    return [];
  };

  test('exactly one of command and url; stdio fields only with a command; each problem names its JSON path', async () => {
    assert.deepEqual(problems({ kind: 'mcp', command: 'node', args: ['s.mjs'], env: { A: 'b' }, cwd: 'srv', retry: { maxAttempts: 2 }, breaker: { window: 5 }, timeoutMs: 1000, degrade: 'skip' }), []);
    assert.deepEqual(problems({ kind: 'mcp', url: 'http://127.0.0.1:3001/mcp', headers: { 'x-team': 'a' } }), []);
    assert.match(problems({ kind: 'mcp' })[0], /^\$\.dependencies\.tools\.command: an "mcp" dependency needs a command \(stdio\) or a url \(streamable HTTP\)$/);
    assert.match(problems({ kind: 'mcp', command: 'node', url: 'http://127.0.0.1:1/mcp' })[0], /^\$\.dependencies\.tools\.url: .*not both$/);
    assert.match(problems({ kind: 'mcp', url: 'http://127.0.0.1:1/mcp', args: ['x'] })[0], /^\$\.dependencies\.tools\.args: "args" is for an "mcp" server over stdio: set "command"$/);
    assert.match(problems({ kind: 'http', url: 'http://127.0.0.1:1', command: 'node' })[0], /^\$\.dependencies\.tools\.command: "command" is only for "mcp" dependencies$/);
    assert.match(problems({ kind: 'mcp', command: 'node', env: { A: 1 } })[0], /^\$\.dependencies\.tools\.env\.A: /);
    assert.match(problems({ kind: 'mcp', command: 'node', args: 'server.mjs' })[0], /^\$\.dependencies\.tools\.args: /);

    const ws = workspace(base({ kind: 'mcp', command: 'node', url: 'http://127.0.0.1:1/mcp' }));
    try {
      const r = await cli(['up'], ws);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /faultline\.config\.json/);
      assert.match(r.stderr, /\$\.dependencies\.tools\.url: an "mcp" dependency takes a command \(stdio\) or a url \(streamable HTTP\), not both/);
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });
});
