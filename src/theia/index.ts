// fdpipe/theia: Theia's message-rpc API (channels, buffers, RpcProtocol, the encoder pair, RpcProxyFactory, the fd-4
// IPCChannel) over fdpipe's layers. docs/theia.md lists what differs and why.
export { ForwardingWriteBuffer, type ReadBuffer, type WriteBuffer } from './message-buffer';
export { Uint8ArrayReadBuffer, Uint8ArrayWriteBuffer, MessageSlice } from './uint8-array-message-buffer';
export {
  AbstractChannel,
  BasicChannel,
  ForwardingChannel,
  type Channel,
  type ChannelCloseEvent,
  type DetailedChannelCloseEvent,
  type MessageProvider,
  type ReadBufferProvider,
} from './channel';
export { CloseEmitter, ErrorEmitter, MessageEmitter } from './channel-emitters';
export { ChannelMultiplexer, type DidOpenChannelEvent } from './channel-multiplexer';
export {
  MsgPackMessageDecoder,
  MsgPackMessageEncoder,
  RpcMessageType,
  type RpcMessageDecoder,
  type RpcMessageEncoder,
  type RpcMessage,
  type RequestMessage,
  type NotificationMessage,
  type ReplyMessage,
  type ReplyErrMessage,
  type CancelMessage,
  type SerializedError,
} from './rpc-message-encoder';
export { RpcProtocol, type RequestHandler, type RpcProtocolOptions, type NotificationEvent } from './rpc-protocol';
export {
  RpcProxyFactory,
  RpcConnectionHandler,
  JsonRpcProxyFactory,
  JsonRpcConnectionHandler,
  type RpcProxy,
  type RpcServer,
  type RpcConnectionEventEmitter,
  type RpcProtocolFactory,
  type ConnectionHandler,
  type JsonRpcProxy,
  type JsonRpcServer,
  type JsonRpcConnectionEventEmitter,
} from './proxy-factory';
export { IPCChannel } from './ipc-channel';
export { BinaryMessagePipe, type StdioStream } from './binary-message-pipe';
export { CancellationToken, CancellationTokenSource } from './cancellation';
export { Disposable, DisposableCollection } from './disposable';
export { Deferred } from './deferred';
export { responseErrorExtension } from './codec';
export {
  ResponseError,
  EncodingError,
  UnknownChannelError,
  UnsupportedReadBufferError,
  UnsupportedEncoderError,
  DuplicateChannelError,
} from './errors';
// The events and emitters the signatures above use are fdpipe's.
export { Emitter, Event } from '../common/event';
