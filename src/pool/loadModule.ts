import { fileURLToPath, pathToFileURL } from 'url';

/** A task function and the object it is called on (its module's exports, so `this.other()` works). */
export interface TaskFunction {
  fn: (...args: unknown[]) => unknown;
  self: unknown;
}

// A real import(): TypeScript compiles import() in a CommonJS module to require(), which cannot load ESM.
const importModule = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<Record<string, unknown>>;

/**
 * Loads the pool's module as Node would: require() first, so CommonJS and whatever a --require hook compiles
 * (TypeScript through ts-node, say) load as they do elsewhere; import() for .mjs, for a .js in a "type": "module"
 * package, and for anything require() refuses as ESM.
 */
export async function loadTaskModule(specifier: string): Promise<Map<string, TaskFunction>> {
  const path = specifier.startsWith('file:') ? fileURLToPath(specifier) : specifier;
  let exported: unknown;
  if (path.endsWith('.mjs') || path.endsWith('.mts')) {
    exported = await importModule(pathToFileURL(path).href);
  } else {
    try {
      exported = require(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_ESM') throw error;
      exported = await importModule(pathToFileURL(path).href);
    }
  }
  return collectTasks(exported, path);
}

/**
 * The module's exported functions by name. A default export that is an object contributes its functions too (an
 * ESM `export default { add }`); a default export that is a function is the task 'default' (`module.exports =
 * function`), and named exports win over the default's members.
 */
function collectTasks(exported: unknown, path: string): Map<string, TaskFunction> {
  const tasks = new Map<string, TaskFunction>();
  const addFrom = (holder: unknown) => {
    if (holder === null || (typeof holder !== 'object' && typeof holder !== 'function')) return;
    for (const name of Object.keys(holder)) {
      const value = (holder as Record<string, unknown>)[name];
      if (typeof value === 'function' && name !== 'default' && !tasks.has(name)) {
        tasks.set(name, { fn: value as TaskFunction['fn'], self: holder });
      }
    }
  };
  if (typeof exported === 'function') tasks.set('default', { fn: exported as TaskFunction['fn'], self: undefined });
  addFrom(exported);
  const fallback = (exported as { default?: unknown } | null)?.default;
  if (typeof fallback === 'function' && !tasks.has('default')) {
    tasks.set('default', { fn: fallback as TaskFunction['fn'], self: undefined });
  }
  addFrom(fallback);
  if (tasks.size === 0) {
    throw new TypeError(
      `The pool's module ${path} exports no functions: export each task as a function (module.exports = { add }, ` +
        'or export function add)',
    );
  }
  return tasks;
}
