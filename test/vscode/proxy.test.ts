import {
  DisposableStore,
  Emitter,
  MarshalledId,
  ProxyChannel,
  VSBuffer,
  registerMarshalledReviver,
  type Event,
  type IDisposable,
} from '../../src/vscode';
import { TestIPCServer, TestService, collect, turns, type ITestService } from './helpers';

/** A stand-in for VS Code's URI: marshalled through toJSON with a `$mid`, revived by a registered reviver. */
class FileUri {
  constructor(readonly path: string) {}
  toJSON() {
    return { $mid: MarshalledId.Uri, path: this.path };
  }
}

interface IProxyTestService extends ITestService {
  marshall(uri: FileUri): Promise<FileUri>;
  isFileUri(uri: FileUri): Promise<boolean>;
  pattern(): Promise<RegExp>;
  onDynamicCount(start: number): Event<number>;
  echo<T>(value: T): Promise<T>;
}

class ProxyTestService extends TestService {
  marshall(uri: FileUri): Promise<FileUri> {
    return Promise.resolve(uri);
  }
  isFileUri(uri: unknown): Promise<boolean> {
    return Promise.resolve(uri instanceof FileUri);
  }
  pattern(): Promise<{ $mid: number; source: string; flags: string }> {
    return Promise.resolve({ $mid: MarshalledId.Regexp, source: 'a+b', flags: 'gi' });
  }
  echo(value: unknown): Promise<unknown> {
    return Promise.resolve(value);
  }
  private readonly counts = new Emitter<number>();
  onDynamicCount(start: number): Event<number> {
    setImmediate(() => this.counts.fire(start + 1));
    return this.counts.event;
  }
}

describe('vscode face: ProxyChannel', () => {
  let reviver: IDisposable;
  let disposables: DisposableStore;
  let service: ProxyTestService;
  let server: TestIPCServer;
  let client: ReturnType<TestIPCServer['createConnection']>;
  let proxy: IProxyTestService;

  beforeAll(() => {
    reviver = registerMarshalledReviver(MarshalledId.Uri, (o) => new FileUri(String(o.path)));
  });
  afterAll(() => reviver.dispose());

  beforeEach(() => {
    disposables = new DisposableStore();
    service = new ProxyTestService();
    server = new TestIPCServer();
    server.registerChannel('test', ProxyChannel.fromService(service, disposables));
    client = server.createConnection('client1');
    proxy = ProxyChannel.toService<IProxyTestService>(client.getChannel('test'));
  });

  afterEach(() => {
    client.dispose();
    server.dispose();
    disposables.clear();
    service.dispose();
  });

  test('a method call succeeds', async () => {
    await expect(proxy.marco()).resolves.toBe('polo');
  });

  test('a method call fails with the error the service threw', async () => {
    await expect(proxy.error('nice error')).rejects.toMatchObject({ message: 'nice error' });
  });

  test('onX properties are events', async () => {
    const messages = collect(proxy.onPong, 2);
    await turns();
    service.ping('hello');
    service.ping('world');
    await expect(messages).resolves.toEqual(['hello', 'world']);
  });

  test('onDynamicX methods are events that take an argument', async () => {
    const first = await new Promise<number>((resolve) => {
      const subscription = proxy.onDynamicCount(41)((n) => {
        subscription.dispose();
        resolve(n);
      });
    });
    expect(first).toBe(42);
  });

  test('marshalled objects are revived both ways: the service gets a FileUri, and so does the caller', async () => {
    const uri = new FileUri('/foo/bar');
    await expect(proxy.isFileUri(uri)).resolves.toBe(true);
    const back = await proxy.marshall(uri);
    expect(back).toBeInstanceOf(FileUri);
    expect(back.path).toBe('/foo/bar');
    const pattern = await proxy.pattern();
    expect(pattern).toBeInstanceOf(RegExp);
    expect(pattern.flags).toBe('gi');
  });

  test('marshalled objects nested in arrays and objects are revived too', async () => {
    const back = await proxy.echo({ files: [new FileUri('/a'), new FileUri('/b')], when: { at: new FileUri('/c') } });
    expect(back.files.every((f) => f instanceof FileUri)).toBe(true);
    expect(back.when.at).toBeInstanceOf(FileUri);
    expect(back.when.at.path).toBe('/c');
  });

  test('with marshalling disabled, marshalled objects stay as they came', async () => {
    const raw = ProxyChannel.toService<IProxyTestService>(client.getChannel('test'), { disableMarshalling: true });
    const back = await raw.marshall(new FileUri('/x'));
    expect(back).not.toBeInstanceOf(FileUri);
    expect(back).toEqual({ $mid: MarshalledId.Uri, path: '/x' });
  });

  test('VSBuffers in arrays arrive as VSBuffers', async () => {
    await expect(proxy.buffersLength([VSBuffer.alloc(2), VSBuffer.alloc(3)])).resolves.toBe(5);
  });

  test('a context option is passed as the first argument of every call', async () => {
    const withContext = ProxyChannel.toService<IProxyTestService>(client.getChannel('test'), {
      context: 'Super Context',
    });
    await expect(withContext.context()).resolves.toBe('Super Context');
  });

  test('properties answer locally', () => {
    const local = ProxyChannel.toService<{ version: string }>(client.getChannel('test'), {
      properties: new Map([['version', '1.2.3']]),
    });
    expect(local.version).toBe('1.2.3');
  });

  test('unknown methods, and members every object has, are not callable', async () => {
    const loose = ProxyChannel.toService<Record<string, () => Promise<unknown>>>(client.getChannel('test'));
    await expect(loose.nope()).rejects.toThrow('Method not found: nope');
    await expect(loose.constructor()).rejects.toThrow('Method not found: constructor');
    await expect(loose.toString()).rejects.toThrow('Method not found: toString');
  });

  test('events fired before the first remote listener are kept for it', async () => {
    service.ping('early');
    // Waits for the first event: were it lost, this would never settle and the test would fail on its timeout.
    const first = await new Promise<string>((resolve) => {
      const subscription = proxy.onPong((m) => {
        subscription.dispose();
        resolve(m);
      });
    });
    expect(first).toBe('early');
  });
});
