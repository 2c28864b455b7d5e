import { fork, type ChildProcess } from 'child_process';
import { join } from 'path';
import { killAll } from '../helpers/processes';

// event-invoke's article (its README) shows two programs; each runs here as the article writes it, in forked
// processes, with fdpipe in place of event-invoke.

const articleDir = join(__dirname, '..', 'fixtures', 'event-invoke', 'article');
const children = new Set<ChildProcess>();
afterEach(() => killAll(children));

function start(script: string): { child: ChildProcess; output: Promise<string>; exit: Promise<number | null> } {
  const child = fork(join(articleDir, script), [], { cwd: articleDir, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  children.add(child);
  let text = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: exit.then(() => text), exit };
}

test('"Invoking method via child process": prints both results, and both processes end by themselves', async () => {
  const parent = start('parent.js');
  expect(await parent.exit).toBe(0);
  // Before, fdpipe's invoke(name, ...args) made this `max(1, 2, 3): NaN`.
  expect(await parent.output).toBe('sleep 1000ms: undefined\nmax(1, 2, 3): 3\n');
});

test('"via custom channel" (PM2): the base channel subclasses as written, across two processes', async () => {
  const callee = start('pm2-callee.mjs');
  await new Promise<void>((resolve) => callee.child.once('message', () => resolve()));
  const invoker = start('pm2-invoker.mjs');
  // The test is PM2's bus: a packet one process hands to sendDataToProcessId reaches the other's process.on('message').
  const byId = [invoker.child, callee.child];
  for (const from of byId) {
    from.on('message', (message: { pm2Relay?: { id: number; type: string; topic: string; data: unknown } }) => {
      const relay = message.pm2Relay;
      if (!relay) return;
      const to = byId[relay.id];
      if (to.connected) to.send({ type: relay.type, topic: relay.topic, data: relay.data });
    });
  }
  expect(await invoker.exit).toBe(0);
  expect(await invoker.output).toBe('sleep 1000ms: undefined\nmax(1, 2, 3): 3\n');
});
