import { dirname, join, sep } from 'path';
import { fileURLToPath } from 'url';

/**
 * This module's own file. The CommonJS build has __filename; the ES-module build has import.meta, which a CommonJS
 * source cannot name, so there it is read from the top frame of a stack trace (V8 gives its file: URL).
 */
function ownFile(): string {
  if (typeof __filename === 'string') return __filename;
  const original = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_error, frames) => frames;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder);
    const name = holder.stack?.[0]?.getFileName() ?? '';
    return name.startsWith('file:') ? fileURLToPath(name) : name;
  } finally {
    Error.prepareStackTrace = original;
  }
}

/**
 * The program a worker runs. Always the CommonJS one (dist/pool/bootstrap.js), which loads the pool's module with
 * require() or import() as it needs: from the ES-module build (dist/esm/pool/) that is two folders up; from the
 * TypeScript sources (src/pool/, as under ts-jest) it is the compiled one in dist/, as a child cannot run
 * TypeScript without a loader.
 */
export function bootstrapPath(): string {
  const file = ownFile();
  const here = dirname(file);
  if (file.endsWith('.ts')) return join(here, '..', '..', 'dist', 'pool', 'bootstrap.js');
  if (here.endsWith(`${sep}esm${sep}pool`)) return join(here, '..', '..', 'pool', 'bootstrap.js');
  return join(here, 'bootstrap.js');
}
