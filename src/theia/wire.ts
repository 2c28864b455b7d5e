// Theia's five RPC messages travel as fdpipe's own (PROTOCOL.md, "RPC messages"), so this face and the encoder pair
// speak one format with fdpipe's RPC core:
//   Request      -> request to the request handler (target ''); a cancellation token is the request's
//                   signal flag, not an argument
//   Notification -> notification to NOTIFICATION_TARGET
//   Reply        -> reply
//   ReplyErr     -> error reply
//   Cancel       -> cancel

/**
 * Where Theia's notifications go. The core hands notifications for its request handler to that handler, which
 * would make a Theia request handler serve them too; a target no service has gives them to onNotification only.
 */
export const NOTIFICATION_TARGET = '#theia';

/** Theia's marker for a cancellation token among a request's arguments, in an RpcMessage. */
export const CANCELLATION_TOKEN_KEY = 'add.cancellation.token';
