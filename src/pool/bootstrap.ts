// The program every pool worker runs: it loads the pool's module and serves its exported functions over fd 4 with
// fdpipe's RPC core, so the module itself needs no fdpipe code. It exits when fd 4 closes: the pool closed it, or
// the parent died.
import { getHeapStatistics } from 'v8';
import { IPCChannel } from '../channel/IPCChannel';
import { AbortError, MethodNotFoundError } from '../rpc/errors';
import { RpcProtocol } from '../rpc/RpcProtocol';
import { WorkerModuleError } from './errors';
import { loadTaskModule, type TaskFunction } from './loadModule';
import { CANCELLABLE_TARGET, CONTROL_TARGET, POOL_TARGET, TASK_TARGET, type BootstrapConfig } from './wire';

const config = JSON.parse(process.argv[2] ?? '{}') as BootstrapConfig;
const channel = new IPCChannel();
channel.onClose(() => process.exit(0));
// Tasks sent before the module has loaded wait for it inside runTask, never for the service.
const protocol = new RpcProtocol(channel, { serviceWaitTimeout: 0x7fffffff });

let tasks: Map<string, TaskFunction> | undefined;
let loadError: WorkerModuleError | undefined;
const loading = loadTaskModule(config.module).then(
  (loaded) => {
    tasks = loaded;
    protocol.notify(POOL_TARGET, 'ready', [[...loaded.keys()]]);
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    loadError = new WorkerModuleError(`The worker could not load the pool's module ${config.module}: ${message}`);
    if (error instanceof Error && error.stack) {
      loadError.stack = `${loadError.name}: ${loadError.message}\n${error.stack}`;
    }
    protocol.notify(POOL_TARGET, 'loadFailed', [loadError.message]);
  },
);

function runTask(name: string, args: unknown[]): unknown {
  if (tasks === undefined) {
    if (loadError) throw loadError;
    return loading.then(() => runTask(name, args));
  }
  const task = tasks.get(name);
  if (!task) {
    throw new MethodNotFoundError(
      `The pool's module ${config.module} exports no function '${name}' (it exports: ${[...tasks.keys()].join(', ')})`,
    );
  }
  return task.fn.apply(task.self, args);
}

// After each task, whether the worker has grown past maxMemory: the pool then sends it no more tasks and replaces
// it once the ones it holds are done. The notification goes out before the task's reply, so the pool knows before it
// would hand this worker another task.
let overMemory = false;
function checkMemory(): void {
  if (overMemory) return;
  const used = getHeapStatistics().used_heap_size;
  if (used <= config.maxMemory) return;
  overMemory = true;
  protocol.notify(POOL_TARGET, 'overMemory', [used]);
}

function afterTask(result: unknown): unknown {
  if (!(result instanceof Promise)) {
    checkMemory();
    return result;
  }
  return result.then(
    (value) => {
      checkMemory();
      return value;
    },
    (error) => {
      checkMemory();
      throw error;
    },
  );
}

function runChecked(name: string, args: unknown[]): unknown {
  let result: unknown;
  try {
    result = runTask(name, args);
  } catch (error) {
    checkMemory();
    throw error;
  }
  return afterTask(result);
}

const run = config.maxMemory > 0 ? runChecked : runTask;

protocol.registerTarget(TASK_TARGET, { call: run });

// A cancellable task's function gets an AbortSignal after its arguments; the pool's cancel, by task id, fires it.
const running = new Map<number, AbortController>();
protocol.registerTarget(CANCELLABLE_TARGET, {
  call(name, args) {
    const id = args[0] as number;
    const controller = new AbortController();
    const taskArgs = args.slice(1);
    taskArgs.push(controller.signal);
    running.set(id, controller);
    let result: unknown;
    try {
      result = run(name, taskArgs);
    } catch (error) {
      running.delete(id);
      throw error;
    }
    if (!(result instanceof Promise)) {
      running.delete(id);
      return result;
    }
    return result.finally(() => running.delete(id));
  },
});

protocol.registerTarget(CONTROL_TARGET, {
  call(method, args) {
    if (method === 'ping') return 1;
    if (method === 'cancel') {
      const id = args[0] as number;
      running.get(id)?.abort(new AbortError(`task #${id}`, 'cancelled by the pool'));
      return undefined;
    }
    throw new MethodNotFoundError(`The pool worker has no control '${method}'`);
  },
});
