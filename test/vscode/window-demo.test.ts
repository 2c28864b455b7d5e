import { join } from 'path';
import type { ChildProcess } from 'child_process';
import { forkWithChannel } from '../../src/channel/fork';
import {
  ChannelProtocol,
  Emitter,
  Event,
  IPCServer,
  type ClientConnectionEvent,
  type IServerChannel,
} from '../../src/vscode';
import { killAll } from '../helpers/processes';

// The seed article's demo, over fd 4: the main process serves a WindowService on the 'windowManager' channel,
// and forked children stand in for renderers: each calls `getChannel('windowManager').call('doSomething')`.

const RENDERER = join(__dirname, '..', 'fixtures', 'vscode-window-renderer.js');

class WindowService {
  readonly calls: Array<{ window: string; windowId: string }> = [];

  doSomething(window: string, windowId: string): Promise<string> {
    this.calls.push({ window, windowId });
    return Promise.resolve(`did something for ${window}`);
  }
}

class WindowChannel implements IServerChannel<string> {
  constructor(private readonly service: WindowService) {}

  call(ctx: string, command: string, arg?: unknown): Promise<unknown> {
    switch (command) {
      case 'doSomething': {
        const windowId = typeof arg === 'object' && arg !== null && 'windowId' in arg ? String(arg.windowId) : '';
        return this.service.doSomething(ctx, windowId);
      }
    }
    return Promise.reject(new Error(`Call not found: ${command}`));
  }

  listen(_ctx: string, event: string): Event<unknown> {
    throw new Error(`Event not found: ${event}`);
  }
}

interface Report {
  windowId: string;
  result?: string;
  error?: string;
}

function isReport(value: unknown): value is Report {
  return typeof value === 'object' && value !== null && typeof (value as { windowId?: unknown }).windowId === 'string';
}

describe('vscode face: the window demo, renderers forked over fd 4', () => {
  const children = new Set<ChildProcess>();
  afterEach(() => killAll(children));

  test("each renderer calls the main process's windowManager and gets its answer", async () => {
    const connect = new Emitter<ClientConnectionEvent>();
    const server = new IPCServer<string>(connect.event);
    const windows = new WindowService();
    server.registerChannel('windowManager', new WindowChannel(windows));

    const reports = new Emitter<Report>();
    const resultsChannel: IServerChannel<string> = {
      call: (_ctx, command, arg) => {
        if (command === 'report' && isReport(arg)) reports.fire(arg);
        return Promise.resolve();
      },
      listen: () => Event.None,
    };
    server.registerChannel('results', resultsChannel);

    const got: Report[] = [];
    const allReported = new Promise<void>((resolve) =>
      reports.event((report) => {
        got.push(report);
        if (got.length === 2) resolve();
      }),
    );
    const allGone = new Promise<void>((resolve) => {
      let gone = 0;
      server.onDidRemoveConnection(() => ++gone === 2 && resolve());
    });

    for (const id of ['1', '2']) {
      const worker = forkWithChannel(RENDERER, [id]);
      children.add(worker.child);
      connect.fire(ChannelProtocol.clientConnection(worker.channel));
    }

    await allReported;
    expect(got.sort((a, b) => a.windowId.localeCompare(b.windowId))).toEqual([
      { windowId: '1', result: 'did something for window:1' },
      { windowId: '2', result: 'did something for window:2' },
    ]);
    expect(windows.calls.sort((a, b) => a.window.localeCompare(b.window))).toEqual([
      { window: 'window:1', windowId: '1' },
      { window: 'window:2', windowId: '2' },
    ]);
    // Each renderer disposes its client when done: the server sees both go.
    await allGone;
    expect(server.connections).toEqual([]);
    server.dispose();
    connect.dispose();
    reports.dispose();
  });
});
