import { EventEmitter } from 'events';
import { BaseCalleeChannel, BaseInvokerChannel } from '../../src';

/** What a packet looks like once Node's IPC in 'json' mode has carried it: undefined fields gone, and so on. */
export function overJson<T>(packet: T): T {
  return JSON.parse(JSON.stringify(packet)) as T;
}

/** The invoker's end of a wire: each packet it sends reaches the peer on a later turn, as over a pipe. */
export class WireInvokerChannel extends BaseInvokerChannel {
  readonly sent: Array<Record<string, unknown>> = [];
  peer: EventEmitter | undefined;

  override send(packet: unknown): void {
    this.sent.push(packet as Record<string, unknown>);
    const copy = overJson(packet);
    setImmediate(() => this.peer?.emit('message', copy));
  }
}

/**
 * The callee's end of a wire. It says it is connected, as a ChildProcess or `process` does, so an Invoker may call
 * back over it.
 */
export class WireCalleeChannel extends BaseCalleeChannel {
  readonly connected = true;
  readonly sent: Array<Record<string, unknown>> = [];
  peer: EventEmitter | undefined;
  destroyed = 0;

  override send(packet: unknown): void {
    this.sent.push(packet as Record<string, unknown>);
    const copy = overJson(packet);
    setImmediate(() => this.peer?.emit('message', copy));
  }

  override destroy(): void {
    this.destroyed++;
  }
}

/** Two custom channels joined like the two ends of a process's IPC; the invoker's end is connected. */
export function wire(): { invokerSide: WireInvokerChannel; calleeSide: WireCalleeChannel } {
  const invokerSide = new WireInvokerChannel();
  const calleeSide = new WireCalleeChannel();
  invokerSide.peer = calleeSide;
  calleeSide.peer = invokerSide;
  invokerSide.connect();
  return { invokerSide, calleeSide };
}

/**
 * Custom channels over one shared bus, as in event-invoke's own examples: whatever one sends, every channel on the
 * bus hears — its sender included.
 */
export class BusInvokerChannel extends BaseInvokerChannel {
  private readonly onBus = (packet: unknown) => this.emit('message', packet);

  constructor(private readonly bus: EventEmitter) {
    super();
    bus.on('message', this.onBus);
  }

  override send(packet: unknown): void {
    setImmediate(() => this.bus.emit('message', overJson(packet)));
  }

  override destroy(): void {
    this.bus.off('message', this.onBus);
  }
}

export class BusCalleeChannel extends BaseCalleeChannel {
  private readonly onBus = (packet: unknown) => this.emit('message', packet);

  constructor(private readonly bus: EventEmitter) {
    super();
    bus.on('message', this.onBus);
  }

  override send(packet: unknown): void {
    setImmediate(() => this.bus.emit('message', overJson(packet)));
  }

  override destroy(): void {
    this.bus.off('message', this.onBus);
  }
}

/** Lets queued immediates, ticks and microtasks run; uses no timer, so it works under fake timers too. */
export async function turns(count = 5): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Something to hold a call open until the test lets it go. */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** How a promise settled, without an unhandled rejection; `error` is loosely typed for assertions on its fields. */
export interface Settled<T> {
  ok: boolean;
  value: T | undefined;
  error: any;
}

export function settled<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true, value, error: undefined }),
    (error) => ({ ok: false, value: undefined, error }),
  );
}
