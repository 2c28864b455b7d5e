import { performance } from 'perf_hooks';
import { toDisposable, type Disposable } from '../../common/lifecycle';

/** One call as an observer sees it when it starts. `target` is '' for the low-level request handler. */
export interface RpcCallInfo {
  /** 'outgoing': this side called the other; 'incoming': the other side called this one. */
  readonly direction: 'outgoing' | 'incoming';
  /** The request id on the wire (the caller's): the same number on both sides of one call. */
  readonly id: number;
  readonly target: string;
  readonly method: string;
  /** The arguments as sent (outgoing) or as decoded (incoming). Do not change them. */
  readonly args: readonly unknown[];
  /** Size of the request message in bytes: sent when outgoing, received when incoming. */
  readonly requestBytes: number;
}

/** How a call ended. */
export interface RpcCallOutcome {
  /** Milliseconds from the request (sent or received) to the reply (received or sent). */
  readonly durationMs: number;
  /** Bytes this side sent for the call: the request when outgoing, the reply when incoming. */
  readonly bytesOut: number;
  /** Bytes this side received for the call: the reply when outgoing, the request when incoming. */
  readonly bytesIn: number;
  /** True when the call failed: a rejection, a timeout, an abort, a closed connection. */
  readonly failed: boolean;
  /** The rejection, when `failed`. */
  readonly error?: unknown;
  /** The result, when it did not fail. */
  readonly result?: unknown;
}

/**
 * Watches the calls of one RpcProtocol, both the calls this side makes and those it serves. Whatever
 * `callStarted` returns is handed to `callEnded` for the same call: an OpenTelemetry span, a timer, a log record.
 *
 *     protocol.addObserver({
 *       callStarted: (call) => tracer.startSpan(`${call.target}.${call.method}`, { kind: call.direction === 'outgoing' ? SpanKind.CLIENT : SpanKind.SERVER }),
 *       callEnded: (call, outcome, span) => { if (outcome.failed) span.recordException(outcome.error); span.end(); },
 *     });
 *
 * Both are called synchronously, on the protocol's own path: keep them quick. An observer that throws is
 * reported on the protocol's onError; the call goes on.
 */
export interface RpcObserver<TContext = unknown> {
  callStarted?(call: RpcCallInfo): TContext;
  callEnded?(call: RpcCallInfo, outcome: RpcCallOutcome, context: TContext): void;
}

/** The observers of one protocol. The protocol keeps none at all while nobody observes, so calls pay nothing. */
export class CallObservers {
  private readonly list: RpcObserver[] = [];

  constructor(private readonly reportError: (error: unknown) => void) {}

  add(observer: RpcObserver, onEmpty: () => void): Disposable {
    this.list.push(observer);
    return toDisposable(() => {
      const index = this.list.indexOf(observer);
      if (index < 0) return;
      this.list.splice(index, 1);
      if (this.list.length === 0) onEmpty();
    });
  }

  start(
    direction: RpcCallInfo['direction'],
    id: number,
    target: string,
    method: string,
    args: readonly unknown[],
    requestBytes: number,
  ): ObservedCall {
    const info: RpcCallInfo = { direction, id, target, method, args, requestBytes };
    const observers = [...this.list];
    const contexts = observers.map((observer) => {
      try {
        return observer.callStarted?.(info);
      } catch (error) {
        this.reportError(error);
        return undefined;
      }
    });
    return new ObservedCall(info, observers, contexts, this.reportError);
  }
}

/** One call being watched: ends once, whichever way it settles. */
export class ObservedCall {
  private readonly startedAt = performance.now();
  private ended = false;

  constructor(
    readonly info: RpcCallInfo,
    private readonly observers: readonly RpcObserver[],
    private readonly contexts: readonly unknown[],
    private readonly reportError: (error: unknown) => void,
  ) {}

  /** `replyBytes`: the reply's size, or 0 when no reply came (outgoing) or none could be sent (incoming). */
  end(replyBytes: number, failed: boolean, value: unknown): void {
    if (this.ended) return;
    this.ended = true;
    const outgoing = this.info.direction === 'outgoing';
    const outcome: RpcCallOutcome = {
      durationMs: performance.now() - this.startedAt,
      bytesOut: outgoing ? this.info.requestBytes : replyBytes,
      bytesIn: outgoing ? replyBytes : this.info.requestBytes,
      failed,
      ...(failed ? { error: value } : { result: value }),
    };
    for (let i = 0; i < this.observers.length; i++) {
      try {
        this.observers[i].callEnded?.(this.info, outcome, this.contexts[i]);
      } catch (error) {
        this.reportError(error);
      }
    }
  }
}
