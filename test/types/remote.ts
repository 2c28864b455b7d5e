// Type tests for Remote<T>: compiled by `tsc --noEmit -p tsconfig.json` in `npm test`, never run. Each
// `@ts-expect-error` must meet an error (an unused one fails the build), and each `expectType` must see exactly
// the type it names, so a type that regresses either way breaks the build.
import { InMemoryChannel, RpcPeer, ProxyChannel, type Event, type IChannel, type Remote, type RemoteStream } from '../../src';
import { Invoker } from '../../src/event-invoke';
import { ProxyChannel as VsProxyChannel, type IChannel as VsIChannel } from '../../src/vscode';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T>() {
  return <U>(_value: U & (Equal<T, U> extends true ? unknown : ['expected', T, 'got', U])): void => {};
}

class Vector {
  constructor(
    public x: number,
    public y: number,
  ) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}

class HttpError extends Error {
  constructor(
    message: string,
    public status: number,
  ) {
    super(message);
  }
  retry(): void {}
}

interface Settings {
  readonly name: string;
  limit?: number;
  tags: readonly string[];
}

interface Service {
  onTick: Event<Vector>;
  add(a: number, b: number): number;
  fetch(id: string, signal?: AbortSignal): Promise<Settings>;
  vector(): Vector;
  vectors(): Promise<Vector[]>;
  pair(): [Vector, Date];
  when(): Date;
  bytes(): Uint8Array;
  buffer(): Buffer;
  big(): bigint;
  index(): Map<string, Set<Vector>>;
  failure(): HttpError;
  nothing(): void;
  anything(): unknown;
  untyped(): any;
  callback(): () => void;
  symbol(): symbol;
  nested(): { run: () => void; data: number };
  apply(vector: Vector, settings: Settings): Promise<boolean>;
  subscribe(listener: (n: number) => void): void;
  many(handlers: Array<() => void>): void;
  later(value: Promise<number>): void;
  name: string;
  items(): AsyncIterable<Vector>;
}

const peer = new RpcPeer(InMemoryChannel.createPair()[0]);
const svc = peer.proxy<Service>('svc');

async function results(): Promise<void> {
  // Plain async methods need no casts.
  expectType<number>()(await svc.add(1, 2));
  const settings = await svc.fetch('a', new AbortController().signal);
  expectType<{ name: string; limit?: number; tags: string[] }>()(settings);

  // A class instance arrives as its data: no methods.
  const vector = await svc.vector();
  expectType<{ x: number; y: number }>()(vector);
  // @ts-expect-error the method stayed on the other side
  vector.norm();
  // @ts-expect-error not even inside an array
  (await svc.vectors())[0].norm();
  expectType<[{ x: number; y: number }, Date]>()(await svc.pair());

  // What the codec carries whole stays whole.
  expectType<Date>()(await svc.when());
  expectType<Uint8Array>()(await svc.bytes());
  expectType<Buffer>()(await svc.buffer());
  expectType<bigint>()(await svc.big());
  expectType<Map<string, Set<{ x: number; y: number }>>>()(await svc.index());
  const failure = await svc.failure();
  expectType<number>()(failure.status);
  expectType<string>()(failure.message);
  // @ts-expect-error a custom error arrives as an Error with its data: its methods stay behind
  failure.retry();
  expectType<void>()(await svc.nothing());
  expectType<unknown>()(await svc.anything());

  // A result that cannot cross makes the method uncallable.
  // @ts-expect-error a function result
  await svc.callback();
  // @ts-expect-error a symbol result
  await svc.symbol();
  const nested = await svc.nested();
  expectType<{ data: number }>()(nested);

  // Events carry received values too.
  svc.onTick((tick) => expectType<{ x: number; y: number }>()(tick));

  // Streams stay streams, of received items.
  for await (const item of svc.items()) expectType<{ x: number; y: number }>()(item);
  expectType<RemoteStream<{ x: number; y: number }>>()(await svc.items());

  // Members that are not methods or events are not there.
  // @ts-expect-error a data property is not reachable through a proxy
  void svc.name;
}

async function argumentsCross(): Promise<void> {
  // A class instance goes as its data; so does an object with methods.
  await svc.apply(new Vector(1, 2), { name: 'n', tags: ['a'] });
  await svc.apply({ x: 1, y: 2, norm: () => 0 }, { name: 'n', limit: 3, tags: [] });
  // @ts-expect-error a function argument
  await svc.subscribe((n) => console.log(n));
  // @ts-expect-error functions in an array
  await svc.many([() => {}]);
  // @ts-expect-error a promise
  await svc.later(Promise.resolve(1));
  // @ts-expect-error wrong argument types are still wrong
  await svc.add('1', 2);
}

// An interface of plain async methods, the common case, goes through unchanged.
interface MathService {
  max(...values: number[]): Promise<number>;
  sum(values: readonly number[]): number;
}
async function plain(math: Remote<MathService>): Promise<void> {
  expectType<number>()(await math.max(1, 2, 3));
  expectType<number>()(await math.sum([1, 2]));
}

// A generic method's type parameter cannot survive the mapped type: its result is unknown, its argument anything.
interface Echo {
  echo<T>(value: T): T;
}
async function generic(echo: Remote<Echo>): Promise<void> {
  expectType<unknown>()(await echo.echo(1));
}

// The core's ProxyChannel.toService gives the same Remote view.
declare const channel: IChannel;
async function proxyChannel(): Promise<void> {
  const remote = ProxyChannel.toService<Service>(channel);
  // @ts-expect-error no methods on a received class instance
  (await remote.vector()).norm();
}

// The faces keep their seeds' typings: event-invoke's Invoker<API> and VS Code's ProxyChannel.toService<T>.
interface InvokeApi {
  max(...values: number[]): number;
  greet(name: string): Promise<string>;
}
async function faces(invoker: Invoker<InvokeApi>, vsChannel: VsIChannel): Promise<void> {
  expectType<number>()(await invoker.invoke('max', [1, 2]));
  expectType<string>()(await invoker.invoke('greet', 'you'));
  const math = VsProxyChannel.toService<{ max(a: number, b: number): Promise<number> }>(vsChannel);
  expectType<number>()(await math.max(1, 2));
}

void results;
void argumentsCross;
void plain;
void generic;
void proxyChannel;
void faces;
