import { AbstractChannel } from '../../channel/AbstractChannel';
import type { ChannelCloseEvent } from '../../channel/Channel';
import type { WriteBuffer } from '../../buffer/WriteBuffer';
import { toDisposable } from '../../common/lifecycle';
import { CLOSE_ENVELOPE, unwrap, wrapBytes } from './envelope';
import type { UtilityProcess } from './types';

/**
 * The main process's channel to a child made by Electron's utilityProcess.fork. Such a child has no fd 4 (only
 * its stdout and stderr can be configured), so the channel rides on postMessage, tagged so that the app's own
 * messages and ports can share it; the child opens its end with ParentPortChannel. Closing sends the child a
 * goodbye (it decides whether to exit); the child's exit closes the channel, with its exit code.
 */
export class UtilityProcessChannel extends AbstractChannel {
  private readonly detach: () => void;

  constructor(private readonly child: UtilityProcess) {
    super();
    const onMessage = (message: unknown) => {
      const item = unwrap(message);
      if (item.kind === 'message') this.fireMessage(item.bytes);
      else if (item.kind === 'close') this.ended({ kind: 'remote', reason: 'the utility process closed the channel' });
    };
    const onExit = (code: number) =>
      this.ended({ kind: 'remote', reason: `the utility process exited with code ${code}`, exitCode: code });
    child.on('message', onMessage);
    child.on('exit', onExit);
    this.detach = () => {
      child.removeListener('message', onMessage);
      child.removeListener('exit', onExit);
    };
    this.register(toDisposable(this.detach));
  }

  getWriteBuffer(): WriteBuffer {
    return this.messageBuffer(this.postBytes);
  }

  private readonly postBytes = (bytes: Uint8Array) => {
    try {
      this.child.postMessage(wrapBytes(bytes));
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      this.ended({ kind: 'error', reason: `posting to the utility process failed: ${cause.message}`, error: cause });
    }
  };

  protected doClose(): void {
    this.detach();
    try {
      this.child.postMessage(CLOSE_ENVELOPE);
    } catch {
      // The child is gone already; there is nobody to tell.
    }
  }

  private ended(event: ChannelCloseEvent): void {
    this.detach();
    this.fireClose(event);
  }
}
