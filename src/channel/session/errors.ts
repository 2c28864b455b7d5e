/**
 * A persistent session ended without being closed by either side: the client ran out of reconnection attempts,
 * the server no longer holds the session, or the peer broke the session protocol. Calls that were waiting on it
 * reject with the channel's close; open a new connection to go on.
 */
export class SessionLostError extends Error {
  override name = 'SessionLostError';
}

/** More bytes were sent and not acknowledged than the session may hold for replay (maxReplayBytes). */
export class SessionOverflowError extends Error {
  override name = 'SessionOverflowError';
}

/** A peer sent a session frame this side cannot make sense of; the session is given up. */
export class SessionProtocolError extends Error {
  override name = 'SessionProtocolError';
}
