import { toDisposable, type Disposable } from '../../common/lifecycle';
import { EndpointInUseError } from './errors';

// Which channel names each Electron endpoint (an ipcMain, an ipcRenderer) has given to a live connection. Weak, so
// an endpoint that goes away takes its entry with it.
const claimed = new WeakMap<object, Set<string>>();

/** Reserves `name` on `endpoint` until the returned Disposable is released; throws if it is taken. */
export function claimEndpoint(endpoint: object, name: string, what: string): Disposable {
  let names = claimed.get(endpoint);
  if (!names) {
    names = new Set();
    claimed.set(endpoint, names);
  }
  if (names.has(name)) {
    throw new EndpointInUseError(
      `${what} already has a connection on '${name}': close it first, or use other channel names`,
    );
  }
  names.add(name);
  const mine = names;
  return toDisposable(() => mine.delete(name));
}
