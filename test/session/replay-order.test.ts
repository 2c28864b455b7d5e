import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { Duplex } from 'stream';
import { connectSession, dialSocket, listenPersistent, type ServerSession } from '../../src';
import { pattern } from '../helpers/bytes';
import { until } from '../helpers/wait';

// What a resumed session sends again keeps the order it was sent in: a message sent in order behind a large one
// must not pass it on the replay, while one sent without must still be free to.

const KiB = 1024;
const SESSION = { fragmentSize: 16 * KiB, highWaterMark: 64 * KiB };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fdpipe-replay-order-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a message sent in order behind a large one arrives after it when the session replays both', async () => {
  const path = join(dir, 's.sock');
  const listener = await listenPersistent(path, { graceMs: 10_000, ...SESSION });
  listener.acceptor.onError(() => {});
  const accepted = new Promise<ServerSession>((resolve) => listener.onDidConnect(resolve));
  let gate = Promise.resolve();
  const dial = async (): Promise<Duplex> => {
    await gate;
    return dialSocket(path);
  };
  const client = await connectSession(dial, { reconnect: { initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 50 }, ...SESSION });
  const server = await accepted;
  try {
    const received: number[] = [];
    server.onMessage((provide) => received.push(provide().remaining));

    // Down, with the client held off: everything sent now waits in the replay queue, unacknowledged.
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    client.reconnect();
    await until(() => !server.isConnected, 'the server to see the drop');
    const large = pattern(2 * 1024 * KiB, 1);
    client.getWriteBuffer().writeRaw(large).commit();
    client.getWriteBuffer({ inOrder: true }).writeRaw(pattern(10, 2)).commit();
    client.getWriteBuffer().writeRaw(pattern(20, 3)).commit();

    open();
    await until(() => received.length === 3, 'the three messages');
    // The free one passes the large one, which travels in fragments; the one sent in order waits for it.
    expect(received.indexOf(10)).toBeGreaterThan(received.indexOf(large.length));
    expect(received[0]).toBe(20);
  } finally {
    client.close();
    server.close();
    listener.dispose();
  }
});
