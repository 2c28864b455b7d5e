// The documents a newcomer reads: links that lead somewhere, no path outside the repository, and a benchmark
// chart that is the drawing of the committed results.
import * as fs from 'fs';
import * as path from 'path';

const { renderChart, relativeSpeed } = require('../bench/lib/chart') as {
  renderChart(document: unknown): string;
  relativeSpeed(row: { ratio: number; higherIsBetter: boolean }): number;
};

const root = path.join(__dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
const documents = ['README.md', 'PROTOCOL.md', 'CHANGELOG.md', 'bench/README.md',
  ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const outsideFences = markdown.replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...outsideFences.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1])));
}

test.each(documents)('%s: every relative link names a file and heading that exist', (document) => {
  const markdown = read(document);
  const broken: string[] = [];
  for (const [, target] of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
    const [file, hash] = target.split('#');
    const resolved = file ? path.posix.join(path.posix.dirname(document), file) : document;
    if (!fs.existsSync(path.join(root, resolved))) {
      broken.push(target);
    } else if (hash && resolved.endsWith('.md') && !anchorsOf(read(resolved)).has(hash)) {
      broken.push(target);
    }
  }
  expect(broken).toEqual([]);
});

test.each(documents)('%s names no path outside the repository', (document) => {
  const outside = read(document).match(/(?:^|[\s`'"(])(\/(?:work|tmp|home|root|Users|usr|opt|var)\/\S*|[A-Z]:\\\S*|~\/\S*)/gm);
  expect(outside).toBeNull();
});

describe('the benchmark chart', () => {
  const results = JSON.parse(read('bench/results/latest.json')) as {
    suites: Record<string, { rows: Array<{ impl: string; baselineImpl: string; ratio: number; higherIsBetter: boolean }> }>;
  };

  test('bench/results/latest.svg is the drawing of bench/results/latest.json (if not: node bench/chart.js)', () => {
    expect(read('bench/results/latest.svg')).toBe(renderChart(results));
  });

  test('draws one bar per fdpipe result, right of the 1× line when faster than the baseline, left when slower', () => {
    const document = {
      date: '2026-01-01T00:00:00.000Z',
      environment: { node: 'v20.0.0', cpus: 2 },
      suites: {
        demo: {
          rows: [
            { scenario: 'time <ms>', impl: 'raw', value: 10, unit: 'µs', higherIsBetter: false, baselineImpl: 'raw', ratio: 1 },
            { scenario: 'time <ms>', impl: 'fdpipe', value: 20, unit: 'µs', higherIsBetter: false, baselineImpl: 'raw', ratio: 2 },
            { scenario: 'rate', impl: 'raw', value: 100, unit: 'MiB/s', higherIsBetter: true, baselineImpl: 'raw', ratio: 1 },
            { scenario: 'rate', impl: 'pipe', value: 300, unit: 'MiB/s', higherIsBetter: true, baselineImpl: 'raw', ratio: 3 },
            { scenario: 'rate', impl: 'node-json', value: 50, unit: 'MiB/s', higherIsBetter: true, baselineImpl: 'raw', ratio: 0.5 },
          ],
        },
      },
    };
    const svg = renderChart(document);
    const one = Number(/<line x1="([\d.]+)"[^>]*stroke="#333"/.exec(svg)?.[1]);
    const bars = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map((m) => ({
      left: Number(m[1]),
      right: Number(m[1]) + Number(m[2]),
    }));
    expect(bars).toHaveLength(2); // fdpipe and pipe; baselines and other peers are not bars
    const [slower, faster] = bars;
    expect(slower.right).toBeCloseTo(one, 0);
    expect(slower.left).toBeLessThan(one);
    expect(faster.left).toBeCloseTo(one, 0);
    expect(faster.right - one).toBeGreaterThan(one - slower.left); // 3× faster reaches further than 2× slower
    expect(svg).toContain('time &#60;ms&#62; · fdpipe');
    expect(svg).not.toContain('<ms>');
    expect(relativeSpeed({ ratio: 2, higherIsBetter: false })).toBe(0.5);
  });
});
