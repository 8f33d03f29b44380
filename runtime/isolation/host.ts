/**
 * The agent host: the entry point of every agent process (and worker
 * thread). It boots empty, announces itself as a spare, then loads one agent
 * module when told to, restores its state and handles its messages one at a
 * time. Kept free of heavy imports: every restart pays for what loads here.
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import type { AgentDefinition, AgentContext, AgentLogger, ChatChunk, ChatReply, ChatRequest } from '../sdk.ts';
import type { AgentLoadSpec, FromHost, HostOp, RestoredState, ToHost } from './hostProtocol.ts';
import { ModuleLoadError, serializeError, type SerializedError } from '../errors.ts';
import { CheckpointVersionError, StateNotSerializableError } from '../state/errors.ts';
import { planRestore } from '../state/restorePlan.ts';
import { WaitTimeoutError } from '../waits/WaitTimeoutError.ts';
import { needsSummary, summarizeHistory, truncateHistory } from '../state/summarize.ts';

type Send = (m: FromHost) => void;

const port = isMainThread ? null : parentPort;
const send: Send = port ? (m) => port.postMessage(m) : (m) => { if (process.connected) process.send!(m); };
const onMessage = (fn: (m: ToHost) => void) => (port ? port.on('message', fn) : process.on('message', fn as (m: unknown) => void));

let agent: AgentDefinition | null = null;
let spec: AgentLoadSpec | null = null;
let ctx: AgentContext | null = null;
let stopping = false;
let hbTimer: NodeJS.Timeout | undefined;
const abort = new AbortController();
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let nextReq = 1;
const queue: Extract<ToHost, { t: 'msg' }>[] = [];
/** Whether the message being handled is an ask whose asker takes the reply streamed. */
let replyStreams = false;
let busy = false;
/** JSON of the state as last stored: an unchanged state is not written again. */
let storedJson: string | undefined;
let hung = false;
let resumeHung: (() => void) | undefined;
const hog: unknown[] = [];

function rebuild(e: SerializedError): Error {
  const err = new Error(e.message);
  err.name = e.type;
  if (typeof e.data?.partial === 'string') Object.assign(err, { partial: e.data.partial, dependency: e.data.dependency });
  return err;
}

/** Model streams in flight: their chunks as they arrive, until the agent takes them. */
interface OpenStream { chunks: ChatChunk[]; error?: Error; ended: boolean; wake?: () => void; abandoned: boolean }
const streams = new Map<number, OpenStream>();

/** `ctx.model(chain).stream()`: the request goes at once; each chunk is acknowledged as the agent takes it. */
function modelStream(chain: string, req: ChatRequest, o: { point?: string; timeoutMs?: number } | undefined): AsyncIterable<ChatChunk> {
  const site = callSite();
  const id = nextReq++;
  const s: OpenStream = { chunks: [], ended: false, abandoned: false };
  streams.set(id, s);
  const settled = new Promise<unknown>((resolve, reject) => pending.set(id, { resolve, reject }));
  settled.then(
    (v) => {
      const r = v as ChatReply;
      const done: ChatChunk = { done: true, model: r.model, dependency: r.dependency };
      if (r.usage) done.usage = r.usage;
      if (r.finish_reason) done.finish_reason = r.finish_reason;
      if (r.tool_calls) done.tool_calls = r.tool_calls;
      s.chunks.push(done);
    },
    (e: Error) => { s.error = e; },
  ).finally(() => {
    s.ended = true;
    streams.delete(id);
    s.wake?.();
  });
  send({ t: 'req', id, op: 'stream', args: { chain, request: req, point: o?.point ?? site, site, timeoutMs: o?.timeoutMs } });
  let taken = false;
  return {
    [Symbol.asyncIterator]() {
      if (taken) throw new TypeError('a model stream can be iterated once');
      taken = true;
      return {
        async next(): Promise<IteratorResult<ChatChunk>> {
          for (;;) {
            const c = s.chunks.shift();
            if (c) {
              if (!c.done) send({ t: 'ack', id });
              else if (spec?.checkpoint === 'call' && ctx) await ctx.checkpoint();
              return { value: c, done: false };
            }
            if (s.error) throw s.error;
            if (s.ended) return { value: undefined, done: true };
            await new Promise<void>((r) => (s.wake = r));
            s.wake = undefined;
          }
        },
        async return(): Promise<IteratorResult<ChatChunk>> {
          // The agent stopped reading: chunks still coming are acknowledged and dropped.
          s.abandoned = true;
          for (const c of s.chunks.splice(0)) if (!c.done) send({ t: 'ack', id });
          return { value: undefined, done: true };
        },
      };
    },
  };
}

