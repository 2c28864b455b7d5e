import { debug } from '../../common/debug';
import type { RpcObserver } from './observers';
import { labelOf } from './wire';

/** The calls of every protocol, on NODE_DEBUG=fdpipe's trace: `>` a call this side makes, `<` one it serves. */
export const traceObserver: RpcObserver<void> = {
  callStarted(call) {
    debug(
      'call %s #%d %s start (request %d B)',
      call.direction === 'outgoing' ? '>' : '<',
      call.id,
      labelOf(call.target, call.method),
      call.requestBytes,
    );
  },
  callEnded(call, outcome) {
    debug(
      'call %s #%d %s %s in %s ms (out %d B, in %d B)',
      call.direction === 'outgoing' ? '>' : '<',
      call.id,
      labelOf(call.target, call.method),
      outcome.failed ? `failed (${describe(outcome.error)})` : 'ok',
      outcome.durationMs.toFixed(3),
      outcome.bytesOut,
      outcome.bytesIn,
    );
  },
};

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
