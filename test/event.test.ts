import { DisposableStore, Emitter, Event } from '../src';

describe('Event and Emitter', () => {
  test('Event.None never fires, fits any event type, and its subscription disposes cleanly', () => {
    const onText: Event<string> = Event.None;
    const store = new DisposableStore();
    const seen: string[] = [];
    const subscription = onText((text) => seen.push(text), store);
    subscription.dispose();
    store.dispose();
    expect(seen).toEqual([]);
  });

  test('a listener that subscribes during fire is not called by that fire; one removed during fire still is', () => {
    const emitter = new Emitter<number>();
    const calls: string[] = [];
    let late: { dispose(): void } | undefined;
    const second = { dispose() {} };
    emitter.event((n) => {
      calls.push(`first ${n}`);
      late ??= emitter.event((m) => calls.push(`late ${m}`));
      second.dispose();
    });
    Object.assign(second, emitter.event((n) => calls.push(`second ${n}`)));
    emitter.fire(1);
    emitter.fire(2);
    expect(calls).toEqual(['first 1', 'second 1', 'first 2', 'late 2']);
  });
});
