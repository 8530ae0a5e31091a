"""Pool peer for bench/pool.ts: Python's multiprocessing.Pool on this machine.

    python3 bench/pool_python.py --kind apply --iterations 2000 --reps 3

Every kind runs on multiprocessing.get_context("fork").Pool(--processes),
made and warmed up (one untimed repetition of the same work) before any
clock starts, and prints one JSON line:
{"kind": ..., "series": {name: [samples]}, "python": ...}.

Kinds, each printing the series named after it:
  apply     --iterations sequential pool.apply(noop), µs per call -> apply
  map       pool.map(sqr, items) over the list 0..--iterations-1 (made
            before the clock starts), ms; with the default chunksize
            (ceil(len / (4 * processes))) -> map, and with chunksize=1000
            -> map-1000, the two alternating sample by sample (which goes
            first flips each time); the results are checked afterwards
  inflight  --iterations pool.apply_async(noop) submitted at once, then
            every r.get(), ms from the first submission to the last get()
            -> inflight
"""

import argparse
import json
import multiprocessing
import sys
import time

ctx = multiprocessing.get_context("fork")


def noop():
    return None


def sqr(x):
    return x * x


def elapsed_ns(t0):
    return time.perf_counter_ns() - t0


def apply_us(pool, iterations):
    apply = pool.apply
    t0 = time.perf_counter_ns()
    for _ in range(iterations):
        result = apply(noop)
    us = elapsed_ns(t0) / 1e3 / iterations
    if result is not None:
        raise RuntimeError("noop returned %r" % (result,))
    return {"apply": us}


def map_ms(pool, items, order):
    expected = sum(x * x for x in items)
    out = {}
    for series, chunksize in order:
        t0 = time.perf_counter_ns()
        results = pool.map(sqr, items, chunksize)
        out[series] = elapsed_ns(t0) / 1e6
        if len(results) != len(items) or sum(results) != expected:
            raise RuntimeError("map(sqr) returned wrong results (chunksize %r)" % (chunksize,))
    return out


def inflight_ms(pool, n):
    apply_async = pool.apply_async
    t0 = time.perf_counter_ns()
    rs = [apply_async(noop) for _ in range(n)]
    results = [r.get() for r in rs]
    ms = elapsed_ns(t0) / 1e6
    if len(results) != n or any(r is not None for r in results):
        raise RuntimeError("apply_async(noop) returned wrong results")
    return {"inflight": ms}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=["apply", "map", "inflight"], required=True)
    parser.add_argument("--iterations", type=int, required=True)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()

    series = {}
    pool = ctx.Pool(args.processes)
    try:
        if args.kind == "apply":
            once = lambda rep: apply_us(pool, args.iterations)
        elif args.kind == "map":
            items = list(range(args.iterations))
            pair = [("map", None), ("map-1000", 1000)]
            once = lambda rep: map_ms(pool, items, pair if rep % 2 == 0 else pair[::-1])
        else:
            once = lambda rep: inflight_ms(pool, args.iterations)
        once(1)  # warm-up: the workers are up and have run the same work once
        for rep in range(args.reps):
            for name, value in once(rep).items():
                series.setdefault(name, []).append(value)
    finally:
        pool.terminate()
        pool.join()
    print(json.dumps({"kind": args.kind, "series": series, "python": sys.version.split()[0]}))


if __name__ == "__main__":
    main()
