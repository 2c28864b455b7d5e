/**
 * How far ahead of its consumer a stream's producer may run. The consumer grants this much when it starts reading
 * and grants again as it reads (once half of either has been read), so at most this many items and bytes are in
 * flight or waiting in its queue — whatever the speeds. An item is sent while both have room left, so an item
 * larger than `bytes` still goes, alone.
 */
export interface StreamWindow {
  /** Items in flight or queued. Default 4096. */
  items?: number;
  /** Bytes of items in flight or queued, as encoded. Default 1 MiB. */
  bytes?: number;
}

export const DEFAULT_STREAM_WINDOW: Readonly<Required<StreamWindow>> = Object.freeze({
  items: 4096,
  bytes: 1024 * 1024,
});

/** A producer sends what it has once this many items are waiting… */
export const BATCH_ITEMS = 512;
/** …or this many bytes; otherwise in the next turn of the event loop, so a slow source's items go at once. */
export const BATCH_BYTES = 64 * 1024;
/**
 * A Uint8Array item at least this large goes into the message by reference (the transport may keep it rather than
 * copy it), not through the producer's staging buffer.
 */
export const DIRECT_BYTES = 4096;

export function checkedWindow(window: StreamWindow | undefined): Required<StreamWindow> {
  const items = window?.items ?? DEFAULT_STREAM_WINDOW.items;
  const bytes = window?.bytes ?? DEFAULT_STREAM_WINDOW.bytes;
  for (const [name, value] of [
    ['items', items],
    ['bytes', bytes],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`streamWindow.${name} must be a whole number of 1 or more, got ${value}`);
    }
  }
  return { items, bytes };
}
