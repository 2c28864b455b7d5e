import type { VSBuffer } from '../base/buffer';
import type { IDisposable } from '../base/lifecycle';

export enum SocketCloseEventType {
  NodeSocketCloseEvent = 0,
  WebSocketCloseEvent = 1,
}

export interface NodeSocketCloseEvent {
  readonly type: SocketCloseEventType.NodeSocketCloseEvent;
  readonly hadError: boolean;
  readonly error: Error | undefined;
}

export interface WebSocketCloseEvent {
  readonly type: SocketCloseEventType.WebSocketCloseEvent;
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  readonly event: unknown;
}

export type SocketCloseEvent = NodeSocketCloseEvent | WebSocketCloseEvent | undefined;

/** The socket events VS Code traces; this face accepts them and records nothing. */
export enum SocketDiagnosticsEventType {
  Created = 'created',
  Read = 'read',
  Write = 'write',
  Open = 'open',
  Error = 'error',
  Close = 'close',
  NodeEndReceived = 'nodeEndReceived',
  NodeEndSent = 'nodeEndSent',
  NodeDrainBegin = 'nodeDrainBegin',
  NodeDrainEnd = 'nodeDrainEnd',
  ProtocolHeaderRead = 'protocolHeaderRead',
  ProtocolMessageRead = 'protocolMessageRead',
  ProtocolHeaderWrite = 'protocolHeaderWrite',
  ProtocolMessageWrite = 'protocolMessageWrite',
  ProtocolWrite = 'protocolWrite',
}

/** A byte stream a Protocol frames messages over. */
export interface ISocket extends IDisposable {
  onData(listener: (e: VSBuffer) => void): IDisposable;
  onClose(listener: (e: SocketCloseEvent) => void): IDisposable;
  onEnd(listener: () => void): IDisposable;
  write(buffer: VSBuffer): void;
  end(): void;
  drain(): Promise<void>;
  traceSocketEvent(type: SocketDiagnosticsEventType, data?: unknown): void;
}
