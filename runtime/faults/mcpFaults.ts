/**
 * MCP server faults: `kill-server <dependency>` SIGKILLs the process of a
 * stdio MCP dependency (or of every one a glob matches), as a crash of the
 * server would, so that its supervision can be seen at work: calls in
 * flight fail and are retried, the process is started again with backoff,
 * and calls are answered again. One-shot: done once the processes are killed.
 */
import { RpcError, RpcErrorCode, type FaultSpec } from '../protocol/rpc.ts';
import { MCP_FAULTS } from '../protocol/faults.ts';
import type { McpServers } from '../gateway/mcpServers.ts';
import type { ActiveFault, FaultFamily } from './FaultCatalogue.ts';
import { globMatch } from './seededRandom.ts';

export function mcpFaults(servers: McpServers): FaultFamily {
  const matching = (target: string) => servers.ids(true).filter((id) => globMatch(target, id));
  return {
    kind: 'dependency',
    faults: MCP_FAULTS,
    validate(spec: FaultSpec) {
      const ids = matching(spec.target);
      if (!ids.length) {
        const stdio = servers.ids(true);
        throw new RpcError(RpcErrorCode.NotFound, `No MCP server over stdio matches "${spec.target}" (${stdio.length ? `stdio MCP dependencies: ${stdio.join(', ')}` : 'no "mcp" dependency has a "command"'})`);
      }
      if (!ids.some((id) => servers.status(id)?.state === 'running')) {
        throw new RpcError(RpcErrorCode.Unavailable, `No server process of ${ids.join(', ')} runs now (${ids.map((id) => `${id}: ${servers.status(id)?.state}`).join(', ')}); try again once it is running`);
      }
    },
    apply(f: ActiveFault) {
      const pids = matching(f.target).flatMap((id) => servers.kill(id) ?? []);
      f.params = { ...f.params, pids };
      return true;
    },
  };
}
