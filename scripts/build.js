'use strict';
// Builds the package into dist/ from nothing (`npm run build`, and `prepack` before `npm pack` / `npm publish`):
//
//   dist/**/*.js, *.d.ts   CommonJS and declarations, by tsc (tsconfig.build.json): what `require('fdpipe')` loads.
//   dist/esm/**/*.js       ES modules, by esbuild: one module per source file, relative imports given their `.js`,
//                          so Node loads them as they are and a bundler drops every module an import does not reach
//                          (with `sideEffects: false`). One bundle per entry point would not shake as well, and
//                          tsc's own ESM output keeps the source's extensionless specifiers, which Node refuses.
//   dist/esm/*.d.ts        for each entry point, declarations in ES-module form that re-export the CommonJS ones:
//                          one set of types for both formats.
//
// Source maps carry their sources inline, since src/ is not in the package.

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');
const { entryPoints } = require('./entry-points');

const root = path.join(__dirname, '..');
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');
const esm = path.join(dist, 'esm');

function sourceFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** The specifier an ES module needs for a relative import of the source: the file or the folder's index, as .js. */
function esmSpecifier(importer, specifier) {
  const base = path.resolve(path.dirname(importer), specifier);
  if (fs.existsSync(`${base}.ts`)) return `${specifier}.js`;
  if (fs.existsSync(path.join(base, 'index.ts'))) return `${specifier.replace(/\/$/, '')}/index.js`;
  throw new Error(`${path.relative(root, importer)}: cannot resolve ${specifier}`);
}

// Every relative import stays an import of the sibling module; nothing is inlined into another module.
const keepModules = {
  name: 'keep-modules',
  setup(build) {
    build.onResolve({ filter: /^\.\.?(\/|$)/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      return { path: esmSpecifier(args.importer, args.path), external: true };
    });
  },
};

function declarationShim(entry) {
  // dist/esm/<entry>.d.ts re-exports dist/<entry>.d.ts; the path is relative to the shim.
  const from = path.posix.relative(path.posix.dirname(`esm/${entry}`), entry);
  return `export * from '${from.startsWith('.') ? from : `./${from}`}.js';\n`;
}

async function main() {
  fs.rmSync(dist, { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  await esbuild.build({
    entryPoints: sourceFiles(src),
    outbase: src,
    outdir: esm,
    bundle: true,
    packages: 'external',
    plugins: [keepModules],
    format: 'esm',
    platform: 'node',
    target: 'node18',
    sourcemap: true,
    sourcesContent: true,
    logLevel: 'warning',
  });
  fs.writeFileSync(path.join(esm, 'package.json'), `${JSON.stringify({ type: 'module', sideEffects: false }, null, 2)}\n`);
  for (const entry of entryPoints.map((e) => e.file)) {
    fs.writeFileSync(path.join(esm, `${entry}.d.ts`), declarationShim(entry));
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
