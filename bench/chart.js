'use strict';
// Redraws bench/results/latest.svg from bench/results/latest.json without running a suite (`node bench/chart.js`);
// `npm run bench` draws it after every saved run.

const path = require('path');
const { writeChart } = require('./lib/chart');

const chart = writeChart(path.join(__dirname, 'results', 'latest.json'));
console.log(`chart written to ${path.relative(process.cwd(), chart)}`);
