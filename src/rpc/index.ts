export * from './codec';
export {
  RpcProtocol,
  type RpcTarget,
  type RequestOptions,
  type RpcProtocolOptions,
  type NotificationEvent,
  type RpcObserver,
  type RpcCallInfo,
  type RpcCallOutcome,
} from './RpcProtocol';
export { RpcPeer } from './RpcPeer';
export { createServiceProxy, ServiceTarget, type Remote, type ProxyOptions } from './services';
export {
  ConnectionClosedError,
  MethodNotFoundError,
  ServiceNotFoundError,
  TimeoutError,
  AbortError,
  RpcProtocolError,
  ChannelInUseError,
} from './errors';
export { isRemoteError } from './remoteError';
export * from './channels';
export { currentCallSignal } from './protocol/cancellation';
