// Hooks run around every fork() this package makes (Python's
// os.register_at_fork): modules keep per-process state (waiters, caches,
// connections) that a fork child must drop.

/**
 * Callables run around every `fork()` this package makes (what
 * {@link registerAtFork} takes); at least one is needed.
 *
 * @category Processes
 * @example
 * ```ts
 * const cache = new Map<string, Buffer>();
 * const hooks: mp.AtForkHooks = {
 *   afterInChild: () => cache.clear(), // a fork child drops the entries it inherited
 * };
 * mp.registerAtFork(hooks);
 * ```
 */
export interface AtForkHooks {
  /** In the parent, just before the fork. */
  before?: () => void;
  /** In the parent, just after the fork. */
  afterInParent?: () => void;
  /** In the child, first thing after the fork: drop per-process state (caches, connections) here. */
  afterInChild?: () => void;
}

const atForkHooks: AtForkHooks[] = [];

/**
 * Registers callables run around every `fork()` this package makes, as
 * Python's `os.register_at_fork`: `before` hooks in reverse registration
 * order, the `after…` hooks in registration order, around the fork of
 * every `'fork'` child. A forkserver child runs the `afterInChild` hooks
 * registered in the server (by the main module and the preloaded modules,
 * which the server imports). Hooks stay registered for good.
 *
 * @throws TypeError when `hooks` has none of the three, or one that is not a
 * function.
 * @category Processes
 * @example
 * ```ts
 * let connection = openDatabase();
 * mp.registerAtFork({
 *   afterInChild: () => {
 *     connection = openDatabase(); // the parent's socket is not the child's to use
 *   },
 * });
 * ```
 */
export function registerAtFork(hooks: AtForkHooks): void {
  if (hooks === null || typeof hooks !== 'object') {
    throw new TypeError('The "hooks" argument must be an object');
  }
  for (const key of ['before', 'afterInParent', 'afterInChild'] as const) {
    if (hooks[key] !== undefined && typeof hooks[key] !== 'function') {
      throw new TypeError(`The "hooks.${key}" property must be a function`);
    }
  }
  if (!hooks.before && !hooks.afterInParent && !hooks.afterInChild) {
    throw new TypeError('registerAtFork() needs at least one of before, afterInParent, afterInChild');
  }
  atForkHooks.push({ ...hooks });
}

export function runBeforeForkHooks(): void {
  for (let i = atForkHooks.length - 1; i >= 0; i--) atForkHooks[i].before?.();
}

/** Runs the after-fork hooks of one side; returns the errors they threw. */
export function runAfterForkHooks(side: 'afterInParent' | 'afterInChild'): unknown[] {
  const errors: unknown[] = [];
  for (const hooks of atForkHooks) {
    try {
      hooks[side]?.();
    } catch (error) {
      errors.push(error);
    }
  }
  return errors;
}
