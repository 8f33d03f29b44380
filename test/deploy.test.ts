/**
 * deploy/: the Kubernetes manifests, the Dockerfile and the systemd units.
 * The manifests are parsed and the Deployment's pods are started for real:
 * each with the container's own arguments and environment, expanded as the
 * kubelet would (downward API, the Secret the header comment creates,
 * `$(VAR)` references), as one cluster on a real PostgreSQL; their probes,
 * the nodes reaching each other at their advertised URLs and a drain on
 * SIGTERM are checked against them. The Dockerfile's command runs a single
 * runtime. The systemd units pass `systemd-analyze verify` where it is
 * installed, the cluster drop-in's command is run as a node, and the units'
 * readiness and liveness one-liners are run against these runtimes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { PostgresServer } from './helpers/servers.ts';
import { cliPath, probe, repoRoot, up, workspace, type Running } from './helpers/runtime.ts';
import type { RuntimeStatus } from '../runtime/protocol/status.ts';

const deploy = path.join(repoRoot, 'deploy');
type Labels = Record<string, string>;
type Doc = { kind: string; metadata: { name: string; labels?: Labels }; spec: any };
const manifest = readFileSync(path.join(deploy, 'kubernetes', 'faultline.yaml'), 'utf8');
const docs = yaml.loadAll(manifest) as Doc[];
const byKind = (kind: string) => {
  const d = docs.find((x) => x?.kind === kind);
  assert.ok(d, `a ${kind} in deploy/kubernetes/faultline.yaml`);
  return d;
};
const deployment = byKind('Deployment');
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const args: string[] = container.args;
const podLabels: Labels = deployment.spec.template.metadata.labels;
const argAfter = (list: string[], flag: string) => (list.includes(flag) ? list[list.indexOf(flag) + 1] : undefined);
const withArg = (list: string[], flag: string, value: string) => list.map((a, i) => (list[i - 1] === flag ? value : a));
const dropFlag = (list: string[], flag: string) => list.filter((_, i) => list[i] !== flag && list[i - 1] !== flag);
/** Whether a label selector ({ matchLabels } or a Service's plain map) selects pods with these labels. */
const selects = (selector: Labels | { matchLabels?: Labels } | undefined, labels: Labels) => {
  const m: Labels = (selector as { matchLabels?: Labels })?.matchLabels ?? (selector as Labels) ?? {};
  return Object.keys(m).length > 0 && Object.entries(m).every(([k, v]) => labels[k] === v);
};
const dockerfile = readFileSync(path.join(deploy, 'Dockerfile'), 'utf8');
const unit = (f: string) => readFileSync(path.join(deploy, 'systemd', f), 'utf8');
const directive = (text: string, key: string) => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]);
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ADVERTISE = /^https?:\/\/[^/]+:\d+\/?$/;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

// The config the manifest's header documents, and the Secret its `kubectl create secret` makes.
const header = manifest.slice(0, manifest.indexOf('\napiVersion:')).replace(/^# ?/gm, '');
const documentedConfig = JSON.parse(`{${/^\s*("checkpoints":.*\n\s*"cluster":.*)$/m.exec(header)![1]}}`) as Record<string, any>;
const createSecret = /kubectl create secret generic (\S+)((?:\s*\\?\s*--from-literal=[^\s]+)+)/.exec(header);
const secretName = createSecret?.[1];
const secretKeys = [...(createSecret?.[2] ?? '').matchAll(/--from-literal=([A-Za-z0-9._-]+)=/g)].map((m) => m[1]);

const pg = new PostgresServer();
const TOKEN = randomBytes(24).toString('base64');
/** The Secret's data: what each documented key holds. */
const secretData = (): Labels => ({ 'pg-url': pg.url, 'cluster-token': TOKEN });

/** `$(VAR)` references expanded from `vars`, as Kubernetes does in env values and args (an unknown one stays as written). */
const expand = (s: string, vars: Labels) => s.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n: string) => vars[n] ?? m);

