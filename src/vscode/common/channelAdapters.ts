import type { Event as CoreEvent } from '../../common/event';
import type { IChannel as CoreChannel, IServerChannel as CoreServerChannel } from '../../rpc/channels/types';
import { AbortError, ConnectionClosedError } from '../../rpc/errors';
import { CancellationToken } from '../base/cancellation';
import { CancellationError } from '../base/errors';
import { Emitter, Event } from '../base/event';
import type { IDisposable } from '../base/lifecycle';
import { tokenFromSignal } from '../base/signals';
import type { IChannel, IServerChannel } from './types';

// Where the face's channels meet the core's: tokens become signals and back, and the core's cancellations become
// VS Code's CancellationError.

/** A core event as a face event, taking VS Code's thisArgs and disposables. */
export function fromCoreEvent<T>(event: CoreEvent<T>): Event<T> {
  return (listener, thisArgs, disposables) => {
    const subscription = event(thisArgs === undefined ? listener : (e) => listener.call(thisArgs, e));
    if (Array.isArray(disposables)) disposables.push(subscription);
    else disposables?.add(subscription);
    return subscription;
  };
}

/** A face server channel as the core's: the live signal of each call becomes its CancellationToken. */
export function toCoreServerChannel<TContext>(channel: IServerChannel<TContext>): CoreServerChannel<TContext> {
  return {
    call: (ctx, command, arg, signal) => {
      try {
        return channel.call(ctx, command, arg, tokenFromSignal(signal));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    // A face event is a core event too: it takes a listener first, and the core passes nothing else.
    listen: (ctx, event, arg) => channel.listen(ctx, event, arg),
  };
}

/**
 * What a face IChannel over a core channel needs from its owner: a flag for calls after dispose, and a set it
 * disposes to cancel every call and end every subscription.
 */
export interface ChannelLifetime {
  readonly isDisposed: boolean;
  readonly active: Set<IDisposable>;
}

/**
 * A core channel as a face IChannel. A call cancelled by its token, or still pending when its owner is disposed,
 * rejects with CancellationError as in VS Code; so does one whose connection closes under it (VS Code's child
 * process client cancels those too), with the reason as `cause`.
 */
export function toFaceChannel(channel: CoreChannel, lifetime: ChannelLifetime): IChannel {
  return {
    call<T>(command: string, arg?: unknown, token: CancellationToken = CancellationToken.None): Promise<T> {
      if (lifetime.isDisposed || token.isCancellationRequested) return Promise.reject(new CancellationError());
      // One signal for both ways a call is cancelled: its token, and its owner's dispose().
      const controller = new AbortController();
      // The core rejects with the abort's reason: an AbortError, which becomes VS Code's CancellationError below.
      const abort = () => controller.abort(new AbortError(command));
      const cancel: IDisposable = { dispose: abort };
      const onToken = token.onCancellationRequested(abort);
      lifetime.active.add(cancel);
      const release = () => {
        lifetime.active.delete(cancel);
        onToken.dispose();
      };
      return channel.call<T>(command, arg, controller.signal).then(
        (result) => {
          release();
          return result;
        },
        (error: unknown) => {
          release();
          throw toCancellation(error);
        },
      );
    },
    listen<T>(event: string, arg?: unknown): Event<T> {
      if (lifetime.isDisposed) return Event.None;
      const source = channel.listen<T>(event, arg);
      let subscription: IDisposable | undefined;
      const emitter: Emitter<T> = new Emitter<T>({
        onWillAddFirstListener: () => {
          subscription = source((e) => emitter.fire(e));
          lifetime.active.add(emitter);
        },
        onDidRemoveLastListener: () => {
          subscription?.dispose();
          subscription = undefined;
          lifetime.active.delete(emitter);
        },
      });
      return emitter.event;
    },
  };
}

function toCancellation(error: unknown): unknown {
  if (error instanceof AbortError || error instanceof ConnectionClosedError) {
    const cancellation = new CancellationError();
    Object.defineProperty(cancellation, 'cause', { value: error, configurable: true, writable: true });
    return cancellation;
  }
  return error;
}
