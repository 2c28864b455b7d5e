import type { ForkOptions } from 'child_process';
import { forkWithChannel, type ForkedWorker } from '../../channel/fork';
import type { ModulePath } from '../../channel/modulePath';
import { CancellationToken, CancellationTokenSource } from '../base/cancellation';
import { CancellationError } from '../base/errors';
import { Emitter, Event } from '../base/event';
import { dispose, toDisposable, type IDisposable } from '../base/lifecycle';
import { ChannelClient } from '../common/ChannelClient';
import { ChannelProtocol } from '../common/ChannelProtocol';
import type { IChannel, IChannelClient } from '../common/types';
import { IdleTimer } from './IdleTimer';
import { supportUsing } from '../../common/lifecycle';

export interface IIPCOptions {
  /** A name for the server, used in warnings. */
  serverName: string;
  /** Idle time in ms after which the child is killed; the next call forks it again. Default 60000. */
  timeout?: number;
  /** Arguments for the child's module. */
  args?: string[];
  /** Added to (over) this process's environment for the child. Values are turned into strings, as Node does. */
  env?: Record<string, unknown>;
  /** Inspector port for the child (`--inspect=`). */
  debug?: number;
  /** Inspector port for the child, breaking on its first line (`--inspect-brk=`). */
  debugBrk?: number;
  /** Start the child with no execArgv; otherwise it inherits this process's, less --inspect flags. */
  freshExecArgv?: boolean;
  /**
   * Accepted for VS Code's code; fdpipe's channel on fd 4 queues what the pipe cannot take yet anyway, so it
   * changes nothing.
   */
  useQueue?: boolean;
}

/** A call or subscription on an ipc.cp Client that was disposed; the message is VS Code's, `disposed`. */
export class ClientDisposedError extends Error {
  override name = 'ClientDisposedError';
  constructor() {
    super('disposed');
  }
}

/**
 * child_process's 'exit' arguments, passed on unchanged as VS Code does, under VS Code's declared types: at run
 * time a child killed by a signal has `code` null, and one that exited by itself `signal` null.
 */
export interface ProcessExitEvent {
  code: number;
  signal: string;
}

/**
 * Calls the channels of a child process, forked on the first call or subscription and killed after
 * `options.timeout` ms with nothing in flight. If the child exits, pending calls reject with CancellationError
 * and the next call forks a new one.
 */
