import { debuglog } from 'util';

/**
 * fdpipe's trace, on when NODE_DEBUG names `fdpipe` (NODE_DEBUG=fdpipe node app.js): connections opening and
 * closing, handshakes, frame sizes and calls, on stderr. Callers check `debugEnabled` before building a line, so
 * with tracing off a hot path pays one boolean test.
 */
export const debug = debuglog('fdpipe');

/** Read once, at load: NODE_DEBUG is Node's to read at startup too. */
export const debugEnabled: boolean = debug.enabled;
