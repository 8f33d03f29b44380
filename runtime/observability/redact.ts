/**
 * The secret values of a runtime, for the one scrubber (runtime/protocol/redact.ts).
 * Key-path redaction (pino's `redact`) only catches secrets stored under known
 * keys; an API key also leaks through error messages, URLs, headers echoed by
 * a server or an agent's console output. So every line that leaves the runtime
 * (log files, `log` events, `/metrics`) is also scrubbed of these strings.
 */
import { MIN_SECRET_LENGTH } from '../protocol/redact.ts';

/** Env var names whose values are scrubbed even when no config names them. */
const SECRET_ENV_NAME = /(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)/i;

/**
 * The secret values of a runtime: the env vars the config names as
 * `apiKeyEnv`, plus any env var whose name looks like a credential.
 */
export function secretValues(dependencies: Record<string, { apiKeyEnv?: string }> = {}, env: NodeJS.ProcessEnv = process.env): string[] {
  const out = new Set<string>();
  for (const dep of Object.values(dependencies)) {
    const v = dep.apiKeyEnv ? env[dep.apiKeyEnv] : undefined;
    if (v) out.add(v);
  }
  for (const [name, v] of Object.entries(env)) if (v && SECRET_ENV_NAME.test(name)) out.add(v);
  return [...out].filter((s) => s.length >= MIN_SECRET_LENGTH);
}