/** The container's environment as the kubelet gives it to a pod with this name and IP. */
function podEnv(name: string, ip: string): Labels {
  const env: Labels = {};
  const fields: Labels = { 'metadata.name': name, 'metadata.namespace': 'default', 'status.podIP': ip };
  for (const e of container.env as { name: string; value?: string; valueFrom?: any }[]) {
    if (e.value !== undefined) env[e.name] = expand(e.value, env); // only variables defined above it
    else if (e.valueFrom?.fieldRef) env[e.name] = fields[e.valueFrom.fieldRef.fieldPath] ?? assert.fail(`${e.name}: no downward API field ${e.valueFrom.fieldRef.fieldPath} here`);
    else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef as { name: string; key: string };
      assert.equal(ref.name, secretName, `${e.name}: the Secret the header creates`);
      assert.ok(secretKeys.includes(ref.key), `${e.name}: key ${ref.key} is one the header's kubectl create secret sets (${secretKeys.join(', ')})`);
      env[e.name] = secretData()[ref.key] ?? assert.fail(`${e.name}: key ${ref.key} is not one this test knows what to put in`);
    } else assert.fail(`${e.name}: a kind of env var this test does not resolve`);
  }
  return env;
}

const containerPort = () => Number(container.ports.find((p: { name: string }) => p.name === 'http').containerPort);
const PODS = ['faultline-6f7d9c8b5-x7k2p', 'faultline-6f7d9c8b5-q9w4z', 'faultline-6f7d9c8b5-m3n8r', 'faultline-6f7d9c8b5-t2v6h', 'faultline-6f7d9c8b5-b5c1j'];
const UNITS = ['a1', 'a2', 'a3', 'a4', 'a5', 'crew'];
const clusterConfig = (schema: string) => ({
  ...documentedConfig,
  name: 'deployed',
  checkpoints: { ...documentedConfig.checkpoints, schema },
  supervisor: { id: 'root', children: [probe('a1'), probe('a2'), probe('a3'), probe('a4'), probe('a5'), { supervisor: { id: 'crew', strategy: 'one_for_all', children: [probe('c1'), probe('c2')] } }] },
});

interface Pod {
  name: string;
  port: number;
  env: Labels;
  args: string[];
  rt: Running;
}

/** One pod of the Deployment: its args and env expanded, with its own port (pods have their own IPs; these share the loopback). */
async function startPod(name: string): Promise<Pod> {
  const env = podEnv(name, '127.0.0.1');
  const expanded = args.map((a) => expand(a, env));
  assert.ok(expanded.every((a) => !a.includes('$(')), `every reference in the args resolves: ${expanded.join(' ')}`);
  const advertised = new URL(env.FAULTLINE_ADVERTISE_URL);
  assert.deepEqual([advertised.hostname, Number(advertised.port)], ['127.0.0.1', containerPort()], 'advertised at the pod IP, on the container port');
  const port = await freePort();
  advertised.port = String(port);
  const dir = workspace(clusterConfig('deployed'));
  const own = withArg(withArg(expanded.slice(1), '--port', String(port)), '--config', path.join(dir, 'faultline.config.json')).filter((a) => a !== '--no-live');
  const podEnvHere = { ...env, FAULTLINE_ADVERTISE_URL: advertised.origin };
  return { name, port, env: podEnvHere, args: expanded, rt: await up(dir, own, podEnvHere) };
}

const upNodes = (s: RuntimeStatus) => (s.cluster?.nodes ?? []).filter((n) => n.state === 'up').map((n) => n.id).sort();
const settled = (ids: string[]) => (s: RuntimeStatus) =>
  JSON.stringify(upNodes(s)) === JSON.stringify([...ids].sort()) && s.tree.children.every((c) => c.node && ids.includes(c.node) && c.state === 'running');

let pods: Pod[] = [];
let rt: Running;
let port: number;
before(async () => {
  await pg.start();
  assert.ok(deployment.spec.replicas >= 2 && deployment.spec.replicas <= PODS.length, `replicas: ${deployment.spec.replicas}`);
  const started = await Promise.allSettled(PODS.slice(0, deployment.spec.replicas).map(startPod));
  pods = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])); // stopped in after() whatever happens
  for (const r of started) if (r.status === 'rejected') throw r.reason;
  // The image's own command (no --node: what `docker run my-agents` does) on a single runtime's config.
  port = await freePort();
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile.slice(dockerfile.lastIndexOf('\nFROM ')))![1]) as string[];
  const dir = workspace({ name: 'single', supervisor: { id: 'root', children: [probe('only')] } });
  rt = await up(dir, withArg(withArg(cmd.slice(1), '--port', String(port)), '--config', path.join(dir, 'faultline.config.json')).filter((a) => a !== '--no-live'));
  await rt.until((s) => s.tree.children.every((c) => c.state === 'running'), 'the tree up');
});
after(async () => {
  await Promise.all([rt?.stop(), ...pods.map((p) => p.rt.stop())]);
  await pg.dispose();
});

