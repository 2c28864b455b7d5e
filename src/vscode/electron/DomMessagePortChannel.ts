import { AbstractChannel } from '../../channel/AbstractChannel';
import type { WriteBuffer } from '../../buffer/WriteBuffer';
import { toDisposable } from '../../common/lifecycle';
import { describeValue, exactBytes, receivedBytes } from './bytes';
import { UnexpectedMessageError } from './errors';
import type { DomMessagePort } from './types';

/**
 * A channel over a web MessagePort, the kind a renderer holds (and Node's global MessageChannel makes): VS Code's
 * common/ipc.mp takes these, where electron-main's takes a MessagePortMain. The port is the channel's alone: every
 * message on it is one of fdpipe's, a Uint8Array. The channel starts the port. A port that says when its other end
 * closed ('close', as Node's and recent browsers' do) closes the channel then; closing this end closes the port.
 */
export class DomMessagePortChannel extends AbstractChannel {
  private readonly detach: () => void;

  constructor(private readonly port: DomMessagePort) {
    super();
    const onMessage = (event: Event) => {
      const data = (event as Event & { readonly data?: unknown })?.data;
      const bytes = receivedBytes(data);
      if (bytes) {
        this.fireMessage(bytes);
        return;
      }
      const error = new UnexpectedMessageError(
        `The other end of the MessagePort sent a ${describeValue(data)}, where only a Uint8Array may come: ` +
          'closing the channel',
      );
      this.detach();
      port.close();
      this.fireClose({ kind: 'error', reason: error.message, error });
    };
    const onClose = () => {
      this.detach();
      this.fireClose({ kind: 'remote', reason: 'the other end of the MessagePort closed' });
    };
    port.addEventListener('message', onMessage);
    port.addEventListener('close', onClose);
    this.detach = () => {
      port.removeEventListener('message', onMessage);
      port.removeEventListener('close', onClose);
    };
    this.register(toDisposable(this.detach));
    port.start();
  }

  getWriteBuffer(): WriteBuffer {
    return this.messageBuffer(this.postBytes);
  }

  private readonly postBytes = (bytes: Uint8Array) => {
    this.port.postMessage(exactBytes(bytes));
  };

  protected doClose(): void {
    this.detach();
    this.port.close();
  }
}
