import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NativeModuleError } from './errors.ts';

test('a native module built for another Node ABI becomes a clear error naming both ABIs and the fix', () => {
  // The message better-sqlite3's loader gives (Node's dlopen error), verbatim.
  const dlopen = new Error(
    "The module '/w/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 137. Please try re-compiling or re-installing\nthe module (for instance, using `npm rebuild` or `npm install`).",
  );
  const e = NativeModuleError.from(dlopen)!;
  assert.ok(e instanceof NativeModuleError);
  assert.match(e.message, /built for another Node \(ABI 115; this is Node v\d+\.\d+\.\d+, ABI 137\)/);
  assert.match(e.message, /npm rebuild better-sqlite3/);
  assert.equal(NativeModuleError.from(new Error('ENOENT: no such file')), undefined);
});
