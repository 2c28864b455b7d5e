import { ElectronUnavailableError } from './errors';
import type { IpcMain, IpcRenderer } from './types';

/** The parts of the 'electron' module fdpipe may take when none is passed in. */
interface ElectronModule {
  ipcMain?: IpcMain;
  ipcRenderer?: IpcRenderer;
}

// Electron is required only when asked for, and never by name at the top of a module: fdpipe does not depend on
// it, and outside Electron `require('electron')` fails or (with the npm package installed) gives the path of
// the binary.
function load(): ElectronModule {
  for (const attempt of [() => require('electron'), () => moduleRequire()?.('electron')]) {
    try {
      const loaded: unknown = attempt();
      if (typeof loaded === 'object' && loaded !== null) return loaded as ElectronModule;
    } catch {
      // not here: try the next way, or there is no Electron
    }
  }
  return {};
}

// fdpipe's ES-module build has no `require` in scope (the first attempt throws there). Electron answers 'electron'
// to any require function, so one made by `createRequire` serves instead; Node 20.16+ and 22.3+ hand out that API
// without an import, which keeps this synchronous and out of a bundler's sight.
function moduleRequire(): NodeJS.Require | undefined {
  const moduleApi = process.getBuiltinModule?.('module') as typeof import('module') | undefined;
  return moduleApi?.createRequire(`${process.cwd()}/`);
}

export function electronIpcMain(): IpcMain {
  const ipcMain = load().ipcMain;
  if (!ipcMain) {
    throw new ElectronUnavailableError(
      "require('electron').ipcMain is not available: this is not Electron's main process (or pass ipcMain in)",
    );
  }
  return ipcMain;
}

export function electronIpcRenderer(): IpcRenderer {
  const ipcRenderer = load().ipcRenderer;
  if (!ipcRenderer) {
    throw new ElectronUnavailableError(
      "require('electron').ipcRenderer is not available: this is not a renderer with Node integration. In a " +
        'sandboxed renderer, pass the ipcRenderer your preload script exposes',
    );
  }
  return ipcRenderer;
}