export class Client implements IChannelClient, IDisposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private idleTimer: IdleTimer | undefined;
  private readonly activeRequests = new Set<IDisposable>();
  private worker: ForkedWorker | null = null;
  private protocol: ChannelProtocol | null = null;
  private channelClient: ChannelClient | null = null;
  private readonly channels = new Map<string, IChannel>();
  private readonly exitEmitter = new Emitter<ProcessExitEvent>();
  readonly onDidProcessExit: Event<ProcessExitEvent> = this.exitEmitter.event;

  /**
   * @param modulePath the child's module: a `file:` URL (`new URL('./child.js', import.meta.url)`) or a path; a
   *   relative path is resolved against this process's working directory, as VS Code's is.
   */
  constructor(
    private readonly modulePath: ModulePath,
    private readonly options: IIPCOptions,
  ) {
    this.idleTimer = new IdleTimer(options.timeout || 60000);
  }

  getChannel<T extends IChannel>(channelName: string): T {
    const channel: IChannel = {
      call: <R>(command: string, arg?: unknown, cancellationToken?: CancellationToken): Promise<R> =>
        this.requestPromise<R>(channelName, command, arg, cancellationToken),
      listen: <E>(event: string, arg?: unknown): Event<E> => this.requestEvent<E>(channelName, event, arg),
    };
    return channel as T;
  }

  protected requestPromise<T>(
    channelName: string,
    name: string,
    arg?: unknown,
    cancellationToken = CancellationToken.None,
  ): Promise<T> {
    const idleTimer = this.idleTimer;
    if (!idleTimer) return Promise.reject(new ClientDisposedError());
    if (cancellationToken.isCancellationRequested) return Promise.reject(new CancellationError());
    idleTimer.cancel();

    const source = new CancellationTokenSource(cancellationToken);
    const result = this.getCachedChannel(channelName).call<T>(name, arg, source.token);
    const request = toDisposable(() => source.cancel());
    this.activeRequests.add(request);
    const settled = () => {
      source.dispose();
      this.activeRequests.delete(request);
      if (this.activeRequests.size === 0) this.idleTimer?.trigger(() => this.disposeClient());
    };
    result.then(settled, settled);
    return result;
  }

  protected requestEvent<T>(channelName: string, name: string, arg?: unknown): Event<T> {
    if (!this.idleTimer) return Event.None;
    this.idleTimer.cancel();
    let listener: IDisposable | undefined;
    const emitter: Emitter<T> = new Emitter<T>({
      onWillAddFirstListener: () => {
        listener = this.getCachedChannel(channelName).listen<T>(name, arg)((e) => emitter.fire(e));
        this.activeRequests.add(listener);
      },
      onDidRemoveLastListener: () => {
        if (listener) {
          this.activeRequests.delete(listener);
          listener.dispose();
        }
        if (this.activeRequests.size === 0) this.idleTimer?.trigger(() => this.disposeClient());
      },
    });
    return emitter.event;
  }

  /** The connection to the child, forking it first if there is none. */
  private get client(): ChannelClient {
    if (this.channelClient) return this.channelClient;
    const worker = forkWithChannel(this.modulePath, this.options.args ?? [], this.forkOptions());
    const protocol = new ChannelProtocol(worker.channel);
    this.worker = worker;
    this.protocol = protocol;
    this.channelClient = new ChannelClient(protocol);

    const onExit = () => this.disposeClient();
    process.once('exit', onExit);
    // VS Code logs these with console.warn; a process warning says the same without writing to stdout.
    worker.child.on('error', (error) =>
      process.emitWarning(`IPC "${this.options.serverName}" errored with ${error.message}`),
    );
    worker.child.on('exit', (code, signal) => {
      process.removeListener('exit', onExit);
      // A child this client already let go (killed when idle) has no calls left to cancel: only its exit is news.
      if (this.worker === worker) {
        // Pending calls reject with CancellationError, as in VS Code.
        const active = [...this.activeRequests];
        this.activeRequests.clear();
        dispose(active);
        if (code !== 0 && signal !== 'SIGTERM') {
          process.emitWarning(`IPC "${this.options.serverName}" crashed with exit code ${code} and signal ${signal}`);
        }
        this.idleTimer?.cancel();
        this.disposeClient();
      }
      this.exitEmitter.fire({ code, signal } as ProcessExitEvent);
    });
    return this.channelClient;
  }

  private forkOptions(): ForkOptions {
    const env: NodeJS.ProcessEnv = { ...process.env, VSCODE_PARENT_PID: String(process.pid) };
    for (const [key, value] of Object.entries(this.options.env ?? {})) {
      if (value === undefined) delete env[key];
      else env[key] = String(value);
    }
    let execArgv: string[] | undefined;
    if (this.options.freshExecArgv) execArgv = [];
    if (typeof this.options.debug === 'number') execArgv = ['--nolazy', `--inspect=${this.options.debug}`];
    if (typeof this.options.debugBrk === 'number') execArgv = ['--nolazy', `--inspect-brk=${this.options.debugBrk}`];
    // The child would fight this process for its inspector port.
    execArgv ??= process.execArgv.filter((a) => !/^--inspect(-brk)?=/.test(a));
    if (process.platform === 'darwin') delete env.DYLD_LIBRARY_PATH; // crashes children (VS Code #105848)
    return { env, execArgv };
  }

  private getCachedChannel(name: string): IChannel {
    let channel = this.channels.get(name);
    if (!channel) {
      channel = this.client.getChannel(name);
      this.channels.set(name, channel);
    }
    return channel;
  }

  private disposeClient(): void {
    if (!this.channelClient) return;
    this.channelClient.dispose();
    this.protocol?.dispose();
    this.worker?.child.kill();
    this.channelClient = null;
    this.protocol = null;
    this.worker = null;
    this.channels.clear();
  }

  dispose(): void {
    this.exitEmitter.dispose();
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
    this.disposeClient();
    this.activeRequests.clear();
  }
}

supportUsing(Client.prototype);
