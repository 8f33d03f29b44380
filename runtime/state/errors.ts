/**
 * Failures of the durable state a caller can act on. Corrupt checkpoints are
 * not among them: `latest` falls back past those and reports them through
 * `onFallback` instead of throwing.
 */
import { FaultlineError } from '../errors.ts';
import { RpcErrorCode } from '../protocol/rpc.ts';

/** The state file was written by a newer Faultline; opening it could lose data. */
export class StateSchemaTooNewError extends FaultlineError {
  constructor(readonly file: string, readonly fileVersion: number, readonly supportedVersion: number) {
    super(
      `State file ${file} has schema version ${fileVersion}, but this Faultline supports up to ${supportedVersion}; ` +
        'upgrade Faultline, or point `checkpoints.path` at another file',
    );
  }
}

/**
 * An agent's checkpoint cannot be used by the module loaded: written by a
 * newer module `version`, or by an older one while the module has no `migrate`.
 */
export class CheckpointVersionError extends FaultlineError {
  constructor(readonly agent: string, readonly checkpointVersion: number, readonly moduleVersion: number) {
    super(
      checkpointVersion > moduleVersion
        ? `Agent "${agent}": checkpoint version ${checkpointVersion} is newer than the module's version ${moduleVersion}; ` +
            'run the newer module (its checkpoints are kept untouched) or remove the checkpoints'
        : `Agent "${agent}": checkpoint has version ${checkpointVersion} but the module is version ${moduleVersion} and has no migrate(state, fromVersion); add one`,
    );
  }
}

/** The store was closed (the runtime is shutting down); nothing more is stored. */
export class StoreClosedError extends FaultlineError {
  constructor(what = 'checkpoint store') {
    super(`The ${what} is closed; the runtime is shutting down`);
  }
}

/** A value could not be stored because it is not JSON (a cycle, a BigInt). */
export class StateNotSerializableError extends FaultlineError {
  constructor(readonly agent: string, reason: string) {
    super(`State of agent "${agent}" cannot be stored as JSON: ${reason}; keep state to plain data`);
  }
}

/** A server store's name and URL as they may be shown: the URL's password replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    // Not a URL we can parse: hide anything between "//user:" and "@".
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

/** A driver's message with the URL's password (if it echoed it) replaced by `***`. */
function scrubPassword(text: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return text;
  }
  return password ? text.split(password).join('***') : text;
}

/**
 * A server store (PostgreSQL, Redis, an S3 bucket) cannot be reached or
 * refused the connection. Nothing acknowledged is lost: the write that got
 * this error did not complete and is retried once the store is back.
 */
export class StoreUnavailableError extends FaultlineError {
  /** The store's URL, password redacted: the error may be logged whole. */
  readonly url: string;
  readonly reason: string;
  constructor(readonly store: string, url: string, reason: string) {
    super(`The ${store} checkpoint store at ${redactUrl(url)} is unavailable: ${scrubPassword(reason, url)}`);
    this.url = redactUrl(url);
    this.reason = scrubPassword(reason, url);
  }
}

/** A write was refused because this node no longer holds the lease on the agent's unit (a cluster's fencing). */
export class LeaseLostError extends FaultlineError {
  override readonly rpcCode = RpcErrorCode.Unavailable;
  constructor(readonly node: string, detail: string) {
    super(`Node "${node}" no longer holds the lease this write needs (${detail}); nothing of it was stored`);
  }
}
