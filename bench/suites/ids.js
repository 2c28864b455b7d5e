'use strict';
// The ids suite: does a long run of calls stay as fast as its start? A known RPC library derives each request id
// from every id it has ever used and never prunes them, so it slows from 27k calls/s to under 500 after 50k calls.
// fdpipe's ids come from a counter that skips ids still pending, and a settled call leaves the pending map at once.
//
// Ten million calls (256 in flight) between two RpcProtocols over an in-memory channel pair: the transport adds
// nothing that could change over the run, so a trend would be the protocol's own. The rate of the first and the
// last million calls are compared, per round; the ratio's target is ≥ 0.8 (flat, allowing for noise).

const { InMemoryChannel, RpcProtocol } = require('fdpipe');
const { median } = require('../lib/stats');
const { nowNs } = require('../lib/timing');

const BLOCK = 1_000_000;
const WINDOW = 256;

/** Runs `blocks` blocks of calls, 256 in flight, and resolves with each block's calls per second. */
function runBlocks(caller, blocks) {
  return new Promise((resolve, reject) => {
    const rates = [];
    let issued = 0;
    let settled = 0;
    let blockStart = nowNs();
    const total = blocks * BLOCK;
    const onSettled = () => {
      settled++;
      if (settled % BLOCK === 0) {
        const now = nowNs();
        rates.push(BLOCK / (Number(now - blockStart) / 1e9));
        blockStart = now;
      }
      if (settled === total) resolve(rates);
      else if (issued < total) issue();
    };
    const issue = () => {
      issued++;
      caller.sendRequest('add', [issued, 1]).then(onSettled, reject);
    };
    for (let i = 0; i < WINDOW; i++) issue();
  });
}

module.exports = {
  name: 'ids',
  description: '10 million calls, 256 in flight: the rate of the last million against the first',
  async run(opts) {
    const { rounds, log } = opts;
    // Ten blocks of a million per round at full settings; --quick shortens the run to three.
    const blocks = opts.budgetMs < 300 ? 3 : 10;
    const firsts = [];
    const lasts = [];
    const ratios = [];
    const maxPending = [];
    for (let round = 0; round < Math.min(rounds, 3); round++) {
      const [a, b] = InMemoryChannel.createPair();
      const caller = new RpcProtocol(a);
      const callee = new RpcProtocol(b);
      callee.setRequestHandler((_method, args) => args[0] + args[1]);
      let peak = 0;
      const probe = setInterval(() => (peak = Math.max(peak, caller.pendingCount)), 5);
      try {
        const rates = await runBlocks(caller, blocks);
        firsts.push(rates[0]);
        lasts.push(rates[rates.length - 1]);
        ratios.push(rates[rates.length - 1] / rates[0]);
        maxPending.push(peak);
        log(`  round ${round + 1}: ${rates.map((r) => Math.round(r / 1000) + 'k').join(' ')} calls/s per million`);
      } finally {
        clearInterval(probe);
        a.close();
      }
      if (caller.pendingCount !== 0) throw new Error(`${caller.pendingCount} calls left pending after the run`);
    }
    const calls = blocks * BLOCK;
    return {
      config: { calls, window: WINDOW, block: BLOCK, transport: 'InMemoryChannel pair' },
      rows: [
        {
          scenario: `${calls / 1e6}M calls, first vs last million`,
          impl: 'first million',
          value: median(firsts),
          unit: 'calls/s',
          higherIsBetter: true,
          baselineImpl: 'first million',
          samples: firsts,
        },
        {
          scenario: `${calls / 1e6}M calls, first vs last million`,
          impl: 'last million',
          value: median(lasts),
          unit: 'calls/s',
          higherIsBetter: true,
          baselineImpl: 'first million',
          samples: lasts,
          targets: [{ vs: 'first million', atLeast: 0.8 }],
        },
        {
          scenario: 'pending map at its largest',
          impl: 'fdpipe',
          value: Math.max(...maxPending),
          unit: 'calls',
          higherIsBetter: false,
          baselineImpl: 'fdpipe',
          samples: maxPending,
        },
      ],
    };
  },
};
