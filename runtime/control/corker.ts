/** What can hold its writes back: a net socket, or any stream with cork/uncork. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Holds sockets' writes until the end of this turn of the event loop, then
 * releases them all at once: the frames of one turn (a commit settles many
 * asks together) leave in one write per socket, not one write each.
 */
export function corker(): (socket: Corkable | undefined) => void {
  const corked = new Set<Corkable>();
  const uncorkAll = () => {
    for (const s of corked) s.uncork();
    corked.clear();
  };
  return (socket) => {
    if (!socket || corked.has(socket)) return;
    socket.cork();
    corked.add(socket);
    if (corked.size === 1) setImmediate(uncorkAll);
  };
}
