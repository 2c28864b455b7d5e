'use strict';
// The pool suite's tasks for workerpool, whose worker script registers its functions.
const workerpool = require('workerpool');
const { burn } = require('./pool-burn');

workerpool.worker({
  add: (a, b) => a + b,
  echo: (bytes) => bytes,
  cpu: (rounds) => burn(rounds),
});
