// The piscina peer's worker file for bench/pool.ts: its default export is
// the task piscina.run() calls, the twin of bench/pool_tasks.ts's noop.
export default function noop(): null {
  return null;
}
