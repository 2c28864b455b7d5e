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
  try {
    const loaded: unknown = require('electron');
    return typeof loaded === 'object' && loaded !== null ? (loaded as ElectronModule) : {};
  } catch {
    return {};
  }
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
