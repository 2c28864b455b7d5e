// Jest runs each test file in a vm context. On Node 18.18 to 22 such a context has no Symbol.dispose or
// Symbol.asyncDispose: Node defines them in its main realm only, as the registered symbols below. TypeScript's
// helpers for `using` read them from this realm's Symbol, so jest.config.js runs this before each test file,
// which gives the sandbox what a Node process has. (Node 24's are V8's own, present in every realm.)
const symbols = Symbol as { dispose?: symbol; asyncDispose?: symbol };
if (symbols.dispose === undefined) {
  Object.defineProperty(Symbol, 'dispose', { value: Symbol.for('nodejs.dispose'), configurable: true });
}
if (symbols.asyncDispose === undefined) {
  Object.defineProperty(Symbol, 'asyncDispose', { value: Symbol.for('nodejs.asyncDispose'), configurable: true });
}

export {};
