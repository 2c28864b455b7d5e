// fdpipe/vscode/ipc.net: VS Code's common/ipc.net.ts (Protocol, Client; PersistentProtocol comes later) and
// node/ipc.net.ts (NodeSocket, Server, serve, connect) in one module, as the two would clash on their names.
export {
  SocketCloseEventType,
  SocketDiagnosticsEventType,
  type ISocket,
  type NodeSocketCloseEvent,
  type SocketCloseEvent,
  type WebSocketCloseEvent,
} from './net/socket';
export { Protocol } from './net/Protocol';
export { Client } from './net/Client';
export { NodeSocket, SOCKET_END_TIMEOUT_MS } from './net/NodeSocket';
export { Server, serve, connect, createRandomIPCHandle, type ServerOptions } from './net/Server';
