'use strict';
// The CPU-bound task of the pool suite: integer hashing, `rounds` × 10 000 steps, the result depending on all of them.
function burn(rounds) {
  let h = 0x811c9dc5;
  for (let i = 0; i < rounds * 10_000; i++) h = Math.imul(h ^ (i & 0xff), 0x01000193) >>> 0;
  return h;
}

module.exports = { burn };
