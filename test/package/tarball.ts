import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repoRoot, run, runNpm } from './commands';

export interface PackedPackage {
  /** The temporary folder that holds everything below; remove it when done. */
  workDir: string;
  /** The tarball `npm pack` made. */
  tarball: string;
  /** The paths inside it, without the leading `package/`. */
  files: string[];
}

/**
 * Packs the package as a fresh clone would: the repository's files (tracked, or new and not ignored — no dist/)
 * copied into a temporary folder, with the repository's node_modules linked in, then `npm pack`, which runs
 * `prepack`. Packing a copy leaves this checkout's dist/ alone while other test files run.
 */
export async function packFreshCopy(): Promise<PackedPackage> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fdpipe-pack-'));
  const clone = path.join(workDir, 'clone');
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot });
  for (const file of stdout.split('\0').filter(Boolean)) {
    const from = path.join(repoRoot, file);
    if (!fs.existsSync(from) || !fs.statSync(from).isFile()) continue; // deleted but still tracked, or a link
    const to = path.join(clone, file);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
  }
  fs.symlinkSync(fs.realpathSync(path.join(repoRoot, 'node_modules')), path.join(clone, 'node_modules'), 'dir');
  const packed = await runNpm(['pack', '--json', '--pack-destination', workDir], clone);
  const [report] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  return { workDir, tarball: path.join(workDir, report.filename), files: report.files.map((f) => f.path).sort() };
}

export type ProjectKind = 'cjs' | 'esm';

/** A new project of that kind (`"type": "commonjs"` or `"module"`) with the tarball installed, offline. */
export async function installInProject(packed: PackedPackage, kind: ProjectKind): Promise<string> {
  const dir = path.join(packed.workDir, `project-${kind}`);
  fs.mkdirSync(dir);
  const manifest = { name: `fdpipe-user-${kind}`, version: '1.0.0', private: true, type: kind === 'esm' ? 'module' : 'commonjs' };
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await runNpm(['install', packed.tarball, '--offline', '--no-audit', '--no-fund', '--no-package-lock'], dir);
  return dir;
}
