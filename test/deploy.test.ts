/**
 * deploy/: the Kubernetes manifests, the Dockerfile and the systemd units.
 * The manifests are parsed and their probes checked against a real runtime
 * started with the container's own arguments; the systemd units pass
 * `systemd-analyze verify` where it is installed, and their readiness and
 * liveness one-liners are run against that runtime.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import yaml from 'js-yaml';
import { probe, repoRoot, up, workspace, type Running } from './helpers/runtime.ts';

const deploy = path.join(repoRoot, 'deploy');
type Doc = { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: any };
const docs = yaml.loadAll(readFileSync(path.join(deploy, 'kubernetes', 'faultline.yaml'), 'utf8')) as Doc[];
const byKind = (kind: string) => {
  const d = docs.find((x) => x?.kind === kind);
  assert.ok(d, `a ${kind} in deploy/kubernetes/faultline.yaml`);
  return d;
};
const deployment = byKind('Deployment');
const container = deployment.spec.template.spec.containers[0];
const args: string[] = container.args;
const argAfter = (list: string[], flag: string) => (list.includes(flag) ? list[list.indexOf(flag) + 1] : undefined);
const dockerfile = readFileSync(path.join(deploy, 'Dockerfile'), 'utf8');
const unit = (f: string) => readFileSync(path.join(deploy, 'systemd', f), 'utf8');
const directive = (text: string, key: string) => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

let rt: Running;
let port: number;
before(async () => {
  // The container's arguments as the manifest has them, with this test's port and workspace.
  port = await freePort();
  const dir = workspace({ name: 'deployed', supervisor: { id: 'root', children: [probe('only')] } });
  const own = args.slice(1).map((a, i, l) => (l[i - 1] === '--port' ? String(port) : l[i - 1] === '--config' ? path.join(dir, 'faultline.config.json') : a)).filter((a) => a !== '--no-live');
  rt = await up(dir, own);
  await rt.until((s) => s.tree.children.every((c) => c.state === 'running'), 'the tree up');
});
after(async () => {
  await rt?.stop();
});

describe('Kubernetes manifests', () => {
  test('the Deployment probes /livez and /readyz on the port the runtime listens on, beyond the loopback; both answer 200', async () => {
    assert.equal(args[0], 'up');
    assert.equal(argAfter(args, '--host'), '0.0.0.0', 'probes come from outside the loopback');
    const http = container.ports.find((p: { name: string }) => p.name === 'http');
    assert.equal(String(http.containerPort), argAfter(args, '--port'));
    assert.deepEqual([container.livenessProbe.httpGet.path, container.livenessProbe.httpGet.port], ['/livez', 'http']);
    assert.deepEqual([container.readinessProbe.httpGet.path, container.readinessProbe.httpGet.port], ['/readyz', 'http']);
    for (const p of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
      const res = await fetch(`http://127.0.0.1:${port}${p.httpGet.path}`);
      assert.equal(res.status, 200, `${p.httpGet.path} answers`);
    }
    assert.match(rt.output(), /Faultline runtime listening on http:\/\/0\.0\.0\.0:\d+/);
  });

  test('credentials come from a Secret, the pod runs as non-root, and the PodDisruptionBudget and Service select its pods', () => {
    const pg = container.env.find((e: { name: string }) => e.name === 'FAULTLINE_PG_URL');
    assert.deepEqual(pg.valueFrom.secretKeyRef, { name: 'faultline', key: 'pg-url' });
    assert.ok(!container.env.some((e: { value?: string }) => e.value !== undefined), 'no credential written in the manifest');
    assert.equal(deployment.spec.template.spec.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.equal(deployment.spec.strategy.type, 'Recreate', 'two runtimes never run one tree at once');
    const labels = deployment.spec.template.metadata.labels;
    assert.deepEqual(deployment.spec.selector.matchLabels, labels);
    assert.deepEqual(byKind('PodDisruptionBudget').spec.selector.matchLabels, labels);
    assert.deepEqual(byKind('Service').spec.selector, labels);
    assert.ok(container.volumeMounts.some((m: { mountPath: string }) => m.mountPath === '/work/.faultline'), 'the state dir is writable');
  });
});

describe('Dockerfile', () => {
  test('runs as a non-root user, with the Deployment\'s command and a health check on /livez at the exposed port', () => {
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.match(final, /^USER node$/m);
    assert.doesNotMatch(final, /^USER (root|0)\b/m);
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(final)![1]) as string[];
    assert.deepEqual(cmd, args, 'the image and the Deployment run the same command');
    assert.match(final, new RegExp(`^EXPOSE ${argAfter(cmd, '--port')}$`, 'm'));
    assert.match(final, new RegExp(`HEALTHCHECK[\\s\\S]*127\\.0\\.0\\.1:${argAfter(cmd, '--port')}/livez`));
    assert.match(final, /^ENTRYPOINT \["faultline"\]$/m);
  });
});

describe('systemd units', () => {
  const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  test('pass systemd-analyze verify (and a broken copy does not)', { skip: !analyze && 'systemd-analyze is not installed here' }, () => {
    for (const f of ['faultline.service', 'faultline-health.service', 'faultline-health.timer']) {
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', path.join(deploy, 'systemd', f)], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${f}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), '', `${f} verifies without warnings`);
    }
    const broken = path.join(rt.dir, 'faultline.service');
    writeFileSync(broken, unit('faultline.service').replace(/^ExecStart=\/usr\/bin\/env /m, 'ExecStart='));
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', broken], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, 'verify catches a bad unit');
  });

  test('restarts on failure; its readiness wait and the liveness check answer for a running runtime and fail for none', async () => {
    const service = unit('faultline.service');
    assert.deepEqual(directive(service, 'Restart'), ['on-failure']);
    const start = directive(service, 'ExecStart')[0].split(/\s+/);
    const unitPort = argAfter(start, '--port');
    assert.equal(argAfter(start, '--host'), undefined, 'on a host it stays on the loopback');
    const script = (line: string) => /node -e "(.*)"$/.exec(line)![1];
    const ready = script(directive(service, 'ExecStartPost')[0]);
    const live = script(directive(unit('faultline-health.service'), 'ExecStart')[0]);
    assert.match(ready, new RegExp(`127\\.0\\.0\\.1:${unitPort}/readyz`));
    assert.match(live, new RegExp(`127\\.0\\.0\\.1:${unitPort}/livez`));
    const run = (js: string, p: number) => spawnSync(process.execPath, ['-e', js.replaceAll(`:${unitPort}/`, `:${p}/`).replace('55000', '1500')], { encoding: 'utf8', timeout: 20_000 }).status;
    assert.equal(run(ready, port), 0, 'ready');
    assert.equal(run(live, port), 0, 'live');
    const none = await freePort();
    assert.equal(run(ready, none), 1, 'nothing listening: not ready, within the wait');
    assert.equal(run(live, none), 1, 'nothing listening: not live');
    assert.match(directive(unit('faultline-health.service'), 'ExecStopPost')[0], /systemctl restart faultline\.service/);
  });
});

