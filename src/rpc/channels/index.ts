export type { IServerChannel, IChannel } from './types';
export { ChannelServer } from './ChannelServer';
export { ChannelClient } from './ChannelClient';
export { Connection } from './Connection';
export { IPCServer, TOKEN_ENV, type IPCServerOptions, type IPCListenOptions } from './IPCServer';
export { IPCClient, type IPCClientOptions, type IPCConnectOptions } from './IPCClient';
export { StaticRouter, NoMatchingClientError, type IClientRouter, type IConnectionHub } from './routers';
export { ProxyChannel } from './ProxyChannel';
export { HandshakeError } from './handshake';
