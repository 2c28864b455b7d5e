import { execFile } from 'child_process';
import * as path from 'path';

/** The repository this test runs in. */
export const repoRoot = path.join(__dirname, '..', '..');

/**
 * The Node that runs the tools (npm, tsc, bundlers, publint, attw). It is the Node under test unless
 * `npm run test:node-matrix` says otherwise: the tools have their own engines (Vite 8 needs Node 20.19), while what
 * they produce must run on every Node fdpipe supports, so the matrix keeps the tools on the default Node.
 */
export const toolsNode = process.env.FDPIPE_TOOLS_NODE || process.execPath;

/** A tool's bin in the repository's node_modules (`typescript/bin/tsc`), run with `toolsNode`. */
export function toolBin(relative: string): string {
  return path.join(repoRoot, 'node_modules', relative);
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; rejects with its output when it fails, so a test failure shows why. */
export function run(
  file: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 120_000,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${path.basename(file)} ${args.join(' ')} failed in ${options.cwd}: ${error.message}\n` +
            `stdout:\n${stdout}\nstderr:\n${stderr}`));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

/** Runs a JavaScript tool from node_modules with the tools' Node. */
export function runTool(relativeBin: string, args: string[], cwd: string): Promise<CommandResult> {
  return run(toolsNode, [toolBin(relativeBin), ...args], { cwd });
}

/**
 * npm, with the environment of a user's shell rather than of the `npm test` that started jest: npm hands its own
 * configuration to scripts as npm_config_* variables, which would otherwise steer the inner npm.
 */
export function runNpm(args: string[], cwd: string): Promise<CommandResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key)) env[key] = value;
  }
  // The npm next to the tools' Node, so the matrix's Node versions do not each need their own.
  env.PATH = `${path.dirname(toolsNode)}${path.delimiter}${env.PATH ?? ''}`;
  return run(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, env });
}
