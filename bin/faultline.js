#!/usr/bin/env node
// The `faultline` CLI. Loads the bundled CLI, turning a native module built
// for another Node (better-sqlite3 after a Node upgrade, say) into a clear
// message instead of a stack trace.
let cli;
try {
  cli = await import('../dist/cli.js');
} catch (err) {
  const text = String(err?.message ?? err);
  const abi = /NODE_MODULE_VERSION (\d+)[\s\S]*NODE_MODULE_VERSION (\d+)/.exec(text);
  if (abi || /better_sqlite3\.node|ERR_DLOPEN_FAILED/.test(text)) {
    console.error(
      `faultline: the native module better-sqlite3 was built for another Node${abi ? ` (ABI ${abi[1]}; this is Node ${process.version}, ABI ${abi[2]})` : ''}.\n` +
        `Rebuild it with the node you run Faultline with: npm rebuild better-sqlite3`,
    );
  } else if (err?.code === 'ERR_MODULE_NOT_FOUND' && text.includes('dist/cli.js')) {
    console.error('faultline: the CLI is not built (dist/cli.js is missing): run `npm run build`');
  } else {
    console.error(`faultline: ${err?.stack ?? err}`);
  }
  process.exit(1);
}
cli.main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`faultline: ${err?.stack ?? err}`); process.exitCode = 1; },
);