function request(op: HostOp, args: unknown): Promise<any> {
  const id = nextReq++;
  return new Promise<any>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    send({ t: 'req', id, op, args });
  });
}

const hostFile = fileURLToPath(import.meta.url);
/**
 * Faultline's own modules (the bundle's directory, or the sources' runtime/):
 * a call made through one of them, the AI SDK provider say, is located at
 * the agent's line that called it, also when the package is linked rather
 * than installed under node_modules.
 */
const ownDir = path.dirname(hostFile) + path.sep;
const ownSources = hostFile.endsWith(`${path.sep}isolation${path.sep}host.ts`) ? path.dirname(path.dirname(hostFile)) + path.sep : ownDir;

/**
 * Where in the agent's code a ctx.call / ctx.model was made, as
 * `agents/x.mjs:12` (relative to the config's directory, 1-based line): the
 * fault point a call site has when the code names none.
 */
function callSite(): string | undefined {
  if (!spec) return undefined;
  const lines = (new Error().stack ?? '').split('\n');
  for (let i = 2; i < lines.length; i++) {
    const m = /\(?((?:file:\/\/)?\/[^()]*?):(\d+):\d+\)?$/.exec(lines[i].trim());
    if (!m) continue;
    const file = m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1];
    if (file.startsWith(ownSources) || file.includes('/node_modules/')) continue;
    return `${path.relative(spec.baseDir, file).split(path.sep).join('/')}:${m[2]}`;
  }
  return undefined;
}

function makeLogger(bindings: Record<string, unknown>): AgentLogger {
  const at = (level: string) => (obj: unknown, msg?: string) => {
    if (typeof obj === 'string') send({ t: 'log', level, msg: obj, fields: bindings });
    else if (obj instanceof Error) send({ t: 'log', level, msg: msg ?? obj.message, fields: { ...bindings, err: serializeError(obj) } });
    else send({ t: 'log', level, msg: msg ?? '', fields: { ...bindings, ...(obj as Record<string, unknown>) } });
  };
  return { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal'), child: (b) => makeLogger({ ...bindings, ...b }) };
}

function makeContext(s: AgentLoadSpec, version: number): AgentContext {
  let log: AgentLogger | undefined;
  const c: AgentContext = {
    id: s.id,
    state: undefined,
    options: s.options,
    checkpoint: () => {
      let json: string;
      try {
        json = JSON.stringify(c.state ?? null);
      } catch (e) {
        return Promise.reject(new StateNotSerializableError(s.id, (e as Error).message));
      }
      // The text goes as it is: the runtime stores it without serializing the state again.
      return request('checkpoint', { json, version }).then(() => { storedJson = json; });
    },
    send: (to, message) => request('send', { agent: to, message }).then(() => undefined),
    ask: (to, message, o) => request('ask', { agent: to, message, timeoutMs: o?.timeoutMs }),
    model: (chain) => ({
      chat: (req, o) => {
        const site = callSite();
        return afterCall(request('model', { chain, request: req, point: o?.point ?? site, site, timeoutMs: o?.timeoutMs, http: o?.http }));
      },
      stream: (req, o) => modelStream(chain, req, o),
    }),
    call: (dep, req, o) => {
      const site = callSite();
      return afterCall(request('call', { dependency: dep, request: req, point: o?.point ?? site, site, timeoutMs: o?.timeoutMs, http: o?.http }));
    },
    tools: (dep, o) => {
      const site = callSite();
      return request('tools', { dependency: dep, point: o?.point ?? site, timeoutMs: o?.timeoutMs });
    },
    health: (dep) => request('health', { dependency: dep }),
    streamReply: (delta) => {
      if (replyStreams && typeof delta === 'string' && delta) send({ t: 'reply', delta });
    },
    waitFor: (name, o) => {
      if (typeof name !== 'string' || !name) return Promise.reject(new TypeError('ctx.waitFor(name): name must be a non-empty string'));
      const timeoutMs = o?.timeoutMs;
      if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0 && Number.isFinite(timeoutMs))) return Promise.reject(new TypeError('ctx.waitFor(): timeoutMs must be a positive number of milliseconds'));
      return request('wait', { name, timeoutMs }).catch((e: Error) => {
        // The agent's own class, so that `instanceof WaitTimeoutError` holds in its code.
        throw e.name === 'WaitTimeoutError' ? Object.assign(new WaitTimeoutError(s.id, name, timeoutMs ?? 0), { message: e.message }) : e;
      });
    },
    get log() { return (log ??= makeLogger({})); },
    signal: abort.signal,
  };
  return c;
}

