export * from './codec';
export {
  RpcProtocol,
  type RpcTarget,
  type RequestOptions,
  type RemoteEvent,
  type RpcProtocolOptions,
  type NotificationEvent,
  type RpcObserver,
  type RpcCallInfo,
  type RpcCallOutcome,
  type StreamWindow,
  type StreamWatcher,
} from './RpcProtocol';
export { RemoteStream } from './protocol/streams/RemoteStream';
export { DEFAULT_STREAM_WINDOW } from './protocol/streams/window';
export type { RemoteCall, RemoteResult, StreamingCall, StreamItem } from './streamTypes';
export type { CodecExtensionTypes, NotSendable, Received, Sendable, SendableParameters } from './valueTypes';
export { RpcPeer } from './RpcPeer';
export { createServiceProxy, ServiceTarget, type Remote, type ProxyOptions } from './services';
export {
  ConnectionClosedError,
  MethodNotFoundError,
  ServiceNotFoundError,
  TimeoutError,
  AbortError,
  RpcProtocolError,
  ReplyTooLargeError,
  ChannelInUseError,
  StreamError,
} from './errors';
export { isRemoteError } from './remoteError';
export * from './channels';
export { currentCallSignal } from './protocol/cancellation';
