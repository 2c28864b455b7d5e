// What the repository itself must not hold. A worktree's node_modules is a link to a shared install; committed, its
// checkout replaces the install it points to with the link itself (this happened twice).
import { execFileSync } from 'child_process';
import * as path from 'path';

test('node_modules and dist/ are not tracked', () => {
  const tracked = execFileSync('git', ['ls-files', '--', 'node_modules', 'dist'], {
    cwd: path.join(__dirname, '..'),
    encoding: 'utf8',
  });
  expect(tracked.split('\n').filter(Boolean)).toEqual([]);
});
