import { join } from 'path';
import { WorkerPool, type WorkerPoolOptions } from '../../src';

/** The pool tests' worker module. */
export const POOL_WORKER = join(__dirname, '..', 'fixtures', 'pool-worker.js');

/**
 * A maker of pools of `module` whose stderr stays out of the test output, each closed (forcibly) after its test:
 * call it at the top of a test file.
 */
export function poolsClosedAfterEach(): (options?: WorkerPoolOptions, module?: string | URL) => WorkerPool {
  const pools = new Set<WorkerPool>();
  afterEach(async () => {
    await Promise.all([...pools].map((p) => p.close({ force: true })));
    pools.clear();
  });
  return (options = {}, module = POOL_WORKER) => {
    const created = new WorkerPool(module, { stdio: { stderr: 'ignore' }, ...options });
    pools.add(created);
    return created;
  };
}
