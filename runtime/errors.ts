/**
 * One error class per failure a caller can act on. Each message says what
 * happened, to what, and what to do next. `type` survives serialization
 * across processes and the control channel.
 */
import { RpcErrorCode } from './protocol/rpc.ts';

export class FaultlineError extends Error {
  /** The JSON-RPC error code this maps to on the control channel. */
  readonly rpcCode: number = RpcErrorCode.Failed;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The config is invalid; `problems` each name a JSON path. */
export class ConfigError extends FaultlineError {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`Invalid config ${file || '(inline)'}:\n  ${problems.join('\n  ')}`);
  }
}

/** An ask got no reply in time. */
export class AgentTimeoutError extends FaultlineError {
  override readonly rpcCode = RpcErrorCode.Timeout;
  constructor(readonly agent: string, readonly timeoutMs: number) {
    super(`Agent "${agent}" did not reply within ${timeoutMs} ms; it may be busy, hung or restarting (check \`faultline status\`, or raise the timeout)`);
  }
}

/** No agent has that id. */
export class UnknownAgentError extends FaultlineError {
  override readonly rpcCode = RpcErrorCode.NotFound;
  constructor(readonly agent: string, known: string[]) {
    super(`No agent "${agent}" in this system (agents: ${known.join(', ') || 'none'})`);
  }
}

/** The agent is failed or stopped and will not take messages until restarted. */
export class AgentUnavailableError extends FaultlineError {
  override readonly rpcCode = RpcErrorCode.Unavailable;
  constructor(readonly agent: string, readonly state: string, detail?: string) {
    super(`Agent "${agent}" is ${state}${detail ? ` (${detail})` : ''}; restart it with \`faultline restart ${agent}\``);
  }
}

/** The agent runs on another node of the cluster (a request between nodes reached one that no longer runs it). */
export class AgentMovedError extends FaultlineError {
  override readonly rpcCode = RpcErrorCode.Unavailable;
  constructor(readonly agent: string, node: string) {
    super(`Agent "${agent}" does not run on node "${node}" (another node holds its subtree, or it is being taken over)`);
  }
}

/** A cluster node without the cluster's secret does not join. */
export class ClusterSecretError extends FaultlineError {
  constructor(missing: boolean) {
    super(
      missing
        ? 'This config runs as a cluster ("cluster" in the config), and FAULTLINE_CLUSTER_TOKEN is not set: set it to the cluster\'s shared secret (the same on every node, 16 characters or more) in the environment; a node without it does not join'
        : 'FAULTLINE_CLUSTER_TOKEN is too short: the cluster\'s secret must be 16 characters or more (e.g. `openssl rand -base64 32`)',
    );
  }
}

/** The agent's handler threw while handling a message; the error travels to the asker. */
export class AgentHandlerError extends FaultlineError {
  constructor(readonly agent: string, readonly causeType: string, causeMessage: string) {
    super(`Agent "${agent}" failed to handle the message: ${causeType}: ${causeMessage}`);
  }
}

/** The message crashed the agent on each of its deliveries and was set aside. */
export class MessageDeadLetteredError extends FaultlineError {
  constructor(readonly agent: string, readonly attempts: number) {
    super(`Agent "${agent}" crashed ${attempts} times handling this message; it was dead-lettered so the agent can go on`);
  }
}

/** The agent module cannot be loaded or does not export a valid agent. */
export class ModuleLoadError extends FaultlineError {
  constructor(readonly agent: string, readonly module: string, reason: string) {
    super(`Agent "${agent}" cannot load ${module}: ${reason}`);
  }
}

/** The runtime is shutting down and no longer takes requests. */
export class RuntimeStoppingError extends FaultlineError {
  override readonly rpcCode = RpcErrorCode.Unavailable;
  constructor() {
    super('The runtime is shutting down');
  }
}

/** A native module (better-sqlite3) was built for another Node ABI than the one running. */
export class NativeModuleError extends FaultlineError {
  constructor(readonly builtFor: string, readonly running: string) {
    super(`better-sqlite3 was built for another Node (ABI ${builtFor}; this is Node ${process.version}, ABI ${running}). Run Faultline with the node it was installed with, or rebuild it for this one: npm rebuild better-sqlite3`);
  }

  /** The clear error for a failed native load, or undefined when `e` is something else. */
  static from(e: unknown): NativeModuleError | undefined {
    const m = /NODE_MODULE_VERSION (\d+)[\s\S]*NODE_MODULE_VERSION (\d+)/.exec(String((e as Error)?.message ?? e));
    return m ? new NativeModuleError(m[1], m[2]) : undefined;
  }
}

/** A plain serializable form of an error, for IPC and JSON-RPC. */
export interface SerializedError { type: string; message: string; stack?: string; data?: Record<string, unknown> }

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) return { type: e.name || 'Error', message: e.message, stack: e.stack };
  return { type: 'Error', message: typeof e === 'string' ? e : JSON.stringify(e) ?? String(e) };
}
