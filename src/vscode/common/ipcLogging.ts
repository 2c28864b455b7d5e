import type { Disposable } from '../../common/lifecycle';
import { CONTROL_TARGET } from '../../rpc/channels/ChannelServer';
import type { RpcProtocol } from '../../rpc/RpcProtocol';
import { RequestInitiator, type IIPCLogger } from './types';

// VS Code's ChannelClient and ChannelServer each tell their logger about the messages of their own side: the
// client logs the requests it sends (outgoing, LocalSide) and the replies it gets (incoming, LocalSide); the server
// logs the requests it gets (incoming, OtherSide) and the replies it sends (outgoing, OtherSide). Here both sit on
// one RPC core, so each watches the calls of its direction through the core's observer hook.

/** Feeds `logger` the calls this side makes, as VS Code's ChannelClient does. */
export function logCallsMade(rpc: RpcProtocol, logger: IIPCLogger): Disposable {
  return rpc.addObserver({
    callStarted(call) {
      if (call.direction !== 'outgoing' || call.target === CONTROL_TARGET) return;
      logger.logOutgoing(call.requestBytes, call.id, RequestInitiator.LocalSide, `req: ${call.target}.${call.method}`, call.args[0]);
    },
    callEnded(call, outcome) {
      // No reply came (cancelled, timed out, the connection closed): VS Code logs nothing incoming either.
      if (call.direction !== 'outgoing' || call.target === CONTROL_TARGET || outcome.bytesIn === 0) return;
      logger.logIncoming(
        outcome.bytesIn,
        call.id,
        RequestInitiator.LocalSide,
        outcome.failed ? 'replyErr:' : 'reply:',
        outcome.failed ? outcome.error : outcome.result,
      );
    },
  });
}

/** Feeds `logger` the calls this side serves, as VS Code's ChannelServer does. */
export function logCallsServed(rpc: RpcProtocol, logger: IIPCLogger): Disposable {
  return rpc.addObserver({
    callStarted(call) {
      if (call.direction !== 'incoming' || call.target === CONTROL_TARGET) return;
      logger.logIncoming(call.requestBytes, call.id, RequestInitiator.OtherSide, `req: ${call.target}.${call.method}`, call.args[0]);
    },
    callEnded(call, outcome) {
      if (call.direction !== 'incoming' || call.target === CONTROL_TARGET || outcome.bytesOut === 0) return;
      logger.logOutgoing(
        outcome.bytesOut,
        call.id,
        RequestInitiator.OtherSide,
        outcome.failed ? 'replyErr:' : 'reply:',
        outcome.failed ? outcome.error : outcome.result,
      );
    },
  });
}
