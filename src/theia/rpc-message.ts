// Theia's RPC messages, as an RpcMessageDecoder returns them and an RpcMessageEncoder writes them.

/** A plain enum, not Theia's const enum, so code compiled with isolatedModules can use it from a package. */
export enum RpcMessageType {
  Request = 1,
  Notification = 2,
  Reply = 3,
  ReplyErr = 4,
  Cancel = 5,
}

export interface CancelMessage {
  type: RpcMessageType.Cancel;
  id: number;
}

export interface RequestMessage {
  type: RpcMessageType.Request;
  id: number;
  method: string;
  args: unknown[];
}

export interface NotificationMessage {
  type: RpcMessageType.Notification;
  id?: number;
  method: string;
  args: unknown[];
}

export interface ReplyMessage {
  type: RpcMessageType.Reply;
  id: number;
  res: unknown;
}

export interface ReplyErrMessage {
  type: RpcMessageType.ReplyErr;
  id: number;
  err: unknown;
}

export type RpcMessage = RequestMessage | ReplyMessage | ReplyErrMessage | CancelMessage | NotificationMessage;

/** Theia's description of an error in JSON form; fdpipe's codec carries errors whole instead. */
export interface SerializedError {
  readonly $isError: true;
  readonly name: string;
  readonly message: string;
  readonly stack: string;
}
