import type { ChildProcess } from 'child_process';
import { debug, debugEnabled } from '../common/debug';
import { fstatSync } from 'fs';
import { Socket } from 'net';
import type { Duplex } from 'stream';
import { toDisposable, type Disposable } from '../common/lifecycle';
import type { WriteBuffer } from '../buffer/WriteBuffer';
import { BinaryMessagePipe, type BinaryMessagePipeOptions, type PipeCloseEvent } from '../pipe/BinaryMessagePipe';
import { adoptForDirectRead, directReadSocket } from '../pipe/directRead';
import type { BulkLane } from '../pipe/BulkLane';
import { laneFromEnvironment, takeLane } from './bulkLane';
import { AbstractChannel } from './AbstractChannel';
import type { ChannelCloseEvent, WriteOptions } from './Channel';
import { ChannelClosedError, NoChannelPipeError } from './errors';
import { OutputTail } from './OutputTail';

/** The descriptor fdpipe uses in the child: stdio slot 4, after stdin, stdout, stderr and Node's IPC on 3. */
export const CHANNEL_FD = 4;

export interface IPCChannelOptions extends BinaryMessagePipeOptions {
  /**
   * Parent side: after the pipe reaches its end, how long to wait for the child's exit so onClose can carry its
   * exit code and signal. Default 100 ms: an exit normally follows the pipe's end within a few. Meanwhile sending
   * fails with ChannelClosedError; a child that closed its channel and lives on is reported without them.
   */
  exitGraceMs?: number;
}

const HOW_TO_START =
  "start it with forkWithChannel(), or with fork(module, args, { stdio: ['inherit', 'inherit', 'inherit', 'ipc', 'pipe'] })";

// fd 4 can be wrapped once per process: after the channel closes, the descriptor number may already belong to
// something else, so it is never opened again.
let childSideTaken = false;

/** The channel's pipe: a send or commit after close fails with the channel's error, never with the pipe's. */
class ChannelPipe extends BinaryMessagePipe {
  protected override closedError(): Error {
    return new ChannelClosedError('The channel is closed: no more messages can be sent on it');
  }
}

/**
 * A channel over a BinaryMessagePipe.
 * - `new IPCChannel()` in a worker: the pipe on fd 4 that its parent opened.
 * - `new IPCChannel(child)` in the parent: `child.stdio[4]`.
 * - `new IPCChannel(duplex)`: any connected stream, such as a net.Socket.
 */
export class IPCChannel extends AbstractChannel {
  readonly pipe: BinaryMessagePipe;
  private readonly child: ChildProcess | undefined;
  private exitWait: Disposable | undefined;
  /** The child's last stderr lines, when its stderr is piped to this process. */
  private readonly stderrTail: OutputTail | undefined;

  constructor(source?: ChildProcess | Duplex, options: IPCChannelOptions = {}) {
    super();
    let stream: Duplex;
    let lane: BulkLane | undefined;
    if (source === undefined) {
      stream = openChildSideSocket();
      lane = laneFromEnvironment();
    } else if (isChildProcess(source)) {
      const pipe = source.stdio[CHANNEL_FD];
      if (!pipe || typeof (pipe as Duplex).write !== 'function' || typeof (pipe as Duplex).on !== 'function') {
        takeLane(source)?.close();
        throw new NoChannelPipeError(
          `Child process ${source.pid ?? '(not started)'} has no pipe on fd ${CHANNEL_FD}: ${HOW_TO_START}`,
        );
      }
      // Taken over to read straight into the decoder's buffers (directRead.ts); stdio[4] names the new socket.
      stream = adoptForDirectRead(pipe as Duplex);
      if (stream !== pipe) source.stdio[CHANNEL_FD] = stream as Socket;
      this.child = source;
      lane = takeLane(source);
      // Kept so that a child that dies can be reported with why; held until the channel has closed.
      if (source.stderr) this.stderrTail = this.register(new OutputTail(source.stderr));
    } else {
      stream = source;
    }

    let pipe: BinaryMessagePipe;
    try {
      pipe = this.pipe = this.register(new ChannelPipe(stream, lane ? { ...options, lane } : options));
    } catch (error) {
      lane?.close();
      throw error;
    }
    if (debugEnabled) {
      debug('channel open: %s', this.child ? `to child pid ${this.child.pid}` : source ? 'over a stream' : `fd ${CHANNEL_FD} to the parent`);
    }
    this.register(pipe.onMessage((bytes) => this.fireMessage(bytes)));
    this.register(pipe.onError((error) => this.fireError(error)));
    this.register(pipe.onDrain(() => this.fireDrain()));
    this.register(pipe.onClose((event) => this.onPipeClose(event, options.exitGraceMs ?? 100)));
  }

  override get needsDrain(): boolean {
    return this.pipe.needsDrain;
  }

  getWriteBuffer(options?: WriteOptions): WriteBuffer {
    // While onClose waits for the child's exit status, the pipe is already gone: a message that says why.
    if (this.pipe.isClosed && !this.isClosed) {
      throw new ChannelClosedError('The channel is closed: the other side closed it or went away');
    }
    return this.pipe.getWriteBuffer(options);
  }

  /**
   * Resolves once every message sent so far has been written to the OS: await it before process.exit(), which
   * would otherwise cut off what the OS had not taken yet. Rejects with ChannelClosedError if the stream fails.
   */
  flush(): Promise<void> {
    return this.pipe.flush();
  }

