/**
 * Gives a class `[Symbol.dispose]` calling its dispose(), where the runtime has the symbol: a method declared in
 * the class body would, on a Node without it, land under the key "undefined".
 */
export function addDisposeSymbol(prototype: { dispose(): void }): void {
  const symbol = (Symbol as { dispose?: symbol }).dispose;
  if (typeof symbol !== 'symbol') return;
  Object.defineProperty(prototype, symbol, {
    value: function (this: { dispose(): void }) {
      this.dispose();
    },
    writable: true,
    configurable: true,
  });
}
