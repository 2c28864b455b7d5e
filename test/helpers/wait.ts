import type { Event } from '../../src';

/** The next value an event fires. */
export function next<T>(event: Event<T>): Promise<T> {
  return new Promise((resolve) => {
    const subscription = event((value) => {
      subscription.dispose();
      resolve(value);
    });
  });
}

/**
 * Polls until `condition` holds. The limit only turns a hang into a readable failure; no test asserts on how long
 * anything takes.
 */
export async function until(condition: () => boolean, what: string, limitMs = 30000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets pending ticks, microtasks and I/O callbacks run, so that an event that should not fire has had its chance. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 2));
}
