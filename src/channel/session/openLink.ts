import type { Duplex } from 'stream';
import { DisposableStore, toDisposable, type Disposable } from '../../common/lifecycle';
import type { BinaryMessagePipeOptions } from '../../pipe/BinaryMessagePipe';
import { SessionLostError } from './errors';
import { sessionPipe, type SessionLink } from './SessionChannel';

/**
 * Frames a new socket for a session and waits for its first frame: the peer's OPEN (on the server) or the answer
 * to ours (on the client, which sends `first`). `onFirst` runs in the same callback as the frame arrives and must
 * attach the link there, so frames right behind it (a replay, in the same chunk) reach the session. If it throws,
 * or the socket closes or says nothing within `timeoutMs`, the socket is destroyed and `onFail` is told.
 * Disposing the result gives up on the socket.
 */
export function openLink(
  stream: Duplex,
  options: BinaryMessagePipeOptions,
  first: Uint8Array | undefined,
  limit: number,
  timeoutMs: number,
  onFirst: (frame: Uint8Array, link: SessionLink) => void,
  onFail: (error: Error) => void,
): Disposable {
  const pipe = sessionPipe(stream, options);
  pipe.limitIncoming(limit);
  const store = new DisposableStore();
  let settled = false;
  const fail = (error: Error) => {
    if (settled) return;
    settled = true;
    store.dispose();
    stream.destroy();
    onFail(error);
  };
  const timer = setTimeout(
    () => fail(new SessionLostError(`The session handshake got no answer within ${timeoutMs} ms`)),
    timeoutMs,
  );
  store.add(toDisposable(() => clearTimeout(timer)));
  store.add(
    pipe.onMessage((frame) => {
      if (settled) return;
      settled = true;
      store.dispose();
      try {
        onFirst(frame, { pipe, stream });
      } catch (error) {
        stream.destroy();
        onFail(error instanceof Error ? error : new Error(String(error)));
      }
    }),
  );
  store.add(
    pipe.onClose((event) =>
      fail(
        new SessionLostError(
          `The socket closed during the session handshake (${event.error ? event.error.message : event.reason})`,
        ),
      ),
    ),
  );
  // What fails the stream also closes it, which is what is reported.
  store.add(pipe.onError(() => {}));
  if (first) {
    try {
      pipe.send(first);
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)));
    }
  }
  return toDisposable(() => {
    if (settled) return;
    settled = true;
    store.dispose();
    stream.destroy();
  });
}
