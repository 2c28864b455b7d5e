import { AbstractChannel } from '../../channel/AbstractChannel';
import type { WriteBuffer } from '../../buffer/WriteBuffer';
import { toDisposable } from '../../common/lifecycle';
import { CLOSE_ENVELOPE, unwrap, wrapBytes } from './envelope';
import { ElectronUnavailableError } from './errors';
import type { MessageEventMain, ParentPort } from './types';

/** `process.parentPort`, which Electron sets in a utility process only. */
export function currentParentPort(): ParentPort {
  const port = (process as { parentPort?: ParentPort }).parentPort;
  if (!port) {
    throw new ElectronUnavailableError(
      'process.parentPort is not set: this is not an Electron utility process (start it with utilityProcess.fork)',
    );
  }
  return port;
}

/**
 * A utility process's channel to the main process, over process.parentPort; the main process's end is a
 * UtilityProcessChannel. Messages that are not fdpipe's are left to the app's own listeners. The parent's
 * goodbye closes it; the parent's death ends the whole process, so there is nothing else to wait for.
 */
export class ParentPortChannel extends AbstractChannel {
  private readonly detach: () => void;

  constructor(private readonly parentPort: ParentPort = currentParentPort()) {
    super();
    const onMessage = (event: MessageEventMain) => {
      const item = unwrap(event?.data);
      if (item.kind === 'message') {
        this.fireMessage(item.bytes);
      } else if (item.kind === 'close') {
        this.detach();
        this.fireClose({ kind: 'remote', reason: 'the main process closed the channel' });
      }
    };
    parentPort.on('message', onMessage);
    this.detach = () => parentPort.removeListener('message', onMessage);
    this.register(toDisposable(this.detach));
  }

  getWriteBuffer(): WriteBuffer {
    return this.messageBuffer(this.postBytes);
  }

  private readonly postBytes = (bytes: Uint8Array) => {
    this.parentPort.postMessage(wrapBytes(bytes));
  };

  protected doClose(): void {
    this.detach();
    this.parentPort.postMessage(CLOSE_ENVELOPE);
  }
}
