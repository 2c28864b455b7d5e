// event-invoke's API over fdpipe's one RPC core: code written for event-invoke moves here by changing its import.
export { Invoker } from './Invoker';
export { Callee } from './Callee';
export { BaseInvokerChannel } from './BaseInvokerChannel';
export { BaseCalleeChannel } from './BaseCalleeChannel';
export {
  InvalidMethodNameError,
  ChannelNotConnectedError,
  InvokerDestroyedError,
  RegisterError,
  AlreadyListenedError,
} from './errors';
export type {
  EventInvokeTarget,
  PacketEndpoint,
  SendingPacketEndpoint,
  PostingPacketEndpoint,
  EndpointEvent,
  EndpointEvents,
} from './endpoints';
export type {
  InvokeOptions,
  CalleeOptions,
  CalleeFunction,
  Registrable,
  UntypedApi,
  MethodName,
  InvokeArgs,
  InvokeRest,
  InvokeResult,
} from './types';
// The core's classes that this face's calls reject with, so code importing only this entry point can tell them.
export { TimeoutError, MethodNotFoundError, ConnectionClosedError, AbortError, RpcProtocolError } from '../rpc/errors';
export { isRemoteError } from '../rpc/remoteError';
export { currentCallSignal } from '../rpc/protocol/cancellation';