  /** The pipe reads each frame's length first, so a frame over the limit is refused before anything is allocated. */
  limitIncoming(maxBytes: number | undefined): void {
    this.pipe.limitIncoming(maxBytes);
  }

  get maxIncomingSize(): number {
    return this.pipe.maxIncomingSize;
  }

  limitOutgoing(maxBytes: number): void {
    this.pipe.limitOutgoing(maxBytes);
  }

  get unsentBytes(): number {
    return this.pipe.pendingBytes;
  }

  pauseReading(paused: boolean): void {
    this.pipe.pauseReading(paused);
  }

  whenUnsentBelow(bytes: number): Promise<void> {
    return this.pipe.whenPendingBelow(bytes);
  }

  destroyAfter(graceMs: number): void {
    this.pipe.destroyAfter(graceMs);
  }

  protected doClose(): void {
    this.clearExitWait();
    this.pipe.close();
  }

  private onPipeClose(event: PipeCloseEvent, exitGraceMs: number): void {
    if (event.reason === 'local') return; // close() fires onClose itself
    const closeEvent = describePipeClose(event, this.child !== undefined);
    const child = this.child;
    if (!child) {
      this.fireClose(closeEvent);
      return;
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      this.afterStderr(exitGraceMs, () => this.fireClose(withExit(closeEvent, child, this.stderrTail)));
      return;
    }
    const onExit = () => {
      this.clearExitWait();
      this.afterStderr(exitGraceMs, () => this.fireClose(withExit(closeEvent, child, this.stderrTail)));
    };
    const timer = setTimeout(() => {
      this.clearExitWait();
      this.fireClose(closeEvent);
    }, exitGraceMs);
    child.once('exit', onExit);
    this.exitWait = this.register(
      toDisposable(() => {
        clearTimeout(timer);
        child.off('exit', onExit);
      }),
    );
  }

  /**
   * Runs `then` once the child's piped stderr has ended, so its last lines are all in: 'exit' can come before
   * them. A stderr held open by a grandchild is waited for `graceMs` at most.
   */
  private afterStderr(graceMs: number, then: () => void): void {
    const tail = this.stderrTail;
    if (!tail || tail.ended) {
      then();
      return;
    }
    const done = () => {
      this.clearExitWait();
      then();
    };
    const timer = setTimeout(done, graceMs);
    tail.whenEnded(done);
    this.exitWait = this.register(toDisposable(() => clearTimeout(timer)));
  }

  private clearExitWait(): void {
    this.exitWait?.dispose();
    this.exitWait = undefined;
  }
}

function describePipeClose(event: PipeCloseEvent, isParent: boolean): ChannelCloseEvent {
  const peer = isParent ? 'the child' : 'the other side';
  switch (event.reason) {
    case 'end':
      return { kind: 'remote', reason: `${peer} closed the channel or went away`, error: event.error };
    case 'destroyed':
      return { kind: 'remote', reason: `the stream under the channel was closed` };
    default:
      return {
        kind: 'error',
        reason: `the channel failed: ${event.error?.message ?? 'unknown error'}`,
        error: event.error,
      };
  }
}

function withExit(event: ChannelCloseEvent, child: ChildProcess, stderr: OutputTail | undefined): ChannelCloseEvent {
  const how = child.signalCode ? `was killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;
  const failed = child.exitCode !== 0;
  const stderrTail = stderr?.lines;
  let reason = event.kind === 'error' ? event.reason : `the child (pid ${child.pid}) ${how}`;
  if (failed) reason += describeStderr(stderrTail);
  return {
    ...event,
    reason,
    exitCode: child.exitCode,
    signal: child.signalCode,
    ...(stderrTail !== undefined ? { stderrTail } : {}),
  };
}

/** What a failed child's stderr says, or where to look for it. */
function describeStderr(tail: string | undefined): string {
  if (tail === undefined) {
    return " (its stderr is not piped to this process: see the terminal, or fork it with stderr: 'pipe' to have its last lines in this error)";
  }
  if (tail === '') return ' and wrote nothing to stderr';
  return `; the last lines of its stderr:\n${tail.replace(/^/gm, '    ')}`;
}

function isChildProcess(source: ChildProcess | Duplex): source is ChildProcess {
  return Array.isArray((source as ChildProcess).stdio) && typeof (source as ChildProcess).kill === 'function';
}

function openChildSideSocket(): Socket {
  if (childSideTaken) {
    throw new NoChannelPipeError(
      `fd ${CHANNEL_FD} was already taken by an IPCChannel in this process: share that one (a ChannelMultiplexer ` +
        'gives several independent channels over it)',
    );
  }
  // The parent's 'pipe' on fd 4 is a socket pair. Only a socket will do: when no fd 4 was passed, Node opens its
  // own internal pipes (FIFOs) at the lowest free descriptors, so fd 4 is usually one of those, and a FIFO is
  // one-way anyway.
  let isSocket = false;
  try {
    isSocket = fstatSync(CHANNEL_FD).isSocket();
  } catch {
    isSocket = false;
  }
  if (!isSocket) {
    throw new NoChannelPipeError(
      `This process (pid ${process.pid}) has no pipe on fd ${CHANNEL_FD}, so it cannot open an IPCChannel to its ` +
        `parent. In the parent, ${HOW_TO_START}.`,
    );
  }
  const socket = directReadSocket({ fd: CHANNEL_FD, readable: true, writable: true });
  childSideTaken = true;
  return socket;
}
