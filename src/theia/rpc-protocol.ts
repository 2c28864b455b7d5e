import { Emitter, type Event } from '../common/event';
import { warnUnhandled } from '../common/warn';
import { ChannelClosedError } from '../channel/errors';
import { AbortError, ConnectionClosedError, MethodNotFoundError } from '../rpc/errors';
import type { ValueCodec } from '../rpc/codec';
import { RpcProtocol as CoreRpcProtocol } from '../rpc/RpcProtocol';
import { CancellationToken, tokenOf } from './cancellation';
import { onClosedHere, type Channel } from './channel';
import { defaultCodec } from './codec';
import { toCoreChannel } from './core-channel';
import { DisposableCollection } from './disposable';
import { UnsupportedEncoderError } from './errors';
import {
  MsgPackMessageDecoder,
  MsgPackMessageEncoder,
  type RpcMessageDecoder,
  type RpcMessageEncoder,
} from './rpc-message-encoder';
import { CANCELLATION_TOKEN_KEY, NOTIFICATION_TARGET } from './wire';
import { supportUsing } from '../common/lifecycle';

/**
 * Serves the other side's requests. `args` is `any[]`, as in Theia, so that handlers written without types still
 * compile where they read their arguments.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RequestHandler = (method: string, args: any[]) => Promise<unknown>;

/** A notification from the other side; its `args` are `any[]` for the same reason as RequestHandler's. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NotificationEvent = { method: string; args: any[] };

export interface RpcProtocolOptions {
  /** This face's encoder, for the codec it carries; others cannot be used (UnsupportedEncoderError). */
  encoder?: RpcMessageEncoder;
  /** This face's decoder, for the codec it carries; with an encoder, both must carry the same codec. */
  decoder?: RpcMessageDecoder;
  /** `clientOnly`: this side only calls; `serverOnly`: it only serves. Default: both. */
  mode?: 'default' | 'clientOnly' | 'serverOnly';
}

/**
 * Theia's RpcProtocol, run by fdpipe's RPC core: requests and notifications to one request handler on the other
 * side, with a CancellationToken as a request's last argument cancelling it through the core's AbortSignal.
 */
export class RpcProtocol {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  static readonly CANCELLATION_TOKEN_KEY = CANCELLATION_TOKEN_KEY;

  /** The fdpipe protocol doing the work: its pendingCount, onError, timeouts and typed services are there too. */
  readonly core: CoreRpcProtocol;
  protected readonly mode: 'default' | 'clientOnly' | 'serverOnly';
  protected readonly onNotificationEmitter = new Emitter<NotificationEvent>({ onListenerError: warnUnhandled });
  protected readonly toDispose = new DisposableCollection();
  /** Ids as Theia numbers messages; only requests that can be cancelled keep theirs, for sendCancel(). */
  protected nextMessageId = 0;
  private readonly cancellable = new Map<number, AbortController>();

  constructor(
    readonly channel: Channel,
    readonly requestHandler: RequestHandler | undefined,
    options: RpcProtocolOptions = {},
  ) {
    this.mode = options.mode ?? 'default';
    const serves = this.mode !== 'clientOnly';
    const base = toCoreChannel(channel, this.toDispose);
    // A side that does not serve says so at once, instead of letting the caller wait for a handler.
    this.core = new CoreRpcProtocol(base, { codec: codecOf(options), serviceWaitTimeout: serves ? undefined : 0 });
    this.toDispose.push(this.onNotificationEmitter);
    this.toDispose.push(this.core);
    this.toDispose.push(this.core.onClose(() => this.toDispose.dispose()));
    const closed = onClosedHere(channel, () => this.toDispose.dispose());
    if (closed) this.toDispose.push(closed);
    if (serves) {
      this.toDispose.push(this.core.setRequestHandler((method, args) => this.serve(method, args)));
      this.toDispose.push(
        this.core.onNotification(({ target, method, args }) => {
          if (target === NOTIFICATION_TARGET) this.onNotificationEmitter.fire({ method, args });
        }),
      );
    }
  }

