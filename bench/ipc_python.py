"""IPC peer for bench/ipc.ts: Python's multiprocessing on this machine.

    python3 bench/ipc_python.py --kind pipe-rt --iterations 20000 --reps 3

Kinds:
  pipe-rt    a Pipe() round trip: the parent sends the int i, a fork child
             echoes it (conn.recv(); conn.send(x)), the parent receives the
             reply; each sample is the mean of --iterations round trips, in
             microseconds
  queue      1 producer -> 1 consumer through a Queue: a fork child puts the
             ints 0..N-1 (N = --iterations), then close() and join_thread();
             the parent get()s N items and checks their sum; items per second
             from the producer's clock just before its first put() (sent
             afterwards over a side Pipe) to the parent's clock after its
             last get()
  queue-4x4  4 producers -> 4 consumers through one Queue: four fork
             children put a quarter of 0..N-1 each, four fork children get
             N/4 items each; items per second from the earliest producer's
             first put() to the latest consumer's last get(), sums checked
  big-bytes  --size bytes from a fork child to the parent with
             send_bytes()/recv_bytes(): the child fills the buffer (untimed),
             reads the clock, send()s that timestamp, then send_bytes() the
             buffer; the parent takes the time when recv_bytes() returns;
             10^9 bytes per second

perf_counter_ns() is CLOCK_MONOTONIC on Linux: one clock for every process
on the machine, so a child's timestamp and the parent's can be subtracted.

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
FILL = 7


def echo(conn):
    recv = conn.recv
    send = conn.send
    while True:
        x = recv()
        if x is None:
            break
        send(x)


def round_trips_us(conn, iterations):
    # Bound methods held in locals: the fastest way Python code calls them.
    recv = conn.recv
    send = conn.send
    t0 = time.perf_counter_ns()
    for i in range(iterations):
        send(i)
        if recv() != i:
            raise RuntimeError("bad echo at %d" % i)
    return (time.perf_counter_ns() - t0) / 1e3 / iterations


def pipe_rt(iterations, reps):
    parent, child = ctx.Pipe()
    p = ctx.Process(target=echo, args=(child,))
    p.start()
    child.close()
    round_trips_us(parent, iterations)
    samples = [round_trips_us(parent, iterations) for _ in range(reps)]
    parent.send(None)
    p.join()
    check_exit([p])
    return samples


def produce(q, clock, n):
    put = q.put
    t0 = time.perf_counter_ns()
    for i in range(n):
        put(i)
    q.close()
    q.join_thread()
    clock.send(t0)


def queue_once(n):
    q = ctx.Queue()
    clock_r, clock_w = ctx.Pipe(duplex=False)
    p = ctx.Process(target=produce, args=(q, clock_w, n))
    p.start()
    clock_w.close()
    get = q.get
    total = 0
    for _ in range(n):
        total += get()
    t_end = time.perf_counter_ns()
    t0 = clock_r.recv()
    p.join()
    check_exit([p])
    if total != n * (n - 1) // 2:
        raise RuntimeError("sum is %d, expected %d" % (total, n * (n - 1) // 2))
    return n / ((t_end - t0) / 1e9)


def produce_range(q, clock, start, stop):
    put = q.put
    t0 = time.perf_counter_ns()
    for i in range(start, stop):
        put(i)
    q.close()
    q.join_thread()
    clock.send(t0)


def consume_count(q, report, count):
    get = q.get
    total = 0
    for _ in range(count):
        total += get()
    report.send((total, time.perf_counter_ns()))


def queue_4x4_once(n):
    per = n // 4
    total_n = per * 4
    q = ctx.Queue()
    consumers = []
    for _ in range(4):
        r, w = ctx.Pipe(duplex=False)
        p = ctx.Process(target=consume_count, args=(q, w, per))
        p.start()
        w.close()
        consumers.append((p, r))
    producers = []
    for k in range(4):
        r, w = ctx.Pipe(duplex=False)
        p = ctx.Process(target=produce_range, args=(q, w, k * per, (k + 1) * per))
        p.start()
        w.close()
        producers.append((p, r))
    total = 0
    t_end = 0
    for _, r in consumers:
        part, end = r.recv()
        total += part
        t_end = max(t_end, end)
    t0 = min(r.recv() for _, r in producers)
    for p, _ in consumers + producers:
        p.join()
    check_exit([p for p, _ in consumers + producers])
    if total != total_n * (total_n - 1) // 2:
        raise RuntimeError("sum is %d, expected %d" % (total, total_n * (total_n - 1) // 2))
    return total_n / ((t_end - t0) / 1e9)


def send_big(conn, size):
    buf = bytes([FILL]) * size
    conn.send(time.perf_counter_ns())
    conn.send_bytes(buf)


def big_once(size):
    parent, child = ctx.Pipe()
    p = ctx.Process(target=send_big, args=(child, size))
    p.start()
    child.close()
    t0 = parent.recv()
    data = parent.recv_bytes()
    t_end = time.perf_counter_ns()
    p.join()
    check_exit([p])
    if len(data) != size or data[0] != FILL or data[-1] != FILL:
        raise RuntimeError("received %d bytes, not the %d sent" % (len(data), size))
    return size / (t_end - t0)


def check_exit(procs):
    if any(p.exitcode != 0 for p in procs):
        raise RuntimeError("child exit codes %r" % [p.exitcode for p in procs])


def repeated(once, reps):
    once()
    return [once() for _ in range(reps)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=["pipe-rt", "queue", "queue-4x4", "big-bytes"], required=True)
    parser.add_argument("--iterations", type=int, default=20000)
    parser.add_argument("--size", type=int, default=256 << 20)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    if args.kind == "pipe-rt":
        samples = pipe_rt(args.iterations, args.reps)
    elif args.kind == "queue":
        samples = repeated(lambda: queue_once(args.iterations), args.reps)
    elif args.kind == "queue-4x4":
        samples = repeated(lambda: queue_4x4_once(args.iterations), args.reps)
    else:
        samples = repeated(lambda: big_once(args.size), args.reps)
    print(json.dumps({"kind": args.kind, "samples": samples, "python": sys.version.split()[0]}))


if __name__ == "__main__":
    main()
