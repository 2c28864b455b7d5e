/**
 * Theia's error for a request that failed with a code and data of its own, besides the message. It keeps its class
 * across the connection (see codec.ts), so the caller can test it with instanceof.
 */
export class ResponseError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data: unknown,
  ) {
    super(message);
  }
}

/** An RpcMessageEncoder could not write a value (a cycle, a function, a value too deep); `cause` says why. */
export class EncodingError extends Error {
  override name = 'EncodingError';
  constructor(
    msg: string,
    public override cause?: Error,
  ) {
    super(msg);
  }
}

/** A channel's onError was fired with something that is not an Error; `value` is what was fired. */
export class UnknownChannelError extends Error {
  override name = 'UnknownChannelError';
  constructor(readonly value: unknown) {
    super(`The channel reported an error that is not an Error: ${String(value)}`);
  }
}

/**
 * A ReadBuffer fdpipe cannot read its messages from: fdpipe's RPC and multiplexer read messages as bytes, which only
 * this face's Uint8ArrayReadBuffer (or fdpipe's own) gives.
 */
export class UnsupportedReadBufferError extends TypeError {
  override name = 'UnsupportedReadBufferError';
  constructor() {
    super(
      'This ReadBuffer is not a Uint8ArrayReadBuffer of fdpipe/theia: ' +
        'fire messages as () => new Uint8ArrayReadBuffer(bytes)',
    );
  }
}

/**
 * An RpcProtocol was given an encoder or decoder fdpipe cannot run on: the protocol speaks fdpipe's wire format,
 * so it takes only this face's encoder and decoder, and both must share one codec.
 */
export class UnsupportedEncoderError extends TypeError {
  override name = 'UnsupportedEncoderError';
}

/** ChannelMultiplexer.open() of an id that is already open, or being opened, on this multiplexer. */
export class DuplicateChannelError extends Error {
  override name = 'DuplicateChannelError';
  constructor(readonly id: string) {
    super(`Another channel with the id '${id}' is already open.`);
  }
}
