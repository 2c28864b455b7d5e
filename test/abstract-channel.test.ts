import { AbstractChannel, toDisposable, type WriteBuffer } from '../src';

/** A channel without a transport, driven through the hooks a subclass has. */
class BareChannel extends AbstractChannel {
  readonly log: string[] = [];

  getWriteBuffer(): WriteBuffer {
    throw new Error('BareChannel sends nothing');
  }

  protected doClose(): void {
    this.log.push('doClose');
  }

  /** A resource of the subclass's own (a timer, a listener on its transport), given to the channel to release. */
  hold(name: string): void {
    this.register(toDisposable(() => this.log.push(`released ${name}`)));
  }

  closedByPeer(): void {
    this.fireClose({ kind: 'remote', reason: 'the peer went away' });
  }
}

describe('AbstractChannel', () => {
  it.each(['here', 'by the peer'] as const)(
    'closed %s, fires onClose once, then releases what the subclass registered, once',
    (side) => {
      const channel = new BareChannel();
      channel.hold('timer');
      channel.hold('socket');
      channel.onClose((event) => channel.log.push(`close 1: ${event.kind}`));
      channel.onClose(() => channel.log.push('close 2'));
      for (let i = 0; i < 2; i++) {
        if (side === 'here') channel.close();
        else channel.closedByPeer();
      }
      channel.close();
      const kind = side === 'here' ? 'local' : 'remote';
      expect(channel.log).toEqual([
        ...(side === 'here' ? ['doClose'] : []),
        `close 1: ${kind}`,
        'close 2',
        'released timer',
        'released socket',
      ]);
    },
  );

  it('releases at once what is registered after it closed', () => {
    const channel = new BareChannel();
    channel.close();
    channel.hold('late');
    expect(channel.log).toEqual(['doClose', 'released late']);
  });

  it('lets go of its listeners on close: one subscribed during onClose is never called', () => {
    const channel = new BareChannel();
    channel.onClose(() => {
      channel.onClose(() => channel.log.push('late close listener'));
      channel.onError(() => channel.log.push('late error listener'));
    });
    channel.closedByPeer();
    channel.closedByPeer();
    expect(channel.log).toEqual([]);
  });
});
