// The worker side of the demo: opens the pipe its parent put on fd 4 and answers each message.
const { IPCChannel } = require('fdpipe');

const channel = new IPCChannel();

channel.onMessage((read) => {
  const message = read();
  const kind = message.readString();
  if (kind === 'greet') {
    const name = message.readString();
    channel.getWriteBuffer().writeString('greeting').writeString(`hello, ${name}, from worker ${process.pid}`).commit();
  } else if (kind === 'sum') {
    const count = message.readLength();
    let total = 0;
    for (let i = 0; i < count; i++) total += message.readNumber();
    channel.getWriteBuffer().writeString('sum').writeNumber(total).commit();
  } else if (kind === 'echo') {
    const bytes = message.readBytes();
    channel.getWriteBuffer().writeString('echo').writeBytes(bytes).commit();
  }
});

// When the parent closes the channel or dies, there is nobody left to serve: leave instead of lingering.
channel.onClose((event) => {
  console.log(`[worker ${process.pid}] channel closed: ${event.reason}`);
  process.exit(0);
});
