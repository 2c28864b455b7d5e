/** A value that cannot be encoded: the message says what and where, as a path from the root (`args[1].items[3]`). */
export class EncodeError extends Error {
  override name = 'EncodeError';

  /**
   * @param reason what went wrong, without the where
   * @param root the name the path starts from (what the caller passed to encode, 'value' by default)
   * @param subpath the steps from the root to the offending value, as in `[1].items[3]`; empty at the root
   */
  constructor(
    readonly reason: string,
    readonly root = 'value',
    readonly subpath = '',
    options?: { cause?: unknown },
  ) {
    super(`${reason} at ${root}${elide(subpath)}`, options);
  }

  /** The whole path, root included. */
  get path(): string {
    return this.root + this.subpath;
  }

  /**
   * The same error with the path starting from another name. Lets a caller encode many values under one cheap
   * constant root and name the specific one (`args[2]`) only when something fails.
   */
  withRoot(root: string): EncodeError {
    const error = new EncodeError(this.reason, root, this.subpath, { cause: this.cause });
    error.stack = this.stack?.replace(this.message, error.message);
    return error;
  }

  /** The RPC call whose arguments held the value (`math.add`), when it was found encoding one. */
  call?: string;

  /** The same error, told as part of the call `call`, with what to do when a function was passed. */
  withCall(call: string): EncodeError {
    const error = this.withRoot(this.root);
    error.call = call;
    const hint = this.reason.startsWith('cannot encode a function')
      ? ': functions do not cross a connection; pass data, or expose the callback as a service on this side for ' +
        'the other to call'
      : '';
    const message = `${error.message} of the call to ${call}${hint}`;
    error.stack = error.stack?.replace(error.message, message);
    error.message = message;
    return error;
  }
}

/**
 * A message that cannot be decoded: truncated, corrupt, hostile, or nested past the limit. Only this message is
 * lost; the buffer layer's own read errors arrive wrapped as the cause.
 */
export class DecodeError extends Error {
  override name = 'DecodeError';

  /** @param offset where in the message the problem was noticed, when known */
  constructor(
    message: string,
    readonly offset?: number,
    options?: { cause?: unknown },
  ) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`, options);
  }
}

/** Paths longer than this many characters are cut in the middle in messages (the error keeps the whole path). */
const MAX_PATH_IN_MESSAGE = 160;

function elide(path: string): string {
  if (path.length <= MAX_PATH_IN_MESSAGE) return path;
  const half = MAX_PATH_IN_MESSAGE / 2;
  return `${path.slice(0, half)}…${path.slice(path.length - half)}`;
}
