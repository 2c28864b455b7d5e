export {
  SessionChannel,
  type SessionHealth,
  type SessionHealthEvent,
  type SessionOptions,
  type SessionLink,
} from './SessionChannel';
export { ClientSession, connectSession, type Dialer, type ClientSessionOptions, type ReconnectOptions } from './ClientSession';
export { ServerSession, SessionAcceptor, type SessionAcceptorOptions } from './SessionAcceptor';
export { SessionLostError, SessionOverflowError, SessionProtocolError } from './errors';
