// Hooks run around every fork() this package makes (Python's
// os.register_at_fork): modules keep per-process state (waiters, caches,
// connections) that a fork child must drop.

export interface AtForkHooks {
  before?: () => void;
  afterInParent?: () => void;
  afterInChild?: () => void;
}

const atForkHooks: AtForkHooks[] = [];

/**
 * Registers callables run around every fork() this package makes, as
 * Python's os.register_at_fork: `before` hooks in reverse registration
 * order, the `after…` hooks in registration order.
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
