import { AbstractChannel } from '../../channel/AbstractChannel';
import type { WriteBuffer } from '../../buffer/WriteBuffer';
import { toDisposable } from '../../common/lifecycle';
import { describeValue, exactBytes, receivedBytes } from './bytes';
import { UnexpectedMessageError } from './errors';
import type { MessageEventMain, MessagePortMain } from './types';

/**
 * A channel over an Electron MessagePortMain (an end of a MessageChannelMain, in the main process or a utility
 * process). The port is the channel's alone: every message on it is one of fdpipe's, a Uint8Array. The port
 * delivers nothing until start(), which the channel calls; messages that arrive before anyone listens are held
 * by the channel. Closing either end closes both channels. A web MessagePort is served too, in this shape
 * (asMessagePortMain in domPort.ts).
 */
export class MessagePortMainChannel extends AbstractChannel {
  private readonly detach: () => void;

  /** @param portName what the port is called in errors: a web MessagePort comes here too (domPort.ts). */
  constructor(
    private readonly port: MessagePortMain,
    portName = 'MessagePortMain',
  ) {
    super();
    const onMessage = (event: MessageEventMain) => {
      // Ports have no place on this channel, and were transferred to this end alone: closed, not leaked.
      for (const stray of event?.ports ?? []) stray.close();
      const bytes = receivedBytes(event?.data);
      if (bytes && !event.ports?.length) {
        this.fireMessage(bytes);
        return;
      }
      const what = bytes ? 'bytes with ports attached' : `a ${describeValue(event?.data)}`;
      const error = new UnexpectedMessageError(
        `The other end of the ${portName} sent ${what}, where only a Uint8Array may come: closing the channel`,
      );
      this.detach();
      port.close();
      this.fireClose({ kind: 'error', reason: error.message, error });
    };
    const onClose = () => {
      this.detach();
      this.fireClose({ kind: 'remote', reason: `the other end of the ${portName} closed` });
    };
    port.on('message', onMessage);
    port.on('close', onClose);
    this.detach = () => {
      port.removeListener('message', onMessage);
      port.removeListener('close', onClose);
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
