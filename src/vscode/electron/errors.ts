/** Electron (or the part of it asked for) is not there: not an Electron process, or not the right kind of one. */
export class ElectronUnavailableError extends Error {
  override name = 'ElectronUnavailableError';
}

/**
 * A message reached the main process from a renderer that has not said hello (or has said goodbye, or was
 * refused by acceptSender). It is dropped: nothing from that renderer reaches any connection.
 */
export class UnknownSenderError extends Error {
  override name = 'UnknownSenderError';
  constructor(
    readonly channelName: string,
    /** The sender's webContents.id, when it has one. */
    readonly senderId: number | undefined,
  ) {
    super(
      senderId === undefined
        ? `Dropped a message on '${channelName}' that has no WebContents sender`
        : `Dropped a message on '${channelName}' from WebContents ${senderId}, which has no connection: ` +
            'it never said hello, said goodbye, or was refused',
    );
  }
}

/** Something other than fdpipe's bytes arrived where only they may: the other side does not speak fdpipe. */
export class UnexpectedMessageError extends Error {
  override name = 'UnexpectedMessageError';
}

/**
 * Two connections tried to share one Electron endpoint under the same channel names: each would see the other's
 * messages. Close the first one, or give the second other names.
 */
export class EndpointInUseError extends Error {
  override name = 'EndpointInUseError';
}
