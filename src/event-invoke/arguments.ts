/**
 * event-invoke's argument rule: invoke() takes the arguments as one array, or one bare value standing for a single
 * argument, or nothing; the callee spreads them. So `invoke('max', [1, 2, 3])` calls `max(1, 2, 3)`, and a single
 * argument that is itself an array must be wrapped: `invoke('sum', [[1, 2, 3]])`.
 */
export function spreadArguments(args: unknown): readonly unknown[] {
  if (args === undefined) return [];
  return Array.isArray(args) ? args : [args];
}
