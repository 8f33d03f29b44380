// What the .vsix must ship, and the check that it does. build.mjs checks the
// folder before packaging; the package script checks the .vsix vsce wrote, so a
// package without (say) the dashboard fails instead of installing a build that
// opens no dashboard.
//   node shipped.mjs <file.vsix>     exits 1 and names what is missing
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Files the extension needs at run time, relative to the extension folder
 * (inside the .vsix they sit under `extension/`). Each is loaded by the code
 * named beside it.
 */
export const SHIPPED = [
  'package.json',
  'dist/extension.js', // main
  'dist/callSites.js', // CodeLens parser, loaded lazily
  'dist/webviewMessages.js', // the dashboard's message validator, loaded lazily
  'dist/drillValidator.js', // the Test Explorer's drill schema check, loaded lazily
  'schema/faultline.schema.json', // jsonValidation
  'runtime/package.json', // bundled runtime (src/runtime/bundledInstall.ts)
  'runtime/bin/faultline.js',
  'runtime/dist/cli.js',
  'runtime/dist/agent-host.js',
  'runtime/dist/sdk.js',
  'runtime/dist/protocol.js',
  'runtime/dist/machine.js',
  'runtime/dist/faultline.protocol.schema.json',
  'runtime/dist/faultline.schema.json',
  'sample/research-team/faultline.config.json', // Create Sample Agent System
  'webview/dist/dashboard.js', // the dashboard (src/dashboard/index.ts, DashboardPanel.ts)
  'webview/dist/dashboard.css',
  'webview/dist/codicons/codicon.css',
  'webview/dist/codicons/codicon.ttf',
];

/** The files of SHIPPED that are not in the extension folder `dir`. */
export function missingIn(dir) {
  return SHIPPED.filter((f) => !existsSync(path.join(dir, f)));
}

/**
 * The entry names of a zip file, read from its central directory (a .vsix is
 * a zip; no unzip tool needed).
 */
export function zipEntries(file) {
  const buf = readFileSync(file);
  // The end-of-central-directory record is in the last 22 + 65535 (comment) bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip file (no end of central directory)`);
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: broken central directory at entry ${n}`);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    names.push(buf.toString('utf8', at + 46, at + 46 + nameLen));
    at += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}

/** The files of SHIPPED that the .vsix `file` does not hold. */
export function missingInVsix(file) {
  const names = new Set(zipEntries(file));
  return SHIPPED.filter((f) => !names.has(`extension/${f}`));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node shipped.mjs <file.vsix>');
    process.exit(2);
  }
  const missing = missingInVsix(file);
  if (missing.length) {
    console.error(`${file} lacks what the extension needs:\n${missing.map((m) => `  extension/${m}`).join('\n')}`);
    process.exit(1);
  }
  console.log(`${file}: all ${SHIPPED.length} shipped files present (${SHIPPED.filter((f) => f.startsWith('webview/')).length} of them the dashboard)`);
}
