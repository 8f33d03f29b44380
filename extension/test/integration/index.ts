/**
 * The extension-tests module the workbench loads in the real extension host
 * (extensionTestsPath). Runs the mocha suite and writes the results where
 * the runner (test/run/codeServerTests.ts) reads them: the extension host's
 * console is not visible from outside.
 */
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import Mocha from 'mocha';

const resultsFile = path.resolve(__dirname, '..', '..', '..', 'test-output', 'integration', 'results.json');

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 90_000, color: false, reporter: 'spec' });
  mocha.addFile(path.join(__dirname, 'extension.test.js'));
  const results: { title: string; state: string; durationMs?: number; error?: string }[] = [];
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      mkdirSync(path.dirname(resultsFile), { recursive: true });
      writeFileSync(resultsFile, JSON.stringify({ results, notes: (globalThis as { faultlineNotes?: unknown }).faultlineNotes ?? {} }, null, 2));
      if (failures) reject(new Error(`${failures} integration test(s) failed`));
      else resolve();
    });
    runner.on('pass', (t) => results.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration }));
    runner.on('fail', (t, err) => results.push({ title: t.fullTitle(), state: 'failed', error: String(err?.stack ?? err) }));
    runner.on('pending', (t) => results.push({ title: t.fullTitle(), state: 'skipped' }));
  });
}
