'use strict';
// `npm run test:node-matrix [-- 18 22 …]`: builds once, then runs the whole jest suite under each Node version
// fdpipe supports, each fetched through npm's `node` package (`npx -y node@22`). Not part of `npm test`: it fetches
// Node binaries and takes one suite's time per version.
//
// The suite's own tools (npm, tsc, the bundlers, publint, attw) keep running on this Node — FDPIPE_TOOLS_NODE —
// since they have engines of their own (Vite 8 needs Node 20.19); what they produce, and all of fdpipe, runs on
// the version under test.

const { spawnSync } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..');
const versions = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['18', '20', '22', '24'];
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

function run(command, args, env = process.env) {
  return spawnSync(command, args, { cwd: root, stdio: 'inherit', env }).status;
}

if (run('npm', ['run', 'build']) !== 0) process.exit(1);

const results = [];
for (const version of versions) {
  console.log(`\n=== Node ${version} ===`);
  const env = { ...process.env, FDPIPE_TOOLS_NODE: process.execPath };
  const status = run(npx, ['-y', `node@${version}`, path.join('node_modules', 'jest', 'bin', 'jest.js')], env);
  results.push({ version, passed: status === 0 });
}

console.log('\nNode matrix:');
for (const { version, passed } of results) console.log(`  node ${version}: ${passed ? 'passed' : 'FAILED'}`);
process.exitCode = results.every((r) => r.passed) ? 0 : 1;
