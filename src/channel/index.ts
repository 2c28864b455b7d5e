export type { Channel, ChannelCloseEvent, ReadBufferProvider, WriteOptions } from './Channel';
export { AbstractChannel } from './AbstractChannel';
export { IPCChannel, CHANNEL_FD, type IPCChannelOptions } from './IPCChannel';
export {
  forkWithChannel,
  ForkedWorker,
  DEFAULT_EXIT_GRACE_MS,
  type ForkWithChannelOptions,
  type ChildExit,
  type StdioSlot,
} from './fork';
export type { ModulePath } from './modulePath';
export { InMemoryChannel } from './InMemoryChannel';
export { ChannelMultiplexer, MultiplexerProtocolError, type DidOpenChannelEvent } from './ChannelMultiplexer';
export { NoChannelPipeError, ChannelClosedError } from './errors';
export {
  MessageEndpointChannel,
  type MessageEndpoint,
  type EndpointListener,
  type SendingEndpoint,
  type PostingEndpoint,
} from './MessageEndpointChannel';
export { MessagePortChannel } from './MessagePortChannel';
export {
  listen,
  connect,
  listenPersistent,
  connectPersistent,
  dialSocket,
  isLoopbackHost,
  ChannelListener,
  SessionListener,
  InsecureListenError,
  type ChannelAddress,
  type ListenOptions,
  type ConnectOptions,
  type PersistentListenOptions,
  type PersistentConnectOptions,
} from './net';
export * from './session';
