// Messages of a session that come out of turn (passing a large one) are noted as runs (AheadRuns): a peer that
// leaves too many holes is refused, and a well-behaved one is counted exactly as one number at a time would be.
import fc from 'fast-check';
import {
  connectSession,
  SessionAcceptor,
  SessionProtocolError,
  type ClientSession,
  type ClientSessionOptions,
  type ServerSession,
} from '../../src';
import { AheadRuns } from '../../src/channel/session/AheadRuns';
import { DATA, DATA_HEADER_SIZE } from '../../src/channel/session/wire';
import { createUnixSocketPair, type SocketPair } from '../helpers/streams';
import { next, until } from '../helpers/wait';

describe('AheadRuns', () => {
  it('counts what came, and what to deliver, as a set of every number ahead would', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 300 }), (offsets) => {
        // Each arrival is a number up to 40 past the last one counted in turn, duplicates and all.
        const runs = new AheadRuns(Infinity);
        const set = new Set<number>();
        let countedRuns = 0;
        let countedSet = 0;
        for (const offset of offsets) {
          const n = countedSet + offset;
          // The set, one number at a time (what SessionChannel kept before).
          let deliverSet = true;
          if (n === countedSet + 1) {
            countedSet = n;
            while (set.delete(countedSet + 1)) countedSet++;
          } else if (set.has(n)) {
            deliverSet = false;
          } else {
            set.add(n);
          }
          // The runs.
          let deliverRuns = true;
          if (n === countedRuns + 1) {
            countedRuns = runs.takeRunAfter(n) ?? n;
          } else if (runs.add(n) === 'known') {
            deliverRuns = false;
          }
          if (deliverRuns !== deliverSet || countedRuns !== countedSet) return false;
        }
        return runs.isEmpty === (set.size === 0);
      }),
    );
  });

  it('refuses a number that would open one hole more than it holds, and takes it once a hole closes', () => {
    const runs = new AheadRuns(2);
    expect(runs.add(10)).toBe('added');
    expect(runs.add(12)).toBe('added');
    expect(runs.add(14)).toBe('refused');
    expect(runs.add(11)).toBe('added'); // 10..12: one run
    expect(runs.add(11)).toBe('known');
    expect(runs.add(14)).toBe('added');
    expect(runs.add(13)).toBe('added'); // 10..14
    expect(runs.add(20)).toBe('added');
    expect(runs.takeRunAfter(8)).toBeUndefined(); // 9 is still missing
    expect(runs.takeRunAfter(9)).toBe(14);
    expect(runs.takeRunAfter(19)).toBe(20);
    expect(runs.isEmpty).toBe(true);
  });
});

describe('a session peer that leaves messages missing without end', () => {
  const sessions: Array<ClientSession | ServerSession> = [];
  const pairs: SocketPair[] = [];
  afterEach(async () => {
    for (const session of sessions.splice(0)) session.close();
    for (const pair of pairs.splice(0)) await pair.dispose();
  });

  /** A session, each of its links over a real socket pair (pairs[0] the first). */
  async function open(clientOptions: ClientSessionOptions): Promise<{ client: ClientSession; server: ServerSession }> {
    const acceptor = new SessionAcceptor();
    const opened = next(acceptor.onDidOpen);
    const dial = async () => {
      const pair = await createUnixSocketPair();
      pairs.push(pair);
      acceptor.accept(pair.b);
      return pair.a;
    };
    const client = await connectSession(dial, clientOptions);
    const server = await opened;
    sessions.push(client, server);
    return { client, server };
  }

  /** A DATA frame numbered `seq` carrying one byte, as the pipe frames it. */
  function dataFrame(seq: number, value: number): Buffer {
    const frame = Buffer.alloc(4 + DATA_HEADER_SIZE + 1);
    frame.writeUInt32BE(DATA_HEADER_SIZE + 1, 0);
    frame[4] = DATA;
    frame.writeUInt32BE(seq, 5);
    frame[4 + DATA_HEADER_SIZE] = value;
    return frame;
  }

  it('a peer with small fragments and thousands of large messages queued is never refused, whatever this side\'s options', async () => {
    // This side (the acceptor's) keeps the defaults; the client cuts everything over 4 KiB into fragments.
    const { client, server } = await open({ fragmentSize: 4096 });
    let received = 0;
    server.onMessage(() => received++);
    const errors: Error[] = [];
    server.onError((error) => errors.push(error));
    // Each small message is sent with thousands of large ones still queued before it.
    for (let i = 0; i < 5000; i++) {
      client.getWriteBuffer().writeRaw(Buffer.alloc(4097, i & 0xff)).commit();
      client.getWriteBuffer().writeRaw(Buffer.alloc(1, i & 0xff)).commit();
    }
    await until(() => received === 10_000, 'every message', 30_000);
    expect(server.isClosed).toBe(false);
    expect(errors).toEqual([]);
  });

  it('is refused with SessionProtocolError past 4096 holes; every message before that arrived once', async () => {
    const { client, server } = await open({ reconnect: { initialDelayMs: 1, maxDelayMs: 5 } });
    const received: number[] = [];
    server.onMessage((provide) => received.push(provide().readUint8()));
    const closed = next(server.onClose);
    // Straight onto the client's socket, as a peer that does not keep to the protocol would write them:
    // 3, 5, 7, … each leaves the one before it missing; 3 again is a copy.
    const frames = [dataFrame(3, 1), dataFrame(3, 1)];
    for (let i = 1; i <= 4096; i++) frames.push(dataFrame(3 + 2 * i, 1));
    pairs[0].a.write(Buffer.concat(frames));
    const event = await closed;
    expect(event.kind).toBe('error');
    expect(event.error).toBeInstanceOf(SessionProtocolError);
    expect(event.error!.message).toMatch(/more than 4096 earlier ones missing/);
    expect(received).toHaveLength(4096);
    // The client's next link finds the session gone, and it closes too.
    await until(() => client.isClosed, 'the client to learn');
    expect(pairs.length).toBeGreaterThan(1);
  });
});
