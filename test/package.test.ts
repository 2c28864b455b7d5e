// The package as a user gets it: one `npm pack` of a fresh copy per run, installed offline into a CommonJS and an
// ES-module project; the README's snippets compiled and run there; bundles of it; its declarations under TS 4.9.
// How a README snippet declares its file and project kind is described in ./package/readme-snippets.ts.
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot, run, runTool, toolsNode } from './package/commands';
import { outputFile, readmeSnippets, type Snippet } from './package/readme-snippets';
import { installInProject, packFreshCopy, type PackedPackage, type ProjectKind } from './package/tarball';

const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string | { import: { types: string; default: string }; require: { types: string; default: string } }>;
};
const entries = Object.entries(pkg.exports).flatMap(([subpath, target]) =>
  typeof target === 'string' ? [] : [{ specifier: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, target }],
);

const SLOW = 180_000;
let packed: PackedPackage;
const projects = {} as Record<ProjectKind, string>;

beforeAll(async () => {
  packed = await packFreshCopy();
  const [cjs, esm] = await Promise.all([installInProject(packed, 'cjs'), installInProject(packed, 'esm')]);
  projects.cjs = cjs;
  projects.esm = esm;
}, SLOW);

afterAll(() => {
  if (packed) fs.rmSync(packed.workDir, { recursive: true, force: true });
});

function installed(kind: ProjectKind, ...parts: string[]): string {
  return path.join(projects[kind], 'node_modules', pkg.name, ...parts);
}

/** A tsconfig for a user's project: strict, emitting next to the sources. */
function writeTsconfig(dir: string, compilerOptions: Record<string, unknown>, files: string[], name = 'tsconfig.json'): string {
  const config = {
    compilerOptions: {
      strict: true,
      noEmitOnError: true,
      skipLibCheck: true,
      typeRoots: [path.join(repoRoot, 'node_modules', '@types')],
      types: ['node'],
      ...compilerOptions,
    },
    files,
  };
  fs.writeFileSync(path.join(dir, name), `${JSON.stringify(config, null, 2)}\n`);
  return name;
}