describe('Kubernetes manifests', () => {
  test('the header documents a cluster config on the postgres store, and a Secret with both credentials', () => {
    assert.equal(documentedConfig.checkpoints.store, 'postgres');
    assert.ok(documentedConfig.cluster.leaseMs > 0);
    assert.ok(container.env.some((e: { name: string }) => e.name === documentedConfig.checkpoints.urlEnv), 'the config\'s urlEnv is set in the pod');
    assert.equal(secretName, 'faultline');
    assert.deepEqual([...secretKeys].sort(), ['cluster-token', 'pg-url']);
    assert.match(header, /openssl rand -base64 32/, 'how to make the token');
  });

  test('credentials come from the Secret; the node is named after the pod and advertised at its IP; the pod runs as non-root', () => {
    const env: Record<string, any> = Object.fromEntries((container.env as { name: string }[]).map((e) => [e.name, e]));
    assert.deepEqual(env.FAULTLINE_PG_URL.valueFrom.secretKeyRef, { name: 'faultline', key: 'pg-url' });
    assert.deepEqual(env.FAULTLINE_CLUSTER_TOKEN.valueFrom.secretKeyRef, { name: 'faultline', key: 'cluster-token' });
    const literal = (container.env as { name: string; value?: string }[]).filter((e) => e.value !== undefined);
    assert.deepEqual(literal.map((e) => e.name), ['FAULTLINE_ADVERTISE_URL'], 'no credential written in the manifest');
    assert.equal(env.POD_NAME.valueFrom.fieldRef.fieldPath, 'metadata.name');
    assert.equal(env.POD_IP.valueFrom.fieldRef.fieldPath, 'status.podIP');
    assert.equal(argAfter(args, '--node'), '$(POD_NAME)');
    assert.equal(env.FAULTLINE_ADVERTISE_URL.value, `http://$(POD_IP):${containerPort()}`);
    for (const p of pods) {
      assert.equal(p.env.POD_NAME, p.name);
      assert.match(argAfter(p.args, '--node')!, NODE_ID);
      assert.match(p.env.FAULTLINE_ADVERTISE_URL, ADVERTISE);
      assert.ok(p.env.FAULTLINE_CLUSTER_TOKEN.length >= 16);
    }
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.ok(container.volumeMounts.some((m: { mountPath: string }) => m.mountPath === '/work/.faultline'), 'the state dir is writable');
  });

  test('several replicas rolled one at a time; the PodDisruptionBudget, Service, NetworkPolicy and spread select the Deployment\'s pods', () => {
    const replicas = deployment.spec.replicas as number;
    assert.ok(replicas >= 2, 'a cluster');
    assert.deepEqual(deployment.spec.selector.matchLabels, podLabels);
    assert.equal(deployment.spec.strategy.type, 'RollingUpdate');
    const ru = deployment.spec.strategy.rollingUpdate;
    assert.ok(ru.maxUnavailable >= 1 && ru.maxUnavailable < replicas, `maxUnavailable ${ru.maxUnavailable}: the others keep running`);
    const pdb = byKind('PodDisruptionBudget').spec;
    assert.ok(selects(pdb.selector, podLabels), 'the PodDisruptionBudget selects the pods');
    const disruptible = pdb.maxUnavailable ?? replicas - pdb.minAvailable;
    assert.ok(disruptible >= 1 && disruptible < replicas, `the budget lets a drain through and keeps the rest (${disruptible} of ${replicas})`);
    assert.ok(selects(byKind('Service').spec.selector, podLabels), 'the Service selects the pods');
    const np = byKind('NetworkPolicy').spec;
    assert.ok(selects(np.podSelector, podLabels), 'the NetworkPolicy applies to the pods');
    const peers = (np.ingress as { from: { podSelector?: Labels; namespaceSelector?: unknown }[]; ports: { port: string | number }[] }[]).find((r) =>
      r.from.some((f) => !f.namespaceSelector && selects(f.podSelector, podLabels)));
    assert.ok(peers, 'the pods may call each other');
    assert.ok(peers.ports.some((p) => p.port === 'http' || p.port === containerPort()), 'on the HTTP port, where the control channel is');
    for (const c of pod.topologySpreadConstraints ?? []) assert.ok(selects(c.labelSelector, podLabels), 'the spread counts these pods');
  });

  test('every pod probes /livez and /readyz on the port it listens on, beyond the loopback; both answer 200 on every node', async () => {
    assert.equal(args[0], 'up');
    assert.equal(argAfter(args, '--host'), '0.0.0.0', 'probes and peers come from outside the loopback');
    assert.equal(String(containerPort()), argAfter(args, '--port'));
    assert.deepEqual([container.startupProbe.httpGet.path, container.startupProbe.httpGet.port], ['/livez', 'http']);
    assert.deepEqual([container.livenessProbe.httpGet.path, container.livenessProbe.httpGet.port], ['/livez', 'http']);
    assert.deepEqual([container.readinessProbe.httpGet.path, container.readinessProbe.httpGet.port], ['/readyz', 'http']);
    const ids = pods.map((p) => p.name);
    for (const p of pods) {
      await p.rt.until(settled(ids), `${p.name}: every child running on a node`, 30_000);
      assert.match(p.rt.output(), /Faultline runtime listening on http:\/\/0\.0\.0\.0:\d+/);
      for (const pr of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
        const res = await fetch(`http://127.0.0.1:${p.port}${pr.httpGet.path}`);
        assert.equal(res.status, 200, `${p.name} ${pr.httpGet.path}: ${await res.text()}`);
      }
    }
  });

  test('the pods form one cluster: named after the pods, at their advertised URLs, every agent reached from every pod', async () => {
    const ids = pods.map((p) => p.name);
    const views = await Promise.all(pods.map((p) => p.rt.until(settled(ids), `${p.name}: every child running on a node`, 30_000)));
    for (const [i, v] of views.entries()) {
      assert.equal(v.cluster!.node, pods[i].name, 'the node id is the pod name');
      const urls = Object.fromEntries(v.cluster!.nodes.map((n) => [n.id, n.url.replace(/\/$/, '')]));
      for (const p of pods) assert.equal(urls[p.name], p.env.FAULTLINE_ADVERTISE_URL, `${p.name} is known at its advertised URL`);
    }
    const owners = (s: RuntimeStatus) => Object.fromEntries(s.tree.children.map((c) => [c.id, c.node]));
    for (const v of views) assert.deepEqual(owners(v), owners(views[0]), 'the pods agree on the owners');
    assert.ok(new Set(Object.values(owners(views[0]))).size >= 2, `placed on several pods: ${JSON.stringify(owners(views[0]))}`);
    // An ask made on a pod that does not run the agent goes to its owner's control channel, at the advertised URL, with the token.
    for (const p of pods) {
      for (const a of ['a1', 'a2', 'a3', 'a4', 'a5', 'c1', 'c2']) {
        const reply = (await p.rt.client.call('ask', { agent: a, message: { op: 'echo', value: p.name } })) as { echo: string; from: string };
        assert.deepEqual([reply.echo, reply.from], [p.name, a]);
      }
    }
  });

  test('the pods\' command refuses a config that is not a cluster (no three copies of one tree), and a pod without the token does not join', () => {
    const pa = pods[0];
    const run = (config: unknown, podEnv: Labels, without?: string) => {
      const dir = workspace(config);
      const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...podEnv };
      if (without) delete env[without];
      try {
        const own = withArg(withArg(pa.args.slice(1), '--port', '0'), '--config', path.join(dir, 'faultline.config.json'));
        return spawnSync(process.execPath, [cliPath, 'up', ...own], { cwd: dir, encoding: 'utf8', timeout: 20_000, env });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    const plain = run({ name: 'plain', supervisor: { id: 'root', children: [probe('a')] } }, pa.env);
    assert.equal(plain.status, 2, plain.stderr);
    assert.match(plain.stderr, /--node: .* has no "cluster" section/);
    const r = run(clusterConfig('notoken'), pa.env, 'FAULTLINE_CLUSTER_TOKEN');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /FAULTLINE_CLUSTER_TOKEN is not set/);
  });

  test('a pod stopped with SIGTERM drains within terminationGracePeriodSeconds; the others run its agents', async () => {
    const ids = pods.map((p) => p.name);
    const s = await pods[0].rt.until(settled(ids), 'every child running on a node', 30_000);
    const victim = pods.find((p) => s.tree.children.some((c) => c.node === p.name))!;
    const survivors = pods.filter((p) => p !== victim);
    const t0 = Date.now();
    victim.rt.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([victim.rt.exited, new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), pod.terminationGracePeriodSeconds * 1000)))]);
    clearTimeout(timer);
    assert.notEqual(exit, 'late', `stopped within ${pod.terminationGracePeriodSeconds} s`);
    assert.deepEqual(exit, { code: 0, signal: null });
    const stopped = Date.now() - t0;
    const later = await survivors[0].rt.until(settled(survivors.map((p) => p.name)), 'the drained pod\'s children running on the others', 30_000);
    assert.deepEqual(later.tree.children.map((c) => c.id).sort(), [...UNITS].sort());
    assert.equal(later.cluster!.nodes.find((n) => n.id === victim.name)?.state, 'down', `drained in ${stopped} ms, and says so`);
    const reply = (await survivors[0].rt.client.call('ask', { agent: 'a1', message: { op: 'echo', value: 1 } })) as { from: string };
    assert.equal(reply.from, 'a1');
  });
});

