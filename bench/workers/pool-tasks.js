'use strict';
// The pool suite's tasks with positional arguments: fdpipe's WorkerPool and jest-worker load this module as it is.
const { burn } = require('./pool-burn');

exports.add = (a, b) => a + b;
exports.echo = (bytes) => bytes;
exports.cpu = (rounds) => burn(rounds);