  get onNotification(): Event<NotificationEvent> {
    return this.onNotificationEmitter.event;
  }

  /**
   * Calls `method` on the other side's request handler. A CancellationToken as the last argument cancels the
   * call: it rejects with AbortError at once and the handler's token fires. A failure to send rejects, never throws.
   */
  sendRequest<T>(method: string, args: unknown[]): Promise<T> {
    const id = this.nextMessageId++;
    const token = lastToken(args);
    // The caller names the result's type, as in Theia: nothing here can check it.
    if (!token) return this.core.sendRequest(method, args) as Promise<T>;
    const controller = new AbortController();
    // The core rejects with the abort's reason: this face's callers get AbortError, as before.
    const abort = () => controller.abort(new AbortError(method));
    if (token.isCancellationRequested) abort();
    const listening = token.onCancellationRequested(abort);
    this.cancellable.set(id, controller);
    const done = () => {
      listening.dispose();
      this.cancellable.delete(id);
    };
    const result = this.core.sendRequest(method, args.slice(0, -1), { signal: controller.signal });
    result.then(done, done);
    return result as Promise<T>;
  }

  /** Fire and forget; with a CancellationToken last it is sent as a request, as in Theia, its outcome dropped. */
  sendNotification(method: string, args: unknown[]): void {
    if (lastToken(args)) {
      this.sendRequest(method, args).then(undefined, () => {});
      return;
    }
    this.nextMessageId++;
    try {
      this.core.notify(NOTIFICATION_TARGET, method, args);
    } catch (error) {
      // Fire and forget, as in Theia, where a notification written to a closed channel is lost without a word: a
      // proxy's notify…() that nobody awaits must not become an unhandled rejection once the connection is gone.
      if (!(error instanceof ConnectionClosedError || error instanceof ChannelClosedError)) throw error;
    }
  }

  /** Cancels the request Theia numbered `requestId`, if it was sent with a token and is still pending. */
  sendCancel(requestId: number): void {
    this.cancellable.get(requestId)?.abort(new AbortError(`request ${requestId}`));
  }

  /** Stops the protocol: pending calls reject, the other side is told; the channel stays open. */
  dispose(): void {
    this.toDispose.dispose();
  }

  /** A request from the other side; a signal the core put last (the caller passed a token) becomes a token. */
  private serve(method: string, args: unknown[]): unknown {
    const handler = this.requestHandler;
    if (!handler) {
      throw new MethodNotFoundError(`No request handler was given to this RpcProtocol (asked for '${method}')`);
    }
    const last = args[args.length - 1];
    if (last instanceof AbortSignal) args[args.length - 1] = tokenOf(last);
    return handler(method, args);
  }
}

function lastToken(args: unknown[]): CancellationToken | undefined {
  const last = args[args.length - 1];
  return args.length > 0 && CancellationToken.is(last) ? last : undefined;
}

/** The one codec the core runs with: the encoder's and decoder's, which must agree, or the face's default. */
function codecOf({ encoder, decoder }: RpcProtocolOptions): ValueCodec {
  const needs = (what: string) => `RpcProtocol runs on fdpipe's wire format: give it a ${what} of fdpipe/theia`;
  if (encoder !== undefined && !(encoder instanceof MsgPackMessageEncoder)) {
    throw new UnsupportedEncoderError(needs('MsgPackMessageEncoder'));
  }
  if (decoder !== undefined && !(decoder instanceof MsgPackMessageDecoder)) {
    throw new UnsupportedEncoderError(needs('MsgPackMessageDecoder'));
  }
  if (encoder && decoder && encoder.codec !== decoder.codec) {
    throw new UnsupportedEncoderError('The encoder and decoder of one RpcProtocol must share one ValueCodec');
  }
  return encoder?.codec ?? decoder?.codec ?? defaultCodec;
}

supportUsing(RpcProtocol.prototype);
