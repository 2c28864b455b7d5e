import {
  CancellationToken,
  Emitter,
  IPCClient,
  IPCServer,
  VSBuffer,
  type ClientConnectionEvent,
  type Event,
  type IChannel,
  type IMessagePassingProtocol,
  type IServerChannel,
} from '../../src/vscode';

/**
 * One end of an in-memory protocol pair: send() reaches the other end at once, in the same call, and messages
 * sent before the other end has a listener wait for it (as a socket's data does before anyone reads).
 */
export class PairedProtocol implements IMessagePassingProtocol {
  other!: PairedProtocol;
  private waiting: VSBuffer[] | undefined = [];
  private readonly emitter = new Emitter<VSBuffer>({
    onDidAddFirstListener: () => {
      const waiting = this.waiting ?? [];
      this.waiting = undefined;
      for (const message of waiting) this.emitter.fire(message);
    },
    onDidRemoveLastListener: () => {
      this.waiting = [];
    },
  });
  readonly onMessage: Event<VSBuffer> = this.emitter.event;
  readonly sent: VSBuffer[] = [];

  send(buffer: VSBuffer): void {
    this.sent.push(buffer);
    this.other.receive(buffer);
  }

  receive(buffer: VSBuffer): void {
    if (this.waiting) this.waiting.push(buffer);
    else this.emitter.fire(buffer);
  }
}

export function protocolPair(): [PairedProtocol, PairedProtocol] {
  const one = new PairedProtocol();
  const other = new PairedProtocol();
  one.other = other;
  other.other = one;
  return [one, other];
}

/** A client that tells its server it went away when disposed, as a real transport's close would. */
export class TestIPCClient extends IPCClient<string> {
  private readonly disconnectEmitter = new Emitter<void>();
  readonly onDidDisconnect = this.disconnectEmitter.event;

  override dispose(): void {
    this.disconnectEmitter.fire();
    super.dispose();
    this.disconnectEmitter.dispose();
  }
}

export class TestIPCServer extends IPCServer<string> {
  private readonly connectEmitter: Emitter<ClientConnectionEvent>;

  constructor(timeoutDelay?: number) {
    const connectEmitter = new Emitter<ClientConnectionEvent>();
    super(connectEmitter.event, null, timeoutDelay);
    this.connectEmitter = connectEmitter;
  }

  createConnection(id: string): TestIPCClient {
    const [clientSide, serverSide] = protocolPair();
    const client = new TestIPCClient(clientSide, id);
    this.connectEmitter.fire({ protocol: serverSide, onDidClientDisconnect: client.onDidDisconnect });
    return client;
  }

  /**
   * Connects a raw protocol, for tests that speak to the server without an IPCClient; `before` sends what the
   * server finds waiting when it starts listening.
   */
  connectRaw(before?: (protocol: PairedProtocol) => void): { protocol: PairedProtocol; disconnect(): void } {
    const [clientSide, serverSide] = protocolPair();
    before?.(clientSide);
    const disconnect = new Emitter<void>();
    this.connectEmitter.fire({ protocol: serverSide, onDidClientDisconnect: disconnect.event });
    return { protocol: clientSide, disconnect: () => disconnect.fire() };
  }

  override dispose(): void {
    super.dispose();
    this.connectEmitter.dispose();
  }
}

/** Resolves after the event loop has turned `times` times: for deliveries that take a turn. */
export async function turns(times = 3): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Resolves with the first `count` values `event` fires, then unsubscribes. Were values lost, it would never
 * settle, and the test fails on its timeout.
 */
export function collect<T>(event: Event<T>, count: number): Promise<T[]> {
  return new Promise((resolve) => {
    const values: T[] = [];
    const subscription = event((value) => {
      values.push(value);
      if (values.length < count) return;
      subscription.dispose();
      resolve(values);
    });
  });
}

export interface ITestService {
  marco(): Promise<string>;
  error(message: string): Promise<void>;
  neverComplete(): Promise<void>;
  neverCompleteCT(token: CancellationToken): Promise<void>;
  buffersLength(buffers: Array<VSBuffer | Uint8Array>): Promise<number>;
  context(): Promise<unknown>;
  readonly onPong: Event<string>;
}

/** The service the ipc tests call; it records what reached it, so tests can see the other end. */
export class TestService {
  private readonly pongEmitter = new Emitter<string>();
  readonly onPong = this.pongEmitter.event;
  readonly cancelledOnServer: string[] = [];

  marco(): Promise<string> {
    return Promise.resolve('polo');
  }

  error(message: string): Promise<void> {
    return Promise.reject(new Error(message));
  }

  neverComplete(): Promise<void> {
    return new Promise(() => {});
  }

  neverCompleteCT(token: CancellationToken): Promise<void> {
    return new Promise((_, reject) => {
      token.onCancellationRequested(() => {
        this.cancelledOnServer.push('neverCompleteCT');
        reject(new Error('cancelled on the server'));
      });
    });
  }

  buffersLength(buffers: Array<VSBuffer | Uint8Array>): Promise<number> {
    return Promise.resolve(buffers.reduce((sum, b) => sum + b.byteLength, 0));
  }

  context(context?: unknown): Promise<unknown> {
    return Promise.resolve(context);
  }

  ping(message: string): void {
    this.pongEmitter.fire(message);
  }

  dispose(): void {
    this.pongEmitter.dispose();
  }
}

/** A hand-written server channel over TestService, as VS Code code writes them; it also answers with its ctx. */
export class TestChannel implements IServerChannel<string> {
  constructor(private readonly service: TestService) {}

  call(ctx: string, command: string, arg?: unknown, token?: CancellationToken): Promise<unknown> {
    switch (command) {
      case 'marco':
        return this.service.marco();
      case 'error':
        return this.service.error(String(arg));
      case 'neverComplete':
        return this.service.neverComplete();
      case 'neverCompleteCT':
        return this.service.neverCompleteCT(token ?? CancellationToken.None);
      case 'buffersLength':
        return this.service.buffersLength(Array.isArray(arg) ? arg.filter((b) => b instanceof VSBuffer || b instanceof Uint8Array) : []);
      case 'whoAmI':
        return Promise.resolve(ctx);
      default:
        return Promise.reject(new Error('not implemented'));
    }
  }

  listen(_ctx: string, event: string): Event<unknown> {
    if (event === 'onPong') return this.service.onPong;
    throw new Error('not implemented');
  }
}

export class TestChannelClient implements ITestService {
  constructor(private readonly channel: IChannel) {}

  get onPong(): Event<string> {
    return this.channel.listen('onPong');
  }

  marco(): Promise<string> {
    return this.channel.call('marco');
  }

  error(message: string): Promise<void> {
    return this.channel.call('error', message);
  }

  neverComplete(): Promise<void> {
    return this.channel.call('neverComplete');
  }

  neverCompleteCT(token: CancellationToken): Promise<void> {
    return this.channel.call('neverCompleteCT', undefined, token);
  }

  buffersLength(buffers: Array<VSBuffer | Uint8Array>): Promise<number> {
    return this.channel.call('buffersLength', buffers);
  }

  context(): Promise<unknown> {
    return this.channel.call('context');
  }

  whoAmI(): Promise<string> {
    return this.channel.call('whoAmI');
  }
}
