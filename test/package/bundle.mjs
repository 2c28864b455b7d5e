// Bundles one entry file the way a user's build would, for Node, minified:
//   node bundle.mjs <esbuild|webpack|vite> <project folder> <entry> <output file>
// The entry's imports resolve in the project folder, where the packed fdpipe is installed. Prints the output's path.
import { createRequire } from 'node:module';
import * as path from 'node:path';

const [tool, projectDir, entry, output] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const entryPath = path.resolve(projectDir, entry);
const outputPath = path.resolve(projectDir, output);

async function withEsbuild() {
  const esbuild = require('esbuild');
  await esbuild.build({
    absWorkingDir: projectDir,
    entryPoints: [entryPath],
    outfile: outputPath,
    bundle: true,
    format: 'esm',
    platform: 'node',
    minify: true,
    logLevel: 'error',
  });
}

async function withWebpack() {
  const webpack = require('webpack');
  await new Promise((resolve, reject) => {
    webpack(
      {
        context: projectDir,
        mode: 'production',
        target: 'node',
        entry: entryPath,
        output: { path: path.dirname(outputPath), filename: path.basename(outputPath) },
        infrastructureLogging: { level: 'error' },
      },
      (error, stats) => {
        if (error) reject(error);
        else if (stats.hasErrors() || stats.hasWarnings()) reject(new Error(stats.toString('errors-warnings')));
        else resolve();
      },
    );
  });
}

async function withVite() {
  const { build } = await import('vite');
  const outDir = path.dirname(outputPath);
  await build({
    root: projectDir,
    configFile: false,
    logLevel: 'error',
    ssr: { noExternal: true },
    build: {
      ssr: entryPath,
      outDir,
      emptyOutDir: false,
      minify: true,
      rollupOptions: { output: { entryFileNames: path.basename(outputPath) } },
    },
  });
}

const tools = { esbuild: withEsbuild, webpack: withWebpack, vite: withVite };
if (!tools[tool]) throw new Error(`unknown bundler ${tool}`);
await tools[tool]();
console.log(outputPath);
