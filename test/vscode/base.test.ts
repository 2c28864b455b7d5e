import { EventEmitter } from 'events';
import {
  CancellationError,
  CancellationToken,
  CancellationTokenSource,
  DisposableStore,
  Emitter,
  Event,
  Relay,
  VSBuffer,
  canceled,
  isCancellationError,
  toDisposable,
  type IDisposable,
} from '../../src/vscode';

describe('vscode face: Event and Emitter', () => {
  test('a listener is called with thisArgs as this, and its subscription goes to the disposables given', () => {
    const emitter = new Emitter<number>();
    const target = { seen: [] as number[] };
    const list: IDisposable[] = [];
    emitter.event(function (this: typeof target, n: number) {
      this.seen.push(n);
    }, target, list);
    const store = new DisposableStore();
    let other = 0;
    emitter.event(() => other++, undefined, store);
    emitter.fire(1);
    expect(target.seen).toEqual([1]);
    expect(list).toHaveLength(1);
    list[0].dispose();
    store.dispose();
    emitter.fire(2);
    expect(target.seen).toEqual([1]);
    expect(other).toBe(1);
  });

  test('the listener hooks run in order, around the first and the last listener', () => {
    const calls: string[] = [];
    const emitter = new Emitter<void>({
      onWillAddFirstListener: () => calls.push('willAddFirst'),
      onDidAddFirstListener: () => calls.push('didAddFirst'),
      onDidAddListener: () => calls.push('didAdd'),
      onWillRemoveListener: () => calls.push('willRemove'),
      onDidRemoveLastListener: () => calls.push('didRemoveLast'),
    });
    const a = emitter.event(() => {});
    const b = emitter.event(() => {});
    a.dispose();
    b.dispose();
    expect(calls).toEqual(['willAddFirst', 'didAddFirst', 'didAdd', 'didAdd', 'willRemove', 'willRemove', 'didRemoveLast']);
    expect(emitter.hasListeners()).toBe(false);
  });

  test('a listener that throws does not stop the others, and the error goes to onListenerError', () => {
    const errors: unknown[] = [];
    const emitter = new Emitter<number>({ onListenerError: (e) => errors.push(e) });
    const got: number[] = [];
    emitter.event(() => {
      throw new Error('boom');
    });
    emitter.event((n) => got.push(n));
    expect(() => emitter.fire(7)).not.toThrow();
    expect(got).toEqual([7]);
    expect(errors).toHaveLength(1);
  });

  test('once, filter, map and any', () => {
    const emitter = new Emitter<number>();
    const onceGot: number[] = [];
    Event.once(emitter.event)((n) => onceGot.push(n));
    const mapped: string[] = [];
    Event.map(Event.filter(emitter.event, (n) => n % 2 === 0), (n) => `#${n}`)((s) => mapped.push(s));
    const other = new Emitter<number>();
    const anyGot: number[] = [];
    Event.any(emitter.event, other.event)((n) => anyGot.push(n));
    [1, 2, 3, 4].forEach((n) => emitter.fire(n));
    other.fire(10);
    expect(onceGot).toEqual([1]);
    expect(mapped).toEqual(['#2', '#4']);
    expect(anyGot).toEqual([1, 2, 3, 4, 10]);
  });

  test('toPromise resolves with the next firing', async () => {
    const emitter = new Emitter<string>();
    const next = Event.toPromise(emitter.event);
    emitter.fire('a');
    emitter.fire('b');
    await expect(next).resolves.toBe('a');
    expect(emitter.hasListeners()).toBe(false);
  });

  test('buffer keeps what fires before the first listener and hands it over', () => {
    const emitter = new Emitter<number>();
    const store = new DisposableStore();
    const buffered = Event.buffer(emitter.event, 'test', false, undefined, store);
    emitter.fire(1);
    emitter.fire(2);
    const got: number[] = [];
    buffered((n) => got.push(n));
    emitter.fire(3);
    expect(got).toEqual([1, 2, 3]);
    store.dispose();
    emitter.fire(4);
    expect(got).toEqual([1, 2, 3]);
  });

  test('fromNodeEventEmitter listens on the Node emitter only while it has listeners', () => {
    const node = new EventEmitter();
    const event = Event.fromNodeEventEmitter(node, 'data', (a: number, b: number) => a + b);
    expect(node.listenerCount('data')).toBe(0);
    const got: number[] = [];
    const subscription = event((n) => got.push(n));
    node.emit('data', 1, 2);
    expect(got).toEqual([3]);
    subscription.dispose();
    expect(node.listenerCount('data')).toBe(0);
  });

  test('a Relay keeps its listeners while its input changes', () => {
    const relay = new Relay<string>();
    const a = new Emitter<string>();
    const b = new Emitter<string>();
    const got: string[] = [];
    relay.event((s) => got.push(s));
    relay.input = a.event;
    a.fire('from a');
    relay.input = b.event;
    a.fire('lost');
    b.fire('from b');
    expect(got).toEqual(['from a', 'from b']);
    relay.dispose();
  });

  test('a disposed emitter fires nothing and takes no listeners', () => {
    const emitter = new Emitter<number>();
    const got: number[] = [];
    emitter.event((n) => got.push(n));
    emitter.dispose();
    emitter.fire(1);
    emitter.event((n) => got.push(n)).dispose();
    expect(got).toEqual([]);
  });
});

