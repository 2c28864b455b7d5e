import { isStreamSource } from '../../codec';
import { StreamError } from '../../errors';
import type { StreamingCall } from '../../streamTypes';
import { RemoteStream } from './RemoteStream';

const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined });

/**
 * The promise of a call, readable with `for await` before it settles: reading waits for the result and goes on
 * with the stream in it. One shared function per promise, so a call that returns no stream pays one property store.
 */
export function iterableCall<T>(call: Promise<unknown>): StreamingCall<T> {
  (call as Partial<StreamingCall<T>>)[Symbol.asyncIterator] = readResult as () => AsyncIterator<T>;
  return call as StreamingCall<T>;
}

function readResult(this: Promise<unknown>): AsyncIterator<unknown> {
  const call = this;
  let inner: AsyncIterator<unknown> | undefined;
  // Kept, so a second next() while the result is on its way waits for the same stream instead of opening it again.
  let opening: Promise<AsyncIterator<unknown>> | undefined;
  let left = false;
  const open = async (): Promise<AsyncIterator<unknown>> => {
    const result = await call;
    if (!isStreamSource(result)) {
      throw new StreamError(
        `The call returned ${result === null ? 'null' : typeof result}, not a stream: await it instead of for-await`,
      );
    }
    inner = result[Symbol.asyncIterator]();
    // Left while the result was on its way.
    if (left) void inner.return?.();
    return inner;
  };
  return {
    // Straight to the stream once it is there: one promise per item, not three.
    next: () => (inner ? inner.next() : (opening ??= open()).then((iterator) => iterator.next())),
    return: async () => {
      left = true;
      if (!inner) {
        // Not read yet: the stream, if one comes, is let go when it does.
        call.then(
          (result) => {
            if (!inner && result instanceof RemoteStream) result.cancel();
          },
          () => undefined,
        );
        return DONE;
      }
      return (await inner.return?.()) ?? DONE;
    },
  };
}
