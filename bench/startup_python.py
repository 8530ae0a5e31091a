"""Startup peer for bench/startup.ts: Python's multiprocessing on this machine.

    python3 bench/startup_python.py --method fork --heap-mb 80 --runs 200
    python3 bench/startup_python.py --method forkserver --concurrency 16 --count 160

Times Process(target=f).start() + join() for one start method and prints one
JSON line: {"method": ..., "samplesMs": [...]}. With --method raw it times a
bare os.fork() + os._exit(0) + waitpid instead. --heap-mb first grows the
parent's heap with small objects, as the Node side does. With --concurrency C
it starts C processes, joins them all, and again until --count have run,
and prints {"procsPerSec": ..., "samplesMs": [each batch]}.
"""

import argparse
import json
import multiprocessing
import os
import sys
import time


def nothing():
    pass


def ballast(mb):
    chunks = []
    target = mb * (1 << 20)
    size = 0
    i = 0
    while size < target:
        chunk = [{"i": i, "j": j, "s": "ballast-%d-%d" % (i, j), "a": [i, j, i + j]} for j in range(4096)]
        size += sum(sys.getsizeof(o) + sys.getsizeof(o["s"]) + sys.getsizeof(o["a"]) for o in chunk)
        chunks.append(chunk)
        i += 1
    return chunks


def cpu_seconds():
    """User and system CPU of this process and its reaped children."""
    t = os.times()
    return t.user + t.children_user, t.system + t.children_system


def time_starts(method, runs, warmup):
    samples = []
    if method == "raw":
        for _ in range(warmup):
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
        for _ in range(runs):
            t0 = time.perf_counter_ns()
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
            samples.append((time.perf_counter_ns() - t0) / 1e6)
        return samples
    ctx = multiprocessing.get_context(method)
    # One start outside the timing: forkserver starts its server here, and
    # every method imports what it needs once.
    for _ in range(max(1, warmup)):
        warm = ctx.Process(target=nothing)
        warm.start()
        warm.join()
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        p = ctx.Process(target=nothing)
        p.start()
        p.join()
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    return samples


def time_batches(method, concurrency, count):
    ctx = multiprocessing.get_context(method)
    warm = ctx.Process(target=nothing)
    warm.start()
    warm.join()
    samples = []
    done = 0
    t_start = time.perf_counter_ns()
    while done < count:
        t0 = time.perf_counter_ns()
        batch = [ctx.Process(target=nothing) for _ in range(min(concurrency, count - done))]
        for p in batch:
            p.start()
        for p in batch:
            p.join()
        done += len(batch)
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    elapsed = (time.perf_counter_ns() - t_start) / 1e9
    return done / elapsed, samples


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--method", choices=["fork", "spawn", "forkserver", "raw"], required=True)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--heap-mb", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=0)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()
    keep = ballast(args.heap_mb) if args.heap_mb > 0 else None
    if args.concurrency > 0:
        rate, samples = time_batches(args.method, args.concurrency, args.count)
        print(json.dumps({"method": args.method, "procsPerSec": rate, "samplesMs": samples}))
        return
    user0, system0 = cpu_seconds()
    samples = time_starts(args.method, args.runs, args.warmup)
    user1, system1 = cpu_seconds()
    print(json.dumps({"method": args.method, "samplesMs": samples, "python": sys.version.split()[0],
                      "userS": user1 - user0, "systemS": system1 - system0}))
    del keep


if __name__ == "__main__":
    main()