describe('vscode face: cancellation', () => {
  test('CancellationError is named and says Canceled', () => {
    const error = canceled();
    expect(error).toBeInstanceOf(CancellationError);
    expect(error.name).toBe('Canceled');
    expect(error.message).toBe('Canceled');
    expect(isCancellationError(error)).toBe(true);
    expect(isCancellationError(Object.assign(new Error('Canceled'), { name: 'Canceled' }))).toBe(true);
    expect(isCancellationError(new Error('other'))).toBe(false);
  });

  test('a source cancels its token once and tells its listeners', () => {
    const source = new CancellationTokenSource();
    let heard = 0;
    source.token.onCancellationRequested(() => heard++);
    expect(source.token.isCancellationRequested).toBe(false);
    source.cancel();
    source.cancel();
    expect(source.token.isCancellationRequested).toBe(true);
    expect(heard).toBe(1);
  });

  test('a source cancelled before anyone asked for its token hands out CancellationToken.Cancelled', () => {
    const source = new CancellationTokenSource();
    source.cancel();
    expect(source.token).toBe(CancellationToken.Cancelled);
  });

  test('listening on a cancelled token calls the listener soon', async () => {
    const heard = await new Promise<boolean>((resolve) =>
      CancellationToken.Cancelled.onCancellationRequested(() => resolve(true)),
    );
    expect(heard).toBe(true);
  });

  test("a parent's cancellation cancels the child source; dispose(true) cancels too", () => {
    const parent = new CancellationTokenSource();
    const child = new CancellationTokenSource(parent.token);
    parent.cancel();
    expect(child.token.isCancellationRequested).toBe(true);
    const other = new CancellationTokenSource();
    const token = other.token;
    other.dispose(true);
    expect(token.isCancellationRequested).toBe(true);
  });

  test('isCancellationToken knows tokens', () => {
    expect(CancellationToken.isCancellationToken(CancellationToken.None)).toBe(true);
    expect(CancellationToken.isCancellationToken(new CancellationTokenSource().token)).toBe(true);
    expect(CancellationToken.isCancellationToken({})).toBe(false);
  });
});

describe('vscode face: DisposableStore and VSBuffer', () => {
  test('clear disposes and keeps the store usable; a disposed store disposes what is added late', () => {
    const store = new DisposableStore();
    const disposed: string[] = [];
    store.add(toDisposable(() => disposed.push('a')));
    store.clear();
    store.add(toDisposable(() => disposed.push('b')));
    store.dispose();
    store.add(toDisposable(() => disposed.push('late')));
    expect(disposed).toEqual(['a', 'b', 'late']);
  });

  test('VSBuffer wraps without copying, slices as views, concatenates and compares', () => {
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const buffer = VSBuffer.wrap(bytes);
    buffer.writeUInt8(9, 0);
    expect(bytes[0]).toBe(9);
    expect(buffer.slice(1, 3).byteLength).toBe(2);
    const joined = VSBuffer.concat([VSBuffer.fromString('ab'), VSBuffer.fromString('cd')]);
    expect(joined.toString()).toBe('abcd');
    expect(joined.equals(VSBuffer.fromString('abcd'))).toBe(true);
    expect(joined.indexOf(VSBuffer.fromString('cd'))).toBe(2);
    const word = VSBuffer.alloc(4);
    word.writeUInt32BE(0xdeadbeef, 0);
    expect(word.readUInt32BE(0)).toBe(0xdeadbeef);
    expect(VSBuffer.isNativeBuffer(Buffer.alloc(1))).toBe(true);
    expect(VSBuffer.isNativeBuffer(new Uint8Array(1))).toBe(false);
  });
});