describe('Dockerfile', () => {
  test('runs as a non-root user, with the Deployment\'s command (less the pod\'s --node) and a health check on /livez at the exposed port', () => {
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.match(final, /^USER node$/m);
    assert.doesNotMatch(final, /^USER (root|0)\b/m);
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(final)![1]) as string[];
    assert.deepEqual([...cmd, '--node', '$(POD_NAME)'], args, 'the image and the Deployment run the same command');
    assert.match(final, new RegExp(`^EXPOSE ${argAfter(cmd, '--port')}$`, 'm'));
    assert.match(final, new RegExp(`HEALTHCHECK[\\s\\S]*127\\.0\\.0\\.1:${argAfter(cmd, '--port')}/livez`));
    assert.match(final, /^ENTRYPOINT \["faultline"\]$/m);
    // The single runtime it starts (before()) is up on the image's command.
    assert.match(rt.output(), /Faultline runtime listening on http:\/\/0\.0\.0\.0:\d+/);
  });
});

describe('systemd units', () => {
  const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  const DROPIN = path.join('faultline.service.d', 'cluster.conf');
  const verify = (file: string) => spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });

  test('pass systemd-analyze verify, the service alone and with the cluster drop-in (and a broken copy does not)', { skip: !analyze && 'systemd-analyze is not installed here' }, () => {
    // In deploy/systemd, verify loads faultline.service with its drop-in beside it; a copy elsewhere is the unit alone.
    const alone = mkdtempSync(path.join(os.tmpdir(), 'faultline-unit-'));
    try {
      copyFileSync(path.join(deploy, 'systemd', 'faultline.service'), path.join(alone, 'faultline.service'));
      for (const f of [path.join(alone, 'faultline.service'), ...['faultline.service', 'faultline-health.service', 'faultline-health.timer'].map((f) => path.join(deploy, 'systemd', f))]) {
        const r = verify(f);
        assert.equal(r.status, 0, `${f}: ${r.stderr}`);
        assert.equal(r.stderr.trim(), '', `${f} verifies without warnings`);
      }
      const broken = path.join(alone, 'faultline.service');
      writeFileSync(broken, unit('faultline.service').replace(/^ExecStart=\/usr\/bin\/env /m, 'ExecStart='));
      assert.notEqual(verify(broken).status, 0, 'verify catches a bad unit');
      const dropin = path.join(alone, DROPIN);
      copyFileSync(path.join(deploy, 'systemd', 'faultline.service'), broken);
      mkdirSync(path.dirname(dropin));
      writeFileSync(dropin, unit(DROPIN).replace(/^ExecStart=\/usr\/bin\/env /m, 'ExecStart='));
      assert.notEqual(verify(broken).status, 0, 'verify reads the drop-in beside the unit, and catches a bad one');
    } finally {
      rmSync(alone, { recursive: true, force: true });
    }
  });

  test('credentials from /etc/faultline/env; the cluster drop-in is the same command plus --node %H, beyond the loopback', () => {
    const service = unit('faultline.service');
    assert.deepEqual(directive(service, 'EnvironmentFile'), ['-/etc/faultline/env']);
    assert.match(service, /install -D -m 0600 \/dev\/null \/etc\/faultline\/env/, 'the header makes the file, mode 0600');
    assert.match(service, /FAULTLINE_PG_URL=/);
    assert.match(service, /FAULTLINE_CLUSTER_TOKEN=/);
    assert.match(service, /faultline\.service\.d\/cluster\.conf/, 'the header installs the drop-in');
    const base = directive(service, 'ExecStart')[0].split(/\s+/);
    const exec = directive(unit(DROPIN), 'ExecStart');
    assert.equal(exec.length, 2);
    assert.equal(exec[0], '', 'the drop-in resets ExecStart before setting its own');
    const node = exec[1].split(/\s+/);
    assert.equal(argAfter(node, '--node'), '%H', 'named after the machine');
    assert.ok(argAfter(node, '--host') !== undefined && !/^127\.|^localhost$/.test(argAfter(node, '--host')!), 'the other nodes reach it');
    assert.match(argAfter(node, '--advertise')!.replaceAll('%H', os.hostname()), ADVERTISE);
    assert.equal(new URL(argAfter(node, '--advertise')!.replaceAll('%H', 'h')).port, argAfter(base, '--port'), 'advertised on the port it listens on');
    assert.deepEqual(dropFlag(dropFlag(dropFlag(node, '--node'), '--host'), '--advertise'), base, 'the same command as the unit\'s, no drift');
    assert.deepEqual(directive(service, 'Restart'), ['on-failure']);
  });

  test('restarts on failure; its readiness wait and the liveness check answer for a running runtime and fail for none', async () => {
    const service = unit('faultline.service');
    assert.deepEqual(directive(service, 'Restart'), ['on-failure']);
    const start = directive(service, 'ExecStart')[0].split(/\s+/);
    const unitPort = argAfter(start, '--port');
    assert.equal(argAfter(start, '--host'), undefined, 'a single runtime on a host stays on the loopback');
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

  test('the drop-in\'s command runs a cluster node named after the machine; the readiness wait and liveness check answer for it', async () => {
    const service = unit('faultline.service');
    const unitPort = argAfter(directive(service, 'ExecStart')[0].split(/\s+/), '--port')!;
    const cmd = directive(unit(DROPIN), 'ExecStart')[1].replaceAll('%H', os.hostname()).split(/\s+/);
    assert.deepEqual(cmd.slice(0, 3), ['/usr/bin/env', 'faultline', 'up']);
    const p = await freePort();
    const dir = workspace(clusterConfig('systemd'));
    let own = withArg(withArg(cmd.slice(3), '--port', String(p)), '--config', path.join(dir, 'faultline.config.json'));
    own = withArg(withArg(own, '--state-dir', path.join(dir, 'state')), '--advertise', argAfter(own, '--advertise')!.replace(`:${unitPort}`, `:${p}`)).filter((a) => a !== '--no-live');
    // What /etc/faultline/env holds on every machine.
    const node = await up(dir, own, { FAULTLINE_PG_URL: pg.url, FAULTLINE_CLUSTER_TOKEN: TOKEN });
    try {
      const s = await node.until((x) => x.tree.children.every((c) => c.node === os.hostname() && c.state === 'running'), 'the node running its tree', 30_000);
      assert.equal(s.cluster!.node, os.hostname());
      assert.equal(s.cluster!.nodes[0].url.replace(/\/$/, ''), `http://${os.hostname()}:${p}`);
      const script = (line: string) => /node -e "(.*)"$/.exec(line)![1].replaceAll(`:${unitPort}/`, `:${p}/`);
      for (const js of [script(directive(service, 'ExecStartPost')[0]), script(directive(unit('faultline-health.service'), 'ExecStart')[0])]) {
        assert.equal(spawnSync(process.execPath, ['-e', js], { timeout: 20_000 }).status, 0, js);
      }
    } finally {
      await node.stop();
    }
  });
});
