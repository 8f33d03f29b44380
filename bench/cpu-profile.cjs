// Preload for `PROFILE_DIR=… node --import tsx bench/steps.bench.ts` (through
// NODE_OPTIONS, which refuses --cpu-prof): the CPU profile of the runtime and
// of about one agent host in eight, written at exit as <kind>-<pid>.cpuprofile.
// Fifty processes sampled at once would load the machine more than the benchmark.
const kind = process.env.FAULTLINE_HOST ? 'host' : 'runtime';
if (kind === 'runtime' || process.pid % 8 === 0) {
  const inspector = require('node:inspector');
  const fs = require('node:fs');
  const path = require('node:path');
  const s = new inspector.Session();
  s.connect();
  s.post('Profiler.enable');
  s.post('Profiler.start');
  process.on('exit', () => {
    s.post('Profiler.stop', (err, r) => {
      if (!err) fs.writeFileSync(path.join(process.env.PROF_OUT, `${kind}-${process.pid}.cpuprofile`), JSON.stringify(r.profile));
    });
  });
}
