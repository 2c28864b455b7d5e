import type { ChildProcess } from 'child_process';
import type { WriteOptions } from '../channel/Channel';
import { IPCChannel as CoreIPCChannel, type IPCChannelOptions } from '../channel/IPCChannel';
import type { WriteBuffer } from '../buffer/WriteBuffer';
import type { Event } from '../common/event';
import type { BinaryMessagePipe } from '../pipe/BinaryMessagePipe';
import { AbstractChannel } from './channel';

/**
 * Theia's IPCChannel, on fdpipe's: the pipe on fd 4 between a parent (`new IPCChannel(childProcess)`) and the child
 * it forked (`new IPCChannel()`). onClose fires when the other side closes the channel or goes away, with the
 * child's exit code as `code` on the parent's side; close() here fires nothing, as in Theia.
 */
export class IPCChannel extends AbstractChannel {
  protected readonly messagePipe: BinaryMessagePipe;
  private readonly channel: CoreIPCChannel;

  constructor(childProcess?: ChildProcess, options?: IPCChannelOptions) {
    super();
    const channel = (this.channel = new CoreIPCChannel(childProcess, options));
    this.messagePipe = channel.pipe;
    const onChildError = (error: Error) => this.onErrorEmitter.fire(error);
    childProcess?.on('error', onChildError);
    this.toDispose.pushAll([
      channel.onMessage((provider) => this.onMessageEmitter.deliver(provider().sliceAtReadPosition())),
      channel.onError((error) => this.onErrorEmitter.fire(error)),
      channel.onClose((event) => {
        if (event.kind !== 'local') this.onCloseEmitter.fire({ ...event, code: event.exitCode ?? undefined });
      }),
      { dispose: () => childProcess?.off('error', onChildError) },
      channel,
    ]);
  }

  override get onDrain(): Event<void> {
    return this.channel.onDrain;
  }

  override get needsDrain(): boolean {
    return this.channel.needsDrain;
  }

  getWriteBuffer(options?: WriteOptions): WriteBuffer {
    return this.channel.getWriteBuffer(options);
  }

  /** fdpipe's: refuses incoming messages over `maxBytes` before reading them, for a peer not trusted yet. */
  limitIncoming(maxBytes: number | undefined): void {
    this.channel.limitIncoming(maxBytes);
  }
}
