// fdpipe/vscode/ipc.cp: VS Code's node/ipc.cp.ts — a child process serving channels (Server) and the parent's
// lazily forking Client — over fdpipe's pipe on fd 4 instead of Node's process.send.
export { Server } from './cp/Server';
export { Client, ClientDisposedError, type IIPCOptions, type ProcessExitEvent } from './cp/Client';
