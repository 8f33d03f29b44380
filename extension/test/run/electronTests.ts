/**
 * The same integration suite in desktop VS Code through @vscode/test-electron,
 * for developers on machines that can download VS Code (CI runs it in
 * code-server instead: test/run/codeServerTests.ts).
 *   npm run test:electron -w extension    [--prepare-only: just the workspace]
 */
import path from 'node:path';
import { exampleWorkspace, extensionDir } from './codeServer.ts';
import { addCallerAgent } from './workspace.ts';

const ws = exampleWorkspace('electron');
addCallerAgent(ws);
if (process.argv.includes('--prepare-only')) {
  console.log(`test workspace ready: ${ws}`);
} else {
  void main();
}

async function main() {
  const { runTests } = await import('@vscode/test-electron');
  const code = await runTests({
    extensionDevelopmentPath: extensionDir,
    extensionTestsPath: path.join(extensionDir, 'out', 'test', 'integration', 'index.js'),
    launchArgs: [ws, '--disable-extensions', '--disable-workspace-trust'],
  }).then(() => 0, (e) => {
    console.error(e);
    return 1;
  });
  process.exit(code);
}