/** With `checkpoint: "call"`, the state is stored after each dependency reply. */
async function afterCall<T>(reply: Promise<T>): Promise<T> {
  const value = await reply;
  if (spec?.checkpoint === 'call' && ctx) await ctx.checkpoint();
  return value;
}

type Stored = { json: string; kind: 'full' | 'summary' } | undefined;

/**
 * The state to store with a handled message's acknowledgement, summarized
 * when it grew too large; undefined when unchanged. Synchronous unless it
 * has to be summarized: it runs after every message.
 */
function stateToStore(): Stored | Promise<Stored> {
  if (!ctx || spec?.checkpoint === 'manual') return undefined;
  const json = JSON.stringify(ctx.state ?? null);
  // Unchanged since it was stored (and compacted then): nothing to write.
  if (json === storedJson) return undefined;
  if (needsSummary(ctx.state, spec?.summarize, json.length)) return summarized();
  storedJson = json;
  return { json, kind: 'full' };
}

async function summarized(): Promise<Stored> {
  ctx!.state = await compacted(ctx!.state);
  const json = JSON.stringify(ctx!.state ?? null);
  if (json === storedJson) return undefined;
  storedJson = json;
  return { json, kind: 'summary' };
}

/**
 * A state past its thresholds, compacted: by the module's `summarize`, else
 * by the model the config names for summaries, else (or when that model
 * fails) by a marked truncation.
 */
async function compacted(state: unknown): Promise<unknown> {
  const thresholds = spec?.summarize ?? {};
  if (agent?.summarize) return agent.summarize(state);
  const model = thresholds.model;
  if (!model) return truncateHistory(state, thresholds);
  try {
    return await summarizeHistory(state, thresholds, async (dropped, previous) => {
      const reply = (await request('model', { chain: model, request: summaryRequest(dropped, previous), point: 'faultline:summarize' })) as { content?: unknown };
      if (typeof reply?.content !== 'string' || !reply.content.trim()) throw new Error('the model returned no summary text');
      return reply.content.trim();
    });
  } catch (e) {
    send({ t: 'log', level: 'warn', msg: `summarizing ${spec?.id}'s history through "${model}" failed (${(e as Error).message}); truncating it instead`, fields: { model } });
    return truncateHistory(state, thresholds);
  }
}

/** What the summarizing model is asked: the earlier summary, then the entries dropped (the newest, when they are many). */
function summaryRequest(dropped: unknown[], previous: string | undefined) {
  let entries = dropped.map((e) => JSON.stringify(e)).join('\n');
  if (entries.length > SUMMARY_INPUT_CHARS) entries = entries.slice(-SUMMARY_INPUT_CHARS);
  return {
    messages: [
      { role: 'system' as const, content: "You compact an agent's history so its checkpoint stays small. Summarize the entries below in a few sentences: keep facts, decisions and open tasks. Reply with the summary only." },
      { role: 'user' as const, content: `${previous ? `Summary of what came before: ${previous}\n\n` : ''}Entries, oldest first:\n${entries}` },
    ],
  };
}

/** The most of the dropped entries sent to the summarizing model. */
const SUMMARY_INPUT_CHARS = 16_000;

function startHeartbeat(ms: number) {
  clearInterval(hbTimer);
  hbTimer = setInterval(() => { if (!hung) send({ t: 'hb' }); }, ms);
}

