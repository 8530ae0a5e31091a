// The tasks bench/pool.ts hands to our Pool: exported from a module of their
// own, so spawn and forkserver workers find them by import as fork workers do.

/** The empty task: a round trip and nothing else. */
export function noop(): null {
  return null;
}

/** The map task: trivial work per item. */
export function sqr(x: number): number {
  return x * x;
}
