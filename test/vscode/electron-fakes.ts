// Stand-ins for Electron's IPC objects, faithful where fdpipe depends on Electron's behaviour: every message is
// structured-cloned when it is sent (so a sender that reuses its buffer afterwards is caught, and a Buffer
// arrives as a plain Uint8Array) and delivered on a later turn of the event loop, in order; ports deliver
// nothing until start(); 'destroyed' and 'close' come as Electron emits them. They are EventEmitters, as
// Electron's objects are.
import { EventEmitter } from 'events';
import type {
  IpcMain,
  IpcMainEvent,
  IpcRenderer,
  MessageEventMain,
  MessagePortMain,
  ParentPort,
  UtilityProcess,
  WebContents,
  WebFrameMain,
} from '../../src/vscode/electron';

/** Runs `deliver` on a later turn, as Electron's IPC does; FIFO, so messages keep their order. */
function later(deliver: () => void): void {
  setImmediate(deliver);
}

export class FakeIpcMain extends EventEmitter implements IpcMain {
  /** How many listeners each channel has: a test checks that nothing is left behind. */
  listenersOn(channel: string): number {
    return this.listenerCount(channel);
  }
}

export class FakeWebContents extends EventEmitter implements WebContents {
  private destroyed = false;
  /** The renderer's current JS context: replaced on reload, so messages for the old one go nowhere. */
  context: FakeIpcRenderer;

  constructor(
    readonly id: number,
    private readonly ipcMain: FakeIpcMain,
    readonly mainFrame: WebFrameMain,
  ) {
    super();
    this.context = new FakeIpcRenderer(this);
  }

  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    const cloned = structuredClone(args);
    const target = this.context;
    later(() => {
      if (!this.destroyed && this.context === target) target.emit(channel, { sender: target }, ...cloned);
    });
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  /** The renderer process goes away without a word: isDestroyed() at once, 'destroyed' on a later turn. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    later(() => this.emit('destroyed'));
  }

  /** From the renderer: to ipcMain, as from this WebContents' main frame. */
  deliverToMain(channel: string, args: unknown[], from: FakeIpcRenderer, frame: WebFrameMain): void {
    const cloned = structuredClone(args);
    later(() => {
      // A renderer's messages die with it, and with the JS context that sent them.
      if (this.destroyed || this.context !== from) return;
      const event: IpcMainEvent = { sender: this, senderFrame: frame };
      this.ipcMain.emit(channel, event, ...cloned);
    });
  }

  /** A new JS context in the same WebContents (same id): the old ipcRenderer and its listeners are gone. */
  reload(): FakeIpcRenderer {
    this.context = new FakeIpcRenderer(this);
    return this.context;
  }
}

export class FakeIpcRenderer extends EventEmitter implements IpcRenderer {
  constructor(private readonly webContents: FakeWebContents) {
    super();
  }

  send(channel: string, ...args: unknown[]): void {
    this.webContents.deliverToMain(channel, args, this, this.webContents.mainFrame);
  }

  /** As an iframe inside this renderer would send: same WebContents, another frame. */
  sendFromFrame(frame: WebFrameMain, channel: string, ...args: unknown[]): void {
    this.webContents.deliverToMain(channel, args, this, frame);
  }
}

/** An Electron app in one process: one ipcMain, and renderers opened on it with ids as Electron hands them out. */
export class FakeElectron {
  readonly ipcMain = new FakeIpcMain();
  private nextId = 1;

  openWindow(url = 'vscode-file://vscode-app/window.html'): FakeWebContents {
    return new FakeWebContents(this.nextId++, this.ipcMain, { url, parent: null });
  }
}

/** A forged WebContents the app never opened, as when a test sends straight to ipcMain. */
export function strangerEvent(id: number): IpcMainEvent {
  const sender: WebContents = {
    id,
    send() {},
    isDestroyed: () => false,
    once() {},
    removeListener() {},
  };
  return { sender, senderFrame: null };
}

export class FakeMessagePortMain extends EventEmitter implements MessagePortMain {
  peer!: FakeMessagePortMain;
  private started = false;
  private closed = false;
  private readonly inbox: Array<MessageEventMain | 'close'> = [];
  startCalls = 0;

  postMessage(message: unknown, transfer: MessagePortMain[] = []): void {
    if (this.closed) return; // as a DOM port: posting on a closed port does nothing
    // Ports are moved, not cloned; everything else is cloned now, as Electron serializes at postMessage.
    const data = structuredClone(message);
    this.peer.receive({ data, ports: transfer });
  }

  start(): void {
    this.startCalls++;
    if (this.started) return;
    this.started = true;
    this.pump();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Both ends hear 'close': this one on a later turn, the other after what was posted to it before.
    later(() => this.emit('close'));
    this.peer.receive('close');
  }

  private receive(item: MessageEventMain | 'close'): void {
    if (this.closed && item !== 'close') return;
    this.inbox.push(item);
    this.pump();
  }

  private pump(): void {
    if (!this.started && this.inbox[0] !== 'close') return;
    later(() => {
      while (this.inbox.length > 0) {
        if (!this.started && this.inbox[0] !== 'close') return;
        const item = this.inbox.shift()!;
        if (item === 'close') {
          if (this.closed) continue;
          this.closed = true;
          this.emit('close');
        } else if (!this.closed) {
          this.emit('message', item);
        }
      }
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

/** Electron's MessageChannelMain: two entangled ports. */
export class FakeMessageChannelMain {
  readonly port1 = new FakeMessagePortMain();
  readonly port2 = new FakeMessagePortMain();

  constructor() {
    this.port1.peer = this.port2;
    this.port2.peer = this.port1;
  }
}

/** process.parentPort in the child: holds messages until its first 'message' listener, as Electron's does. */
export class FakeParentPort extends EventEmitter implements ParentPort {
  private held: MessageEventMain[] | undefined = [];

  constructor(private readonly toParent: (message: unknown) => void) {
    super();
    this.on('newListener', (event: string) => {
      if (event !== 'message' || !this.held) return;
      const held = this.held;
      this.held = undefined;
      later(() => held.forEach((item) => this.emit('message', item)));
    });
  }

  postMessage(message: unknown): void {
    this.toParent(structuredClone(message));
  }

  receive(event: MessageEventMain): void {
    if (this.held) this.held.push(event);
    else later(() => this.emit('message', event));
  }
}

/** utilityProcess.fork's result and the child's process.parentPort, joined. */
export class FakeUtilityProcess extends EventEmitter implements UtilityProcess {
  pid: number | undefined = 4242;
  readonly parentPort: FakeParentPort;
  private exited = false;

  constructor() {
    super();
    this.parentPort = new FakeParentPort((message) =>
      later(() => {
        if (!this.exited) this.emit('message', message);
      }),
    );
  }

  postMessage(message: unknown, transfer: MessagePortMain[] = []): void {
    if (this.exited) return;
    this.parentPort.receive({ data: structuredClone(message), ports: transfer });
  }

  kill(): boolean {
    if (this.exited) return false;
    this.exit(143);
    return true;
  }

  /** The child ends: 'exit' with its code on a later turn, and nothing more is delivered either way. */
  exit(code: number): void {
    if (this.exited) return;
    this.exited = true;
    this.pid = undefined;
    later(() => this.emit('exit', code));
  }
}
