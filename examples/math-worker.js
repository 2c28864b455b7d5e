// The worker of the quick start: exposes a `math` service over fd 4 and calls back into the parent's `log`.
const { IPCChannel, RpcPeer, Emitter, currentCallSignal } = require('fdpipe');

const channel = new IPCChannel();
const rpc = new RpcPeer(channel);
const log = rpc.proxy('log');

const progress = new Emitter();

class MathService {
  // Events are properties named onX holding an Event: the parent can listen to them through its proxy.
  onProgress = progress.event;

  max(...numbers) {
    return Math.max(...numbers);
  }

  async sum(values, signal) {
    let total = 0;
    for (let i = 0; i < values.length; i++) {
      if (signal?.aborted) throw signal.reason;
      total += values[i];
      progress.fire({ done: i + 1, of: values.length });
    }
    await log.line(`summed ${values.length} values in worker ${process.pid}`);
    return total;
  }

  // Runs until cancelled. A caller's AbortSignal arrives as the last argument; a call with only a timeout passes
  // none, and currentCallSignal() gives the signal that its timeout fires.
  spin(signal = currentCallSignal()) {
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve('stopped'), { once: true }));
  }

  fail(message) {
    const error = new RangeError(message);
    error.code = 'E_TOO_BIG';
    throw error;
  }
}

rpc.expose('math', new MathService());

// The parent went away or closed the channel: nothing is left to serve.
channel.onClose(() => process.exit(0));