describe('the tarball', () => {
  test('holds dist/, LICENSE, README and CHANGELOG, and nothing else', () => {
    const unexpected = packed.files.filter(
      (file) =>
        !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/esm/package.json'].includes(file) &&
        !/^dist\/.+\.(js|d\.ts|js\.map)$/.test(file),
    );
    expect(unexpected).toEqual([]);
    expect(packed.files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json']));
    // prepack built it: every entry point, in both formats, with its declarations.
    for (const { target } of entries) {
      for (const file of [target.import.default, target.import.types, target.require.default, target.require.types]) {
        expect(packed.files).toContain(file.replace(/^\.\//, ''));
      }
    }
  });

  test('its source maps carry their sources, since src/ is not shipped', () => {
    const maps = packed.files.filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(100);
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(fs.readFileSync(installed('cjs', map), 'utf8')) as {
        sources: string[];
        sourcesContent?: Array<string | null>;
      };
      expect({ map, inlined: sourcesContent?.length === sources.length && sourcesContent.every((s) => typeof s === 'string') })
        .toEqual({ map, inlined: true });
    }
  });

  test('publint finds nothing to say', async () => {
    const { stdout } = await runTool('publint/src/cli.js', ['--pack', 'false', '--strict', installed('cjs')], repoRoot);
    expect(stdout).toContain('All good!');
  }, SLOW);

  test('are-the-types-wrong finds no problem, for every entry point and resolution mode', async () => {
    const { stdout } = await runTool('@arethetypeswrong/cli/dist/index.js', [packed.tarball, '--format', 'json'], repoRoot);
    const report = JSON.parse(stdout) as { analysis: { problems: unknown[]; entrypoints: Record<string, unknown> } };
    expect(report.analysis.problems).toEqual([]);
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(Object.keys(pkg.exports).sort());
  }, SLOW);
});

describe('every entry point', () => {
  test.each(['cjs', 'esm'] as const)('loads in a %s project, CommonJS and ES-module builds alike', async (kind) => {
    const dir = projects[kind];
    const program = kind === 'cjs'
      ? entries.map(({ specifier }) => `console.log(Object.keys(require('${specifier}')).length > 0);`).join('\n')
      : entries.map(({ specifier }) => `console.log(Object.keys(await import('${specifier}')).length > 0);`).join('\n');
    fs.writeFileSync(path.join(dir, 'load-all.js'), program);
    const { stdout, stderr } = await run(process.execPath, ['load-all.js'], { cwd: dir });
    expect(stdout.trim().split('\n')).toEqual(entries.map(() => 'true'));
    expect(stderr).toBe('');
  }, SLOW);

  test('has declarations that type-check under TypeScript 4.9', async () => {
    // An ES-module project with Node's own resolution reads every declaration file: the ES-module entry points
    // and, through them, the CommonJS ones. (The classic node10 resolution of the subpaths is attw's to check.)
    const dir = projects.esm;
    const lines = entries.map(({ specifier }, i) => `import * as entry${i} from '${specifier}';`);
    lines.push(`export const all = [${entries.map((_, i) => `entry${i}`).join(', ')}];`);
    fs.writeFileSync(path.join(dir, 'all-entries.ts'), `${lines.join('\n')}\n`);
    const options = { target: 'ES2020', module: 'node16', moduleResolution: 'node16', noEmit: true, skipLibCheck: false };
    const config = writeTsconfig(dir, options, ['all-entries.ts'], 'tsconfig.ts49.json');
    await runTool('typescript49/bin/tsc', ['-p', config], dir);
  }, SLOW);
});

describe("the README's snippets", () => {
  const snippets = readmeSnippets(fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8'));

  test('declare their files, and name each file once per project kind', () => {
    expect(snippets.length).toBeGreaterThan(0);
    for (const kind of ['cjs', 'esm'] as const) {
      const names = snippets.filter((s) => s.kinds.includes(kind)).map((s) => s.file);
      expect(names).toEqual([...new Set(names)]);
    }
    expect(snippets.some((s) => s.run && s.kinds.includes('cjs'))).toBe(true);
    expect(snippets.some((s) => s.run && s.kinds.includes('esm'))).toBe(true);
  });

  test.each(['cjs', 'esm'] as const)('compile under strict TypeScript and run as written in a %s project', async (kind) => {
    const dir = projects[kind];
    const mine = snippets.filter((s) => s.kinds.includes(kind));
    for (const snippet of mine) fs.writeFileSync(path.join(dir, snippet.file), snippet.code);
    const tsFiles = mine.filter((s) => s.lang === 'ts').map((s) => s.file);
    const config = writeTsconfig(dir, { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext' }, tsFiles);
    await runTool('typescript/bin/tsc', ['-p', config], dir);

    const programs = mine.filter((s) => s.run);
    const outcomes = await Promise.all(programs.map((snippet) => runSnippet(dir, snippet)));
    expect(outcomes).toEqual(programs.map((snippet) => ({
      program: `README.md line ${snippet.line}: ${snippet.file}`,
      stdout: snippet.prints ?? expect.any(String),
      stderr: '',
    })));
  }, SLOW);
});

async function runSnippet(dir: string, snippet: Snippet) {
  const { stdout, stderr } = await run(process.execPath, [outputFile(snippet)], { cwd: dir, timeoutMs: 60_000 });
  return { program: `README.md line ${snippet.line}: ${snippet.file}`, stdout: stdout.trimEnd(), stderr };
}

describe('bundled for Node', () => {
  // Only IPCChannel: a socket pair exchanges one message each way through it.
  const ipcChannelOnly = `
import { createServer, connect } from 'node:net';
import { IPCChannel } from 'fdpipe';

const server = createServer((socket) => {
  const channel = new IPCChannel(socket);
  channel.onMessage((read) => channel.getWriteBuffer().writeString(read().readString().toUpperCase()).commit());
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const client = new IPCChannel(connect(port, '127.0.0.1'));
  client.onMessage((read) => {
    console.log(read().readString());
    client.close();
    server.close();
  });
  client.getWriteBuffer().writeString('through the bundle').commit();
});
`;
  const everything = `
import * as fdpipe from 'fdpipe';
console.log(typeof fdpipe.IPCChannel, typeof fdpipe.RpcPeer, typeof fdpipe.Invoker);
`;
  let wholeLibraryBytes = 0;

  async function bundle(tool: string, entry: string, output: string): Promise<string> {
    const { stdout } = await run(toolsNode, [path.join(__dirname, 'package', 'bundle.mjs'), tool, projects.esm, entry, output], {
      cwd: projects.esm,
    });
    return stdout.trim();
  }

  beforeAll(async () => {
    fs.writeFileSync(path.join(projects.esm, 'ipc-channel-only.js'), ipcChannelOnly);
    fs.writeFileSync(path.join(projects.esm, 'everything.js'), everything);
  });

  test('the whole library loads from an esbuild ES-module bundle (no "Dynamic require")', async () => {
    const out = await bundle('esbuild', 'everything.js', 'bundles/esbuild-everything.mjs');
    const { stdout, stderr } = await run(process.execPath, [out], { cwd: projects.esm });
    expect({ stdout: stdout.trim(), stderr }).toEqual({ stdout: 'function function function', stderr: '' });
    wholeLibraryBytes = fs.statSync(out).size;
  }, SLOW);

  test.each([
    ['esbuild', 'bundles/esbuild-ipc.mjs'],
    ['webpack', 'bundles/webpack-ipc.cjs'],
    ['vite', 'bundles/vite-ipc.js'],
  ])('%s: importing only IPCChannel loads, works, and leaves most of the library out', async (tool, output) => {
    const out = await bundle(tool, 'ipc-channel-only.js', output);
    const { stdout, stderr } = await run(process.execPath, [out], { cwd: projects.esm });
    expect({ stdout: stdout.trim(), stderr }).toEqual({ stdout: 'THROUGH THE BUNDLE', stderr: '' });
    expect(wholeLibraryBytes).toBeGreaterThan(0);
    // Measured: about a quarter of the whole (21 KB of 88 KB minified); without tree-shaking it is all of it.
    expect(fs.statSync(out).size).toBeLessThan(wholeLibraryBytes * 0.4);
  }, SLOW);
});
