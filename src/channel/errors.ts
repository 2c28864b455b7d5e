/** IPCChannel was created in a process that has no pipe on fd 4, or for a child spawned without one. */
export class NoChannelPipeError extends Error {
  override name = 'NoChannelPipeError';
}

/** A channel was used after it closed. */
export class ChannelClosedError extends Error {
  override name = 'ChannelClosedError';
}
