/**
 * A network namespace of a test's own, linked to the host's by a veth pair,
 * for cutting one node off the others and the store. Needs root and
 * `ip netns`; `netnsUnavailable()` says why not, and the test then runs its
 * SIGSTOP stand-in only. A TCP relay on the host side of the link forwards
 * to servers bound to the loopback (PostgreSQL), so that cutting the link
 * cuts those too, without rebinding them.
 */
import { spawnSync } from 'node:child_process';
import net from 'node:net';

const ip = (...args: string[]) => {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout;
};

/** Why this machine cannot give a test a network namespace, or undefined when it can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const name = `flprobe${process.pid % 100000}`;
  try {
    ip('netns', 'add', name);
    ip('netns', 'del', name);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export class NetnsLink {
  readonly name: string;
  private readonly hostIf: string;
  private readonly nsIf: string;
  readonly hostIp: string;
  readonly nsIp: string;
  private relays: net.Server[] = [];
  private sockets = new Set<net.Socket>();

  constructor(n = 1) {
    const id = `${process.pid % 10000}${n}`;
    this.name = `fl${id}`;
    this.hostIf = `flh${id}`;
    this.nsIf = `fln${id}`;
    const octet = 1 + ((process.pid * 7 + n) % 250);
    this.hostIp = `10.213.${octet}.1`;
    this.nsIp = `10.213.${octet}.2`;
  }

  create(): this {
    ip('netns', 'add', this.name);
    ip('link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', this.nsIf);
    ip('link', 'set', this.nsIf, 'netns', this.name);
    ip('addr', 'add', `${this.hostIp}/30`, 'dev', this.hostIf);
    ip('link', 'set', this.hostIf, 'up');
    ip('netns', 'exec', this.name, 'ip', 'addr', 'add', `${this.nsIp}/30`, 'dev', this.nsIf);
    ip('netns', 'exec', this.name, 'ip', 'link', 'set', this.nsIf, 'up');
    ip('netns', 'exec', this.name, 'ip', 'link', 'set', 'lo', 'up');
    return this;
  }

  /** The command prefix that runs a program inside the namespace. */
  get exec(): string[] {
    return ['ip', 'netns', 'exec', this.name];
  }

  /** Listens on the host's end of the link and relays to 127.0.0.1:port; resolves to the port to use from inside. */
  relay(port: number): Promise<number> {
    const server = net.createServer((inbound) => {
      const outbound = net.connect(port, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      inbound.pipe(outbound).pipe(inbound);
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
    });
    this.relays.push(server);
    return new Promise((resolve) => server.listen(0, this.hostIp, () => resolve((server.address() as net.AddressInfo).port)));
  }

  /** Cuts the link: packets stop both ways (connections hang rather than close, as in a partition). */
  cut(): void {
    ip('link', 'set', this.hostIf, 'down');
  }

  restore(): void {
    ip('link', 'set', this.hostIf, 'up');
  }

  async dispose(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.relays.map((r) => new Promise((res) => r.close(res))));
    try {
      ip('netns', 'del', this.name); // takes its end of the veth pair, and so the pair, with it
    } catch {
      // already gone
    }
    try {
      ip('link', 'del', this.hostIf);
    } catch {
      // gone with the namespace
    }
  }
}
