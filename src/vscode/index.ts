// fdpipe/vscode: VS Code's base/parts/ipc/common/ipc.ts and the base pieces its signatures use, as a thin face
// over fdpipe's RPC core. See docs/vscode.md.
export { VSBuffer } from './base/buffer';
export { CancellationToken, CancellationTokenSource } from './base/cancellation';
export { CancellationError, canceled, isCancellationError, ErrorNoTelemetry, onUnexpectedError } from './base/errors';
export { Emitter, Event, EventMultiplexer, Relay, type EmitterOptions } from './base/event';
export { Disposable, DisposableStore, dispose, isDisposable, toDisposable, type IDisposable } from './base/lifecycle';
export { MarshalledId, registerMarshalledReviver, revive, type MarshalledObject } from './base/marshalling';
export {
  RequestInitiator,
  type Client,
  type ClientConnectionEvent,
  type Connection,
  type IChannel,
  type IChannelClient,
  type IChannelServer,
  type IClientRouter,
  type IConnectionHub,
  type IIPCLogger,
  type IMessagePassingProtocol,
  type IRoutingChannelClient,
  type IServerChannel,
} from './common/types';
export { BufferReader, BufferWriter, DeserializeError, deserialize, serialize, type IReader, type IWriter } from './common/serialization';
export { ChannelServer } from './common/ChannelServer';
export { ChannelClient } from './common/ChannelClient';
export { IPCServer, UnknownClientError } from './common/IPCServer';
export { IPCClient } from './common/IPCClient';
export { StaticRouter, getDelayedChannel, getNextTickChannel } from './common/routing';
export { ProxyChannel } from './common/ProxyChannel';
export { ChannelProtocol } from './common/ChannelProtocol';
export { MalformedContextError, NotAClientError } from './common/errors';
