/**
 * Runs the integration tests (test/integration) in code-server's real
 * extension host: the standard extensionDevelopmentPath/extensionTestsPath
 * protocol through the smoke-test driver, opened in headless chromium. Prints
 * one line per test and a summary line; exits non-zero on any failure.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exampleWorkspace, extensionDir, launchChromium, outDir, startCodeServer } from './codeServer.ts';
import { addCallerAgent } from './workspace.ts';

const TIMEOUT_MS = 5 * 60_000;

async function main(): Promise<number> {
  const testsIndex = path.join(extensionDir, 'out', 'test', 'integration', 'index.js');
  if (!existsSync(testsIndex)) throw new Error(`${testsIndex} is missing: run \`node build.mjs\` first`);
  const ws = exampleWorkspace('integration');
  addCallerAgent(ws);
  const resultsFile = path.join(outDir, 'integration', 'results.json');
  rmSync(resultsFile, { force: true });
  const cs = await startCodeServer({ name: 'integration', workspace: ws, extraArgs: ['--vscode-option', 'enable-smoke-test-driver'] });
  const browser = await launchChromium('integration');
  let code = 1;
  try {
    const exited = new Promise<number>((resolve) => {
      void browser.page.exposeFunction('codeAutomationExit', (c: number) => resolve(c));
    });
    await browser.page.exposeFunction('codeAutomationLog', (...args: unknown[]) => {
      if (process.env.FAULTLINE_TEST_VERBOSE) console.log('[workbench]', ...args);
    });
    const remote = (p: string) => `vscode-remote://127.0.0.1:${cs.port}${p}`;
    const payload = [['extensionDevelopmentPath', remote(extensionDir)], ['extensionTestsPath', remote(testsIndex)]];
    await browser.page.goto(`${cs.url}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    code = await Promise.race([exited, new Promise<number>((r) => setTimeout(() => r(124), TIMEOUT_MS))]);
    if (code === 124) console.error(`integration: no result within ${TIMEOUT_MS / 1000} s`);
    await browser.page.screenshot({ path: path.join(outDir, 'integration', 'workbench.png') }).catch(() => {});
  } finally {
    await browser.close().catch(() => {});
    await cs.stop();
    writeFileSync(path.join(outDir, 'integration', 'code-server.log'), cs.logs.join('\n'));
  }
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  if (existsSync(resultsFile)) {
    const { results, notes } = JSON.parse(readFileSync(resultsFile, 'utf8'));
    for (const r of results) {
      console.log(`${r.state === 'passed' ? 'ok  ' : r.state === 'skipped' ? 'skip' : 'FAIL'} ${r.title}${r.durationMs !== undefined ? ` (${r.durationMs} ms)` : ''}`);
      if (r.error) console.log(r.error.split('\n').map((l: string) => `     ${l}`).join('\n'));
      if (r.state === 'passed') passed++;
      else if (r.state === 'failed') failed++;
      else skipped++;
    }
    console.log(`integration notes: ${JSON.stringify(notes)}`);
  } else {
    console.error('integration: the suite wrote no results (see test-output/integration/code-server.log)');
    failed++;
  }
  if (code !== 0 && failed === 0) failed++;
  console.log(`integration: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  return failed ? 1 : 0;
}

main().then((c) => process.exit(c), (e) => {
  console.error(e);
  process.exit(1);
});
