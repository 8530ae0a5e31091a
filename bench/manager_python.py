"""Manager peer for bench/manager.ts: Python's multiprocessing.Manager on this machine.

    python3 bench/manager_python.py --kind dict-rt --iterations 2000 --warmup 1000 --reps 3
    python3 bench/manager_python.py --kind start --method default --reps 6

Kinds (each through a proxy of a manager of the default context, started
once per process and untimed):
  dict-rt      d['k'] = i; d['k'] (checked to be i): microseconds per pair
  list-append  l.append(i): microseconds per call
  lock         lock.acquire(); lock.release() on manager.Lock(): microseconds
               per pair
  list-slice   l[:] of a list of --size ints: microseconds per call
  dict-update  d.update(a dict of --size keys): microseconds per call
  start        Manager() of --method's context (default: multiprocessing's
               default context) and one m.dict(), until that call returns,
               in milliseconds; then m.shutdown(), in milliseconds, its
               figures in "shutdown"

Round-trip kinds: one untimed block of --warmup iterations, then --reps
timed blocks of --iterations, each sample the block's mean. start: one
untimed start and shutdown (forkserver starts its server there, as its
first Process does), then --reps timed ones.

Prints one JSON line: {"kind": ..., "samples": [...], "shutdown": [...]
(start only), "method": ..., "python": ...}.
"""

import argparse
import json
import multiprocessing
import sys
import time


def dict_rt_us(d, iterations):
    t0 = time.perf_counter_ns()
    for i in range(iterations):
        d["k"] = i
        if d["k"] != i:
            raise RuntimeError("bad read at %d" % i)
    return (time.perf_counter_ns() - t0) / 1e3 / iterations


def list_append_us(lst, iterations):
    # Bound methods held in locals: the fastest way Python code calls them.
    append = lst.append
    t0 = time.perf_counter_ns()
    for i in range(iterations):
        append(i)
    return (time.perf_counter_ns() - t0) / 1e3 / iterations


def lock_us(lock, iterations):
    acquire = lock.acquire
    release = lock.release
    t0 = time.perf_counter_ns()
    for _ in range(iterations):
        acquire()
        release()
    return (time.perf_counter_ns() - t0) / 1e3 / iterations


def list_slice_us(lst, iterations, size):
    t0 = time.perf_counter_ns()
    for _ in range(iterations):
        if len(lst[:]) != size:
            raise RuntimeError("short copy")
    return (time.perf_counter_ns() - t0) / 1e3 / iterations


def dict_update_us(d, iterations, entries):
    update = d.update
    t0 = time.perf_counter_ns()
    for _ in range(iterations):
        update(entries)
    return (time.perf_counter_ns() - t0) / 1e3 / iterations


def timed_blocks(m, kind, args):
    """The warm-up block, then --reps timed blocks, of one round-trip kind."""
    size = args.size
    if kind == "dict-rt":
        d = m.dict()
        block = lambda n: dict_rt_us(d, n)
    elif kind == "list-append":
        lst = m.list()
        block = lambda n: list_append_us(lst, n)
    elif kind == "lock":
        lock = m.Lock()
        block = lambda n: lock_us(lock, n)
    elif kind == "list-slice":
        lst = m.list(range(size))
        block = lambda n: list_slice_us(lst, n, size)
    else:
        d = m.dict()
        entries = {"k%d" % i: i for i in range(size)}
        block = lambda n: dict_update_us(d, n, entries)
    block(args.warmup)
    return [block(args.iterations) for _ in range(args.reps)]


def round_trips(kind, args):
    m = multiprocessing.Manager()
    try:
        return timed_blocks(m, kind, args)
    finally:
        m.shutdown()


def start_once(ctx):
    t0 = time.perf_counter_ns()
    m = ctx.Manager()
    d = m.dict()
    t1 = time.perf_counter_ns()
    m.shutdown()
    t2 = time.perf_counter_ns()
    del d  # after shutdown(): a dead manager's proxies skip their decref
    if m._process.exitcode != 0:
        raise RuntimeError("manager exit code %r" % m._process.exitcode)
    return (t1 - t0) / 1e6, (t2 - t1) / 1e6


def starts(method, reps):
    ctx = multiprocessing.get_context(None if method == "default" else method)
    start_once(ctx)
    pairs = [start_once(ctx) for _ in range(reps)]
    return [s for s, _ in pairs], [t for _, t in pairs]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=["dict-rt", "list-append", "lock", "list-slice", "dict-update", "start"], required=True)
    parser.add_argument("--method", choices=["default", "fork", "forkserver", "spawn"], default="default")
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    out = {"kind": args.kind}
    if args.kind == "start":
        out["samples"], out["shutdown"] = starts(args.method, args.reps)
        out["method"] = multiprocessing.get_start_method() if args.method == "default" else args.method
    else:
        out["samples"] = round_trips(args.kind, args)
        out["method"] = multiprocessing.get_start_method()
    out["python"] = sys.version.split()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
