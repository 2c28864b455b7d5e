import { CancellationToken, CancellationTokenSource, Disposable, DisposableCollection } from '../../src/theia';
import { settle } from '../helpers/wait';

describe('Theia face: Disposable and DisposableCollection', () => {
  it('Disposable.create wraps a function; Disposable.is recognises the shape; NULL is a new one each time', () => {
    const release = jest.fn();
    const disposable = Disposable.create(release);
    disposable.dispose();
    expect(release).toHaveBeenCalledTimes(1);
    expect(Disposable.is(disposable)).toBe(true);
    expect(Disposable.is({ dispose: 1 })).toBe(false);
    expect(Disposable.NULL).not.toBe(Disposable.NULL);
  });

  it('disposes what it holds once, the last pushed first, and fires onDispose once', () => {
    const order: string[] = [];
    const collection = new DisposableCollection(Disposable.create(() => order.push('given')));
    collection.pushAll([Disposable.create(() => order.push('a')), Disposable.create(() => order.push('b'))]);
    const disposed = jest.fn();
    collection.onDispose(disposed);
    expect(collection.disposed).toBe(false);
    collection.dispose();
    collection.dispose();
    expect(order).toEqual(['b', 'a', 'given']);
    expect(collection.disposed).toBe(true);
    expect(disposed).toHaveBeenCalledTimes(1);
  });

  it('push() returns a way to take the item out again, undisposed', () => {
    const release = jest.fn();
    const collection = new DisposableCollection();
    collection.push(Disposable.create(release)).dispose();
    collection.dispose();
    expect(release).not.toHaveBeenCalled();
  });

  it('disposes at once what is pushed after it was disposed', () => {
    const collection = new DisposableCollection();
    collection.dispose();
    const late = jest.fn();
    collection.push(Disposable.create(late));
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('releases the others when one fails, and reports the failure as a warning', () => {
    const warnings = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const after = jest.fn();
      const collection = new DisposableCollection(Disposable.create(after));
      collection.push(
        Disposable.create(() => {
          throw new Error('release failed');
        }),
      );
      collection.dispose();
      expect(after).toHaveBeenCalled();
      expect(String(warnings.mock.calls[0][0])).toContain('release failed');
    } finally {
      warnings.mockRestore();
    }
  });
});

describe('Theia face: cancellation tokens', () => {
  it('recognises tokens by their shape', () => {
    expect(CancellationToken.is(CancellationToken.None)).toBe(true);
    expect(CancellationToken.is(CancellationToken.Cancelled)).toBe(true);
    expect(CancellationToken.is(new CancellationTokenSource().token)).toBe(true);
    expect(CancellationToken.is({ isCancellationRequested: false })).toBe(false);
    expect(CancellationToken.is('token')).toBe(false);
  });

  it('cancel() tells the listeners once; a listener that comes later still hears it, later', async () => {
    const source = new CancellationTokenSource();
    const early = jest.fn();
    source.token.onCancellationRequested(early);
    source.cancel();
    source.cancel();
    expect(early).toHaveBeenCalledTimes(1);
    expect(source.token.isCancellationRequested).toBe(true);
    const late = jest.fn();
    source.token.onCancellationRequested(late);
    expect(late).not.toHaveBeenCalled();
    await settle();
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('a listener disposed before it was told is not told', async () => {
    const source = new CancellationTokenSource();
    source.token.onCancellationRequested(() => {
      throw new Error('never');
    }).dispose();
    source.cancel();
    const late = jest.fn();
    CancellationToken.Cancelled.onCancellationRequested(late).dispose();
    await settle();
    expect(late).not.toHaveBeenCalled();
  });

  it('a token listener that throws becomes a process warning; the other listeners still hear the cancel', async () => {
    const warnings = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const source = new CancellationTokenSource();
      source.token.onCancellationRequested(() => {
        throw new Error('listener failed');
      });
      const other = jest.fn();
      source.token.onCancellationRequested(other);
      source.cancel();
      CancellationToken.Cancelled.onCancellationRequested(() => {
        throw new Error('late listener failed');
      });
      await settle();
      expect(other).toHaveBeenCalled();
      expect(warnings.mock.calls.map(([warning]) => String(warning))).toEqual([
        expect.stringContaining('listener failed'),
        expect.stringContaining('late listener failed'),
      ]);
    } finally {
      warnings.mockRestore();
    }
  });

  it("a source made from a parent is cancelled with it; dispose() cancels, as Theia's does", () => {
    const parent = new CancellationTokenSource();
    const child = new CancellationTokenSource(parent.token);
    parent.cancel();
    expect(child.token.isCancellationRequested).toBe(true);
    const disposed = new CancellationTokenSource();
    disposed.dispose();
    expect(disposed.token.isCancellationRequested).toBe(true);
  });
});

describe('Theia face: DisposableCollection prunes what is disposed on its own, as Theia\'s does', () => {
  it('lets go of an item disposed by its holder, and does not dispose it a second time', () => {
    const release = jest.fn();
    const collection = new DisposableCollection();
    const item = Disposable.create(release);
    collection.push(item);
    item.dispose();
    collection.dispose();
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('keeps a frozen item, which it cannot watch, and disposes it with the rest', () => {
    const release = jest.fn();
    const collection = new DisposableCollection(Object.freeze(Disposable.create(release)));
    collection.dispose();
    expect(release).toHaveBeenCalledTimes(1);
  });
});