async function load(s: AgentLoadSpec, restored: RestoredState | null, crashOnStart?: boolean) {
  spec = s;
  startHeartbeat(s.heartbeatMs);
  if (crashOnStart) {
    // The crash-loop fault: die the way a module with a start-up bug would.
    process.stderr.write(`InjectedFault: ${s.id} crashes at start (crash-loop fault)\n`);
    return exitSoon(1);
  }
  let mod: any;
  // TypeScript agents run bundled: stack traces (and call-site fault points) map back to the sources.
  if (s.module.endsWith('.mjs') && s.module.includes(`${path.sep}.faultline${path.sep}build${path.sep}`)) process.setSourceMapsEnabled(true);
  try {
    mod = await import(pathToFileURL(s.module).href);
  } catch (e) {
    const err = serializeError(e);
    if ((e as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(s.module)) err.message = `module not found: ${s.module}`;
    return send({ t: 'loadError', error: err });
  }
  const def = mod?.default ?? mod;
  if (!def || typeof def !== 'object' || typeof def.onMessage !== 'function') {
    return send({ t: 'loadError', error: serializeError(new ModuleLoadError(s.id, s.module, 'it must default-export an agent object with an onMessage(message, ctx) function')) });
  }
  agent = def as AgentDefinition;
  const version = Number.isInteger(agent.version) ? agent.version! : 1;
  ctx = makeContext(s, version);
  try {
    if (restored) storedJson = JSON.stringify(restored.state ?? null);
    const plan = planRestore(s.id, restored, version);
    if (plan.action === 'use') ctx.state = plan.state;
    else if (plan.action === 'migrate') {
      if (typeof agent.migrate !== 'function') throw new CheckpointVersionError(s.id, plan.fromVersion, version);
      ctx.state = await agent.migrate(plan.state, plan.fromVersion);
    } else ctx.state = agent.init ? await agent.init(ctx) : {};
    if (agent.onStart) await agent.onStart(ctx);
  } catch (e) {
    return send({ t: 'loadError', error: serializeError(e) });
  }
  send({ t: 'ready', restored: !!restored, version });
  pump();
}

async function pump() {
  if (busy || !agent || !ctx || stopping) return;
  busy = true;
  while (queue.length && !stopping) {
    if (hung) await new Promise<void>((r) => (resumeHung = r));
    const m = queue.shift()!;
    try {
      replyStreams = m.stream === true;
      if (m.fault === 'crash') throw Object.assign(new Error('injected crash (crash fault)'), { name: 'InjectedFault' });
      // A handler that answers at once is not awaited: no extra turn per message.
      let value: unknown = agent.onMessage(m.message, ctx, { kind: m.kind, from: m.from });
      if (isThenable(value)) value = await value;
      let stored = stateToStore();
      if (stored instanceof Promise) stored = await stored;
      const done: Extract<FromHost, { t: 'done'; ok: true }> = { t: 'done', id: m.id, ok: true, value: value === undefined ? null : value };
      if (stored) {
        done.json = stored.json;
        done.kind = stored.kind;
      }
      send(done);
    } catch (e) {
      // Let it crash: the handler's state may be half-changed, so the asker gets
      // the error and the supervisor restarts the agent from its last checkpoint.
      send({ t: 'done', id: m.id, ok: false, error: serializeError(e), crash: true });
      exitSoon(1);
      return;
    }
  }
  busy = false;
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (typeof x === 'object' || typeof x === 'function') && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

function exitSoon(code: number) {
  stopping = true;
  clearInterval(hbTimer);
  // Let the IPC channel flush the last message before leaving.
  setImmediate(() => (port ? process.exit(code) : process.exit(code)));
}

async function stop() {
  if (stopping) return;
  stopping = true;
  abort.abort();
  try {
    if (agent?.onStop && ctx) await agent.onStop(ctx);
  } catch { /* stopping anyway */ }
  exitSoon(0);
}

onMessage((m: ToHost) => {
  switch (m.t) {
    case 'load':
      if (!spec) void load(m.agent, m.restored, m.crashOnStart);
      break;
    case 'msg':
      queue.push(m);
      void pump();
      break;
    case 'res': {
      const p = pending.get(m.id);
      if (!p) break;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else {
        // A crash fault aimed at this call site: the agent dies here, even if its code would catch the error.
        if (m.error.type === 'InjectedCrash') exitSoon(1);
        p.reject(rebuild(m.error));
      }
      break;
    }
    case 'chunk': {
      const s = streams.get(m.id);
      if (!s) break;
      if (s.abandoned) {
        send({ t: 'ack', id: m.id });
        break;
      }
      s.chunks.push({ delta: m.delta, model: m.model });
      s.wake?.();
      break;
    }
    case 'stop':
      void stop();
      break;
    case 'fault':
      if (m.fault === 'hang') hung = true;
      else if (m.fault === 'unhang') {
        hung = false;
        resumeHung?.();
        resumeHung = undefined;
      } else if (m.fault === 'memory') {
        // Grow by chunks until the heap limit ends the process (or the thread).
        const mb = Number(m.params?.stepMb ?? 16);
        const grow = () => { hog.push(new Array(mb * 131072).fill(hog.length)); setImmediate(grow); };
        grow();
      }
      break;
  }
});

if (!port) {
  // The runtime going away must not leave orphans behind.
  process.on('disconnect', () => process.exit(0));
}
send({ t: 'spare' });
