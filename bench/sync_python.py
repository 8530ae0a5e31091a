"""Synchronization peer for bench/sync.ts: Python's multiprocessing on this machine.

    python3 bench/sync_python.py --kind lock --iterations 2000000 --reps 3

Kinds:
  lock     uncontended Lock acquire() + release(), ns per pair
  rlock    uncontended RLock acquire() + release(), ns per pair
  counter  two fork children each do --iterations rounds of
           {lock.acquire(); counter.release(); lock.release()} on a
           Semaphore(0) counter; ms from start() of both to both joined,
           and the counter must end at 2 * iterations

One untimed repetition warms up, then --reps timed ones; prints one JSON
line: {"kind": ..., "samples": [...], "python": ...}. Everything comes from
the fork context, as the Node side uses fork: its semaphores are unlinked as
soon as they are made, so nothing is left in /dev/shm and no resource tracker
starts.
"""

import argparse
import json
import multiprocessing
import sys
import time

ctx = multiprocessing.get_context("fork")


def pairs_ns(lock, iterations):
    # Bound methods held in locals: the fastest way Python code calls them.
    acquire = lock.acquire
    release = lock.release
    t0 = time.perf_counter_ns()
    for _ in range(iterations):
        acquire()
        release()
    return (time.perf_counter_ns() - t0) / iterations


def count_under_lock(lock, counter, iterations):
    acquire = lock.acquire
    release = lock.release
    increment = counter.release
    for _ in range(iterations):
        acquire()
        increment()
        release()


def counter_ms(iterations):
    lock = ctx.Lock()
    counter = ctx.Semaphore(0)
    procs = [ctx.Process(target=count_under_lock, args=(lock, counter, iterations)) for _ in range(2)]
    t0 = time.perf_counter_ns()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    ms = (time.perf_counter_ns() - t0) / 1e6
    if any(p.exitcode != 0 for p in procs):
        raise RuntimeError("counter child exit codes %r" % [p.exitcode for p in procs])
    if counter.get_value() != 2 * iterations:
        raise RuntimeError("counter is %d, expected %d" % (counter.get_value(), 2 * iterations))
    return ms


def once(kind, iterations):
    if kind == "lock":
        return pairs_ns(ctx.Lock(), iterations)
    if kind == "rlock":
        return pairs_ns(ctx.RLock(), iterations)
    return counter_ms(iterations)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=["lock", "rlock", "counter"], required=True)
    parser.add_argument("--iterations", type=int, required=True)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    once(args.kind, args.iterations)
    samples = [once(args.kind, args.iterations) for _ in range(args.reps)]
    print(json.dumps({"kind": args.kind, "samples": samples, "python": sys.version.split()[0]}))


if __name__ == "__main__":
    main()
