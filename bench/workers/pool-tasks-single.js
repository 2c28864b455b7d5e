'use strict';
// The pool suite's tasks for tinypool and piscina, which hand a task function one value.
const { burn } = require('./pool-burn');

exports.add = ({ a, b }) => a + b;
exports.echo = (bytes) => bytes;
exports.cpu = (rounds) => burn(rounds);
