/**
 * Which agent "Inject Fault into Paused Agent…" is about, from the arguments
 * VS Code hands the command. In VS Code 1.139 (code-server's workbench,
 * callStackView.ts) a `debug/callstack/context` item runs with two arguments:
 *   1. the element's "arg": a stack frame's source URI as a string
 *      (`file:///…/agents/planner.mjs`), a thread's numeric id, or a
 *      session's id string;
 *   2. its context: `{ sessionId }`, plus `threadId` for a thread, plus
 *      `frameId`, `frameName` and `frameLocation` for a stack frame.
 * A `debug/toolbar` item runs with no arguments: the focused (active) debug
 * session is the one meant. Other callers may pass an agent id.
 */

/** The second argument of a Call Stack context-menu command. */
export interface CallStackContext {
  sessionId: string;
  threadId?: number;
  frameId?: number;
  frameName?: string;
  frameLocation?: { source?: { path?: string; name?: string } };
}

export interface PausedAgentLookup {
  /** The agent ids of the running system. */
  agents: string[];
  /** The agent a debug session (or one of its parents) was attached to, by session id. */
  agentOfSession(sessionId: string): string | undefined;
  /** The focused debug session's id (what the toolbar means). */
  activeSessionId?: string;
  /** The agent whose module is this file (a file:// URI or a path). */
  agentOfFile(fileOrUri: string): string | undefined;
}

export function isCallStackContext(x: unknown): x is CallStackContext {
  return !!x && typeof x === 'object' && typeof (x as CallStackContext).sessionId === 'string';
}

/**
 * The agent meant, and how it was found; undefined when nothing names one
 * (the command then asks).
 */
export function pausedAgent(args: unknown[], l: PausedAgentLookup): { agent: string; via: 'id' | 'session' | 'frame' | 'active' } | undefined {
  const [first] = args;
  if (typeof first === 'string' && l.agents.includes(first)) return { agent: first, via: 'id' };
  const context = args.find(isCallStackContext);
  if (context) {
    const a = l.agentOfSession(context.sessionId);
    if (a) return { agent: a, via: 'session' };
    // A session we did not start (launched by hand against an agent's inspector): the frame's file still names the agent.
    const file = typeof first === 'string' ? first : context.frameLocation?.source?.path;
    const byFile = file ? l.agentOfFile(file) : undefined;
    if (byFile) return { agent: byFile, via: 'frame' };
    return undefined;
  }
  if (typeof first === 'string') {
    const a = l.agentOfSession(first) ?? l.agentOfFile(first);
    if (a) return { agent: a, via: 'frame' };
  }
  const active = l.activeSessionId && l.agentOfSession(l.activeSessionId);
  return active ? { agent: active, via: 'active' } : undefined;
}
