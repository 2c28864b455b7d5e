'use strict';
// The child end of the streams suite: serves `source` over fdpipe's fd 4 and watches its own memory, so the parent
// can read streams from it and ask how much the child's RSS grew while it produced them.

const { IPCChannel, RpcPeer } = require('fdpipe');
const { onParentGone } = require('../lib/child');

onParentGone();
process.on('SIGTERM', () => process.exit(0));

const rpc = new RpcPeer(new IPCChannel());
const KiB = 1024;
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 5);
sampler.unref();

rpc.expose('source', {
  /** `total` bytes in chunks of `size`: one chunk, yielded again and again (the producer holds nothing else). */
  async *bytes(total, size = 64 * KiB) {
    const chunk = Buffer.alloc(size, 0x5a);
    for (let sent = 0; sent < total; sent += size) yield chunk;
  },
  /** `count` small items: numbers. */
  async *items(count) {
    for (let i = 0; i < count; i++) yield i;
  },
  /** Forgets the peak so far and returns the RSS now: the start of a measurement. */
  startMemory() {
    peakRss = process.memoryUsage.rss();
    return peakRss;
  },
  peakMemory() {
    return Math.max(peakRss, process.memoryUsage.rss());
  },
});
