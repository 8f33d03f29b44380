// Runs the runtime's unit tests (next to the code, runtime/**/*.test.ts) and
// the integration tests (test/**/*.test.ts) with node's test runner. Node 20's
// runner takes no globs, so the files are listed here. Arguments narrow the
// run to files whose path contains one of them.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const found = [];
for (const dir of ['runtime', 'test']) {
  for (const f of readdirSync(path.join(root, dir), { recursive: true })) {
    if (String(f).endsWith('.test.ts') && !String(f).includes('node_modules')) found.push(path.join(dir, String(f)));
  }
}
const wanted = process.argv.slice(2);
const files = found.sort().filter((f) => !wanted.length || wanted.some((w) => f.includes(w)));
if (!files.length) {
  console.error(`no test files match ${wanted.join(' ')}`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
