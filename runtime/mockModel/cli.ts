/**
 * `faultline mock-model [--port N] [--model NAME] [--api-key-env VAR]`: runs
 * the mock model server in the foreground until SIGINT or SIGTERM. The
 * faultline CLI calls `runMockModel` with the arguments after the command.
 */
import { parseArgs } from 'node:util';
import { startMockModel } from './MockModelServer.ts';

export const MOCK_MODEL_USAGE = `Usage: faultline mock-model [--port N] [--model NAME] [--api-key-env VAR] [--seed N]

A local model server on 127.0.0.1 that speaks the OpenAI and the Anthropic
dialects, with deterministic replies and tool calls, and fault modes switched
at run time.

Routes:
  POST /v1/chat/completions  OpenAI chat (stream: true for SSE; tools get tool_calls)
  POST /v1/messages          Anthropic Messages (anthropic-version header; stream: true;
                             tools get tool_use blocks)
  POST /v1/embeddings        OpenAI embeddings (float or base64; dimensions, default 16)
  GET  /v1/models · POST /v1/search

Options:
  --port N           Port on 127.0.0.1 (default 8787; 0 picks a free one)
  --model NAME       Model id in replies and /v1/models (default "mock")
  --api-key-env VAR  Require "Authorization: Bearer <value of VAR>" (on /v1/messages,
                     "x-api-key: <value>" or that)
  --seed N           Seed of the fault-rate generator (default 1)
  --chunk-delay-ms N Delay between stream chunks (default 0)
  --json             Print the address as JSON
  -h, --help         Show this help

Fault control (examples):
  curl -X POST http://127.0.0.1:8787/_faults -d '{"mode":"error","status":503,"retryAfter":1,"count":3}'
  curl -X POST http://127.0.0.1:8787/_faults -d '{"mode":"error","status":529,"path":"/v1/messages"}'
  curl -X POST http://127.0.0.1:8787/_faults -d '{"mode":"latency","ms":2000,"rate":0.5}'
  curl -X DELETE http://127.0.0.1:8787/_faults
  curl http://127.0.0.1:8787/_stats
Modes: error (status, retryAfter), latency (ms), hang, content-filter (style),
stream-cut (afterDeltas: text deltas before the cut, 0 = before the first token),
slow-first-token (ms), malformed; each in both dialects.`;

export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** Resolves when the server should stop (default: SIGINT or SIGTERM). */
  until?: Promise<unknown>;
}

/** Runs the mock model server; resolves with the exit code once it has stopped. */
export async function runMockModel(argv: string[], io: CliIo = { stdout: (l) => console.log(l), stderr: (l) => console.error(l) }): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        model: { type: 'string' },
        'api-key-env': { type: 'string' },
        seed: { type: 'string' },
        'chunk-delay-ms': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    io.stderr(`${(e as Error).message}\n\n${MOCK_MODEL_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(MOCK_MODEL_USAGE);
    return 0;
  }
  const int = (name: string, v: string | undefined, def: number, max: number): number | string => {
    if (v === undefined) return def;
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 && n <= max ? n : `--${name} must be an integer 0-${max}`;
  };
  const port = int('port', values.port, 8787, 65535);
  const seed = int('seed', values.seed, 1, 2 ** 31);
  const chunkDelayMs = int('chunk-delay-ms', values['chunk-delay-ms'], 0, 60_000);
  for (const v of [port, seed, chunkDelayMs]) if (typeof v === 'string') return io.stderr(v), 2;
  let apiKey: string | undefined;
  const keyVar = values['api-key-env'];
  if (keyVar) {
    apiKey = process.env[keyVar];
    if (!apiKey) return io.stderr(`--api-key-env ${keyVar}: the environment variable is not set`), 2;
  }
  let server;
  try {
    server = await startMockModel({ port: port as number, model: values.model, seed: seed as number, chunkDelayMs: chunkDelayMs as number, apiKey });
  } catch (e) {
    const code = (e as { code?: string }).code;
    io.stderr(code === 'EADDRINUSE' ? `Port ${port} is in use; pick another with --port N` : `Cannot start the mock model: ${(e as Error).message}`);
    return 1;
  }
  if (values.json) io.stdout(JSON.stringify({ url: server.url, port: server.port, model: values.model ?? 'mock' }));
  else io.stdout(`Faultline mock model listening on ${server.url} (model "${values.model ?? 'mock'}"); fault control at ${server.origin}/_faults`);
  await (io.until ?? signalled());
  await server.close();
  return 0;
}

function signalled(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
