"""Shared memory peer for bench/sharedmem.ts: Python's multiprocessing on this machine.

    python3 bench/sharedmem_python.py --kind counter --iterations 50000 --reps 2

Kinds, each printing the series named after it:
  counter    two fork children each do --iterations rounds of
             `with v.get_lock(): v.value += 1` on one Value('i', 0);
             ms from start() of both to both joined, and the value must end
             at 2 * iterations  -> counter
  bandwidth  --size bytes written --iterations times per sample into
             SharedMemory(...).buf and into a bytearray of the same size,
             by ctypes.memset (fill) and by memoryview slice assignment from
             a source bytes (copy); pages touched once before timing; GB/s
             (1e9 bytes/s), shared and plain alternating write by write
             -> fill-shm, fill-plain, copy-shm, copy-plain
  attach     SharedMemory(name=--name) + close() of a segment the caller
             made (not this process: were it made here, the unregister
             below would also drop the creator's registration), µs per
             pair; 3.11 registers every attach with the resource tracker,
             so each is unregistered at once (resource_tracker.unregister)
             -> attach; and, for reference, the same pairs with
             resource_tracker.register patched out -> attach-bare
  create     SharedMemory(create=True, size=4096) + close() + unlink(),
             µs per triple (registered on create, unregistered by unlink
             as usual) -> create

One untimed repetition warms up, then --reps timed ones; prints one JSON
line: {"kind": ..., "series": {name: [samples]}, "python": ...}. Every
segment made here is unlinked before the process ends.
"""

import argparse
import ctypes
import json
import multiprocessing
import sys
import time
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory

ctx = multiprocessing.get_context("fork")

SMALL = 4096


# ---- counter ----


def count_in_value(v, iterations):
    for _ in range(iterations):
        with v.get_lock():
            v.value += 1


def counter_ms(iterations):
    v = ctx.Value("i", 0)
    procs = [ctx.Process(target=count_in_value, args=(v, iterations)) for _ in range(2)]
    t0 = time.perf_counter_ns()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    ms = (time.perf_counter_ns() - t0) / 1e6
    if any(p.exitcode != 0 for p in procs):
        raise RuntimeError("counter child exit codes %r" % [p.exitcode for p in procs])
    if v.value != 2 * iterations:
        raise RuntimeError("counter is %d, expected %d" % (v.value, 2 * iterations))
    return {"counter": ms}


# ---- bandwidth ----


class Targets:
    """The shared and the plain destination, the source, and raw addresses for memset."""

    def __init__(self, size):
        self.size = size
        self.shm = SharedMemory(create=True, size=size)
        self.plain = bytearray(size)
        self.views = {"shm": self.shm.buf, "plain": memoryview(self.plain)}
        self.src = bytes([0x5A]) * size
        # ctypes views export the buffers; dropped in close() before shm.close().
        self._c = {k: (ctypes.c_char * size).from_buffer(v) for k, v in self.views.items()}
        self.addresses = {k: ctypes.addressof(c) for k, c in self._c.items()}
        for k in self.views:  # touch every page once, both alike
            ctypes.memset(self.addresses[k], 1, size)

    def fill_ns(self, which, i):
        address, size, memset = self.addresses[which], self.size, ctypes.memset
        t0 = time.perf_counter_ns()
        memset(address, i & 255, size)
        return time.perf_counter_ns() - t0

    def copy_ns(self, which):
        view, src = self.views[which], self.src
        t0 = time.perf_counter_ns()
        view[:] = src
        return time.perf_counter_ns() - t0

    def close(self):
        self._c.clear()
        self.views.clear()
        self.shm.close()
        self.shm.unlink()


def bandwidth(targets, iterations):
    """GB/s of the four; shared and plain alternate write by write, which goes first flipping each time."""
    ns = {"fill-shm": 0, "fill-plain": 0, "copy-shm": 0, "copy-plain": 0}
    for i in range(iterations):
        order = ["plain", "shm"] if i % 2 == 1 else ["shm", "plain"]
        for which in order:
            ns["fill-" + which] += targets.fill_ns(which, i)
        for which in order:
            ns["copy-" + which] += targets.copy_ns(which)
    return {series: targets.size * iterations / total for series, total in ns.items()}


# ---- attach and create ----


def attach_us(name, iterations):
    unregister = resource_tracker.unregister
    t0 = time.perf_counter_ns()
    for _ in range(iterations):
        shm = SharedMemory(name=name)
        unregister(shm._name, "shared_memory")
        shm.close()
    tracked = (time.perf_counter_ns() - t0) / 1e3 / iterations
    # For reference: the same with register() patched out, no tracker message at all (as 3.13's track=False).
    register = resource_tracker.register
    resource_tracker.register = lambda name, rtype: None
    try:
        t0 = time.perf_counter_ns()
        for _ in range(iterations):
            shm = SharedMemory(name=name)
            shm.close()
        bare = (time.perf_counter_ns() - t0) / 1e3 / iterations
    finally:
        resource_tracker.register = register
    return {"attach": tracked, "attach-bare": bare}


def create_us(iterations):
    t0 = time.perf_counter_ns()
    for _ in range(iterations):
        shm = SharedMemory(create=True, size=SMALL)
        shm.close()
        shm.unlink()
    return {"create": (time.perf_counter_ns() - t0) / 1e3 / iterations}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=["counter", "bandwidth", "attach", "create"], required=True)
    parser.add_argument("--iterations", type=int, required=True)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--size", type=int, default=64 << 20)
    parser.add_argument("--name", help="the segment attach attaches to")
    args = parser.parse_args()

    series = {}
    setup = None
    try:
        if args.kind == "counter":
            once = lambda: counter_ms(args.iterations)
        elif args.kind == "bandwidth":
            setup = Targets(args.size)
            once = lambda: bandwidth(setup, args.iterations)
        elif args.kind == "attach":
            if not args.name:
                parser.error("--kind attach needs --name")
            once = lambda: attach_us(args.name, args.iterations)
        else:
            once = lambda: create_us(args.iterations)
        once()  # warm-up; also starts the resource tracker where one is used
        for _ in range(args.reps):
            for name, value in once().items():
                series.setdefault(name, []).append(value)
    finally:
        if setup is not None:
            setup.close()
    print(json.dumps({"kind": args.kind, "series": series, "python": sys.version.split()[0]}))


if __name__ == "__main__":
    main()
