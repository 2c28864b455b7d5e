import { IPCChannel } from '../../channel/IPCChannel';
import { ChannelProtocol } from '../common/ChannelProtocol';
import { ChannelServer } from '../common/ChannelServer';

/**
 * In a child forked by ipc.cp's Client: serves channels to the parent over fd 4 (VS Code's uses Node's
 * process.send with base64). It disposes itself when the parent goes, as VS Code's does on 'disconnect'.
 */
export class Server<TContext extends string> extends ChannelServer<TContext> {
  private readonly protocol: ChannelProtocol;

  constructor(ctx: TContext) {
    const protocol = new ChannelProtocol(new IPCChannel());
    super(protocol, ctx);
    this.protocol = protocol;
    protocol.onDidClose(() => this.dispose());
  }

  override dispose(): void {
    super.dispose();
    // Closing fd 4 lets the child's event loop end, as the parent expects of a child it has let go.
    this.protocol.dispose();
  }
}
