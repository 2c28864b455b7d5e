// Every RPC message is one channel message: a uint8 type, then the fields listed here. Targets name a service
// ('' for the low-level handler); ids are varints; args are a varint count followed by that many codec values.
export const enum MessageType {
  /** varint id, uint8 flags, string target, string method, args */
  Request = 1,
  /** varint id, value */
  Reply = 2,
  /** varint id, value (the error or the rejection value) */
  ReplyError = 3,
  /** string target, string method, args */
  Notification = 4,
  /** varint id */
  Cancel = 5,
  /** varint subscription id, string target, string event, args */
  Subscribe = 6,
  /** varint subscription id */
  Unsubscribe = 7,
  /** varint subscription id, value */
  EventFire = 8,
  /** varint subscription id, value (why the subscription could not be made or ended) */
  EventError = 9,
  /** nothing: the sender disposed its protocol; the receiver rejects its pending calls and stops too */
  Goodbye = 10,
}

/** Request flag: the caller can cancel (a signal or a timeout): the callee keeps an AbortController for a cancel. */
export const FLAG_CANCELLABLE = 1;
/** Request flag: the caller passed an AbortSignal as its last argument: the callee's live signal takes its place. */
export const FLAG_SIGNAL_ARGUMENT = 2;
