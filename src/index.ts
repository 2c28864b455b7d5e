export * from './common';
export * from './buffer';
export * from './pipe';
export * from './channel';
export * from './rpc';
export * from './event-invoke';
export * from './pool';
