import type { ProjectKind } from './tarball';

// How a README snippet says what it is. Every ```ts and ```js block carries, after the language, words of its
// info string (GitHub shows only the language):
//
//   ```ts file=parent.ts esm run prints="3"
//
//   file=NAME    required: the file the block is, in the user's project. Blocks of one project import each other
//                by these names (a worker.ts is compiled to the worker.js its parent forks).
//   cjs | esm    the block belongs to that kind of project only ("type": "commonjs" or "module"); without either
//                it is compiled and run in both.
//   run          the block is a program: `node NAME.js` runs in the project folder and must exit 0, printing
//                nothing on stderr.
//   prints="…"   what that program prints on stdout (lines joined by \n), checked exactly.
//
// Other fences (```sh) are not code a user's project holds and are not run.

export interface Snippet {
  lang: 'ts' | 'js';
  file: string;
  kinds: ProjectKind[];
  run: boolean;
  prints?: string;
  code: string;
  /** The line of README.md the block starts on, for messages. */
  line: number;
}

const FENCE = /^```(\S*)([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm;
const WORD = /(\w+)(?:=("[^"]*"|\S+))?/g;

export function readmeSnippets(markdown: string): Snippet[] {
  const snippets: Snippet[] = [];
  for (const match of markdown.matchAll(FENCE)) {
    const [, lang, info, code] = match;
    const line = markdown.slice(0, match.index).split('\n').length;
    if (lang !== 'ts' && lang !== 'js') continue;
    const words = new Map<string, string | true>();
    for (const [, key, value] of info.matchAll(WORD)) {
      words.set(key, value === undefined ? true : value.replace(/^"(.*)"$/, '$1'));
    }
    const file = words.get('file');
    if (typeof file !== 'string') {
      throw new Error(`README.md line ${line}: a \`\`\`${lang} block needs file=NAME in its info string`);
    }
    const kinds: ProjectKind[] = words.has('cjs') || words.has('esm')
      ? (['cjs', 'esm'] as const).filter((kind) => words.has(kind))
      : ['cjs', 'esm'];
    const prints = words.get('prints');
    snippets.push({
      lang,
      file,
      kinds,
      run: words.has('run'),
      prints: typeof prints === 'string' ? prints.replace(/\\n/g, '\n') : undefined,
      code,
      line,
    });
  }
  return snippets;
}

/** The name node runs for a snippet: its compiled .js for TypeScript. */
export function outputFile(snippet: Snippet): string {
  return snippet.lang === 'ts' ? snippet.file.replace(/\.ts$/, '.js') : snippet.file;
}
