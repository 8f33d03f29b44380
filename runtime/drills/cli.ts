/**
 * `faultline drill FILE`: runs a drill against the running runtime, or
 * starts one for the drill with `--config` (in this process; as a child
 * process when the drill kills the runtime, so this CLI can restart it).
 * Exit codes: 0 the hypothesis held, 1 it did not (the probe is named),
 * 2 a bad drill file (the JSON path is named) or bad usage.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from '../cli/args.ts';
import { findStateDir, NoRuntimeError } from '../cli/client.ts';
import { ConfigError } from '../errors.ts';
import { processAlive, readRuntimeFile } from '../control/runtimeFileIO.ts';
import { loadConfigFile } from '../config/load.ts';
import { DrillFileError, killsRuntime, loadDrillFile } from './drillFile.ts';
import { DrillRunner } from './DrillRunner.ts';
import { summaryLines, type DrillJournal } from './journal.ts';
import { inProcessTarget } from './inProcessTarget.ts';
import { OwnedRuntime } from './ownedRuntime.ts';
import { RemoteTarget } from './remoteTarget.ts';
import type { RuntimeTarget } from './RuntimeTarget.ts';

export const DRILL_USAGE = `Usage: faultline drill <file> [--json] [--report out.json] [--config F] [--state-dir D]

Runs a drill (JSON): checks the steady-state hypothesis (the gate: if it
fails nothing is injected), runs the method (faults, waits, load, chaos,
probes, runtime kills), checks the hypothesis again, runs the rollbacks and
clears the faults the drill left. Progress prints as it goes; the journal
(timings, time to detect and to recover per agent, messages acknowledged
and lost) is written as JSON.

  --report F      write the journal here (default .faultline/drills/<drill>-<time>.json)
  --json          print the journal on stdout (progress goes to stderr)
  --config F      the system to drill: its running runtime, or else the drill
                  starts one for itself and stops it at the end
  --state-dir D   the running runtime's state dir

Exit codes: 0 the hypothesis held; 1 it did not (the failing probe is
named), or no runtime; 2 a bad drill file (the JSON path is named).`;

interface Session {
  target: RuntimeTarget;
  stateDir: string;
  close(): Promise<void>;
}

async function open(values: { config?: string; 'state-dir'?: string }, kills: boolean, say: (l: string) => void): Promise<Session> {
  const stateDir = findStateDir({ stateDir: values['state-dir'], config: values.config });
  const running = readRuntimeFile(stateDir);
  if (running && processAlive(running.pid)) {
    if (kills) say(`note: this drill kills the runtime (pid ${running.pid}), which it did not start: it waits for whoever restarts it (the VS Code extension does); stop it and pass --config to let the drill restart it`);
    const t = await RemoteTarget.connect(running, stateDir);
    return { target: t, stateDir, close: async () => t.close() };
  }
  if (!values.config) {
    throw new NoRuntimeError(`No Faultline runtime is running here (no live ${path.join(stateDir, 'runtime.json')}). Start one with \`faultline up\`, or pass --config F so the drill starts one.`);
  }
  const configFile = path.resolve(values.config);
  const config = loadConfigFile(configFile);
  if (kills) {
    // The drill kills the runtime: it must live in another process this CLI can restart.
    const owned = new OwnedRuntime(configFile, stateDir);
    say(`starting the runtime of ${path.basename(configFile)} as a child process (the drill kills it)…`);
    await owned.start();
    const t = await RemoteTarget.connect(readRuntimeFile(stateDir)!, stateDir, owned);
    return { target: t, stateDir, close: async () => { t.close(); await owned.stop(); } };
  }
  say(`starting the runtime of ${path.basename(configFile)} in this process…`);
  const { Runtime } = await import('../Runtime.ts');
  const rt = new Runtime({ config, stateDir });
  try {
    await rt.start();
  } catch (e) {
    await rt.stop({ code: 1, reason: 'start failed' });
    throw e;
  }
  return { target: inProcessTarget(rt), stateDir, close: async () => void (await rt.stop({ code: 0, reason: 'drill finished' })) };
}

export async function drillCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { report: { type: 'string' } }, [1, 1]);
  const err = (s: string) => process.stderr.write(s + '\n');
  const say = values.json ? err : (s: string) => process.stdout.write(s + '\n');
  let drill;
  try {
    drill = loadDrillFile(positionals[0]);
  } catch (e) {
    if (e instanceof DrillFileError) {
      err(`faultline drill: ${e.message}`);
      return 2;
    }
    throw e;
  }
  let session: Session;
  try {
    session = await open(values, killsRuntime(drill), say);
  } catch (e) {
    if (e instanceof NoRuntimeError || e instanceof ConfigError) throw e;
    err(`faultline drill: cannot start the runtime for the drill: ${(e as Error).message}`);
    return 1;
  }
  let journal: DrillJournal;
  const runner = new DrillRunner(session.target, drill, { runner: 'cli', progress: say });
  // Ctrl-C: stop the method and roll back (faults must not outlive the drill); twice: leave now.
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    runner.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    journal = await runner.run();
  } finally {
    await session.close();
    process.off('SIGINT', onSigint);
  }
  const report = path.resolve(values.report ?? path.join(session.stateDir, 'drills', `${drill.name}-${journal.startedAt.replace(/[:.]/g, '-')}.json`));
  mkdirSync(path.dirname(report), { recursive: true });
  writeFileSync(report, JSON.stringify(journal, null, 2) + '\n');
  for (const line of summaryLines(journal)) say(line);
  say(`journal: ${report}`);
  if (values.json) process.stdout.write(JSON.stringify(journal, null, 2) + '\n');
  return journal.held ? 0 : 1;
}
