export { ListenerError, MessageTooLargeError } from '../common/errors';

/** A send, or a write buffer's commit, on a pipe that has closed. */
export class PipeClosedError extends Error {
  override name = 'PipeClosedError';
  constructor(message = 'The pipe is closed: no more messages can be sent on it') {
    super(message);
  }
}
