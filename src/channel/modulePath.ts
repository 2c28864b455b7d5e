import { fileURLToPath } from 'url';

/**
 * Where a worker's code is, wherever a module is forked (forkWithChannel, IPCServer.fork, the vscode face's
 * ipc.cp Client):
 * - a `URL` with the `file:` scheme, or a string that starts with `file:` (what `import.meta.resolve()` returns):
 *   the file it names. `new URL('./worker.js', import.meta.url)` is the worker beside the calling ES module.
 * - any other string: a path, as child_process.fork takes it. A relative one is resolved against the child's
 *   working directory — `options.cwd` if given, else this process's — not against the calling file; in CommonJS,
 *   `path.join(__dirname, 'worker.js')` names the worker beside the calling module.
 */
export type ModulePath = string | URL;

/** The path to hand to child_process.fork. Throws TypeError for a URL that names no file. */
export function modulePathOf(modulePath: ModulePath): string {
  const isUrl = typeof modulePath !== 'string';
  if (!isUrl && !modulePath.startsWith('file:')) return modulePath;
  let url: URL;
  try {
    url = isUrl ? modulePath : new URL(modulePath);
  } catch {
    throw new TypeError(`The worker's module path '${modulePath}' starts with 'file:' but is no valid file URL`);
  }
  if (url.protocol !== 'file:') {
    throw new TypeError(
      `A worker's module must be a file: got a ${url.protocol} URL (${url.href}); pass a file: URL or a path`,
    );
  }
  return fileURLToPath(url);
}
