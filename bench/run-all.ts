/**
 * Runs every `bench/*.bench.ts` program (or those named on the command line)
 * one after another and prints their JSON results as one object.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts') && (!wanted.length || wanted.some((w) => f.includes(w)))).sort();
const results: Record<string, unknown> = {};
let failed = 0;
for (const f of files) {
  process.stderr.write(`running ${f}…\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', path.join(dir, f)], { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
  try {
    results[f.replace(/\.bench\.ts$/, '')] = JSON.parse(r.stdout);
  } catch {
    failed++;
    results[f.replace(/\.bench\.ts$/, '')] = { error: `exit ${r.status}`, stderr: r.stderr.slice(-2000) };
  }
}
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
process.exit(failed ? 1 : 0);
