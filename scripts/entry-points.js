'use strict';
// The package's entry points, read from package.json's "exports" (its one list): each subpath with the module it
// names, relative to dist/ and without extension ('.' → 'index', './vscode/ipc.net' → 'vscode/ipc.net').

const pkg = require('../package.json');

const entryPoints = Object.entries(pkg.exports)
  .filter(([subpath]) => subpath !== './package.json')
  .map(([subpath, target]) => {
    const file = target.require.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '');
    return { subpath, file, specifier: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}` };
  });

module.exports = { entryPoints };
