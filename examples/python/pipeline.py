#!/usr/bin/env python3
"""A producer/consumer pipeline through subinterp queues, across interpreters.

    PYTHONPATH=build/py3.13/python python3 examples/python/pipeline.py [--items N] [--workers 2]

    producer interpreter --(jobs queue, bounded)--> worker interpreters (2) --(results queue)--> main

- the producer (its own isolated interpreter) puts the numbers 0..N-1 on the
  jobs queue, then one sentinel (None) per worker;
- each worker (its own isolated interpreter, own GIL) takes numbers until it
  gets a sentinel, transforms each (a pure-Python digest), puts
  (number, digest, worker id) on the results queue, and finally its sentinel;
- the consumer, in the main interpreter, takes results until it has seen one
  sentinel per worker, then checks that every number arrived exactly once and
  that the checksum of the digests is the one computed here directly.

Every interpreter runs in its own thread (Interpreter.call() releases the
calling thread's GIL while the interpreter runs). Queues are passed to the
interpreters as plain arguments: a queue is shareable, every interpreter sees
the same queue. Exits non-zero if the check fails.
"""
import argparse
import sys
import threading
import time

import subinterp.interpreters as interpreters

SENTINEL = None


def produce(jobs, count, workers):
    for number in range(count):
        jobs.put(number)          # blocks while the queue is full, without holding any GIL
    for _ in range(workers):
        jobs.put(None)            # one sentinel per worker
    return count


# Some pure-Python CPU work per item. Defined from source so that the same code
# can be run in each worker interpreter's __main__ (Interpreter.exec) and here.
DIGEST_SOURCE = """
def digest(number):
    h = number
    for _ in range(200):
        h = (h * 1103515245 + 12345) & 0x7FFFFFFF
    return h
"""
_namespace = {}
exec(DIGEST_SOURCE, _namespace)
digest = _namespace["digest"]


def transform(jobs, results):
    # Runs in a worker interpreter. A function of __main__ without a closure is
    # shipped by its code and runs with the target's __main__ as its globals:
    # `digest` is the one Interpreter.exec(DIGEST_SOURCE) defined there.
    import subinterp.interpreters as interpreters
    me = interpreters.get_current().id
    done = 0
    while True:
        number = jobs.get()
        if number is None:
            results.put(None)     # this worker's sentinel
            return done
        results.put((number, digest(number), me))
        done += 1


class Runner(threading.Thread):
    """Calls a function in an interpreter from a thread and keeps its result or exception."""

    def __init__(self, interp, fn, *args):
        super().__init__(name=f"interp-{interp.id}")
        self.interp, self.fn, self.args = interp, fn, args
        self.result = self.error = None

    def run(self):
        try:
            self.result = self.interp.call(self.fn, *self.args)
        except BaseException as exc:  # noqa: BLE001 - reported by main
            self.error = exc


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=50_000, help="numbers to push through (default 50000)")
    parser.add_argument("--workers", type=int, default=2, help="worker interpreters (default 2)")
    args = parser.parse_args()

    expected = sum(digest(n) for n in range(args.items)) & 0xFFFFFFFFFFFF
    jobs = interpreters.create_queue(maxsize=1000)   # bounded: the producer cannot run far ahead
    results = interpreters.create_queue()

    producer = interpreters.create()
    workers = [interpreters.create() for _ in range(args.workers)]
    for w in workers:
        w.exec(DIGEST_SOURCE)
    threads = [Runner(producer, produce, jobs, args.items, args.workers)]
    threads += [Runner(w, transform, jobs, results) for w in workers]
    t0 = time.perf_counter()
    for t in threads:
        t.start()

    # The consumer: main interpreter, this thread.
    seen = bytearray(args.items)
    checksum = 0
    per_worker = {}
    sentinels = 0
    failure = None
    while sentinels < args.workers:
        try:
            item = results.get(timeout=30)
        except interpreters.QueueEmpty:
            failure = "no result for 30 s: " + "; ".join(f"{t.name}: {t.error!r}" for t in threads if t.error)
            break
        if item is SENTINEL:
            sentinels += 1
            continue
        number, value, worker_id = item
        seen[number] += 1
        checksum = (checksum + value) & 0xFFFFFFFFFFFF
        per_worker[worker_id] = per_worker.get(worker_id, 0) + 1
    elapsed = time.perf_counter() - t0
    if failure is not None:
        jobs.close()   # unblocks a producer waiting on a full queue
    for t in threads:
        t.join()
    for interp in [producer, *workers]:
        interp.close()

    errors = [f"{t.name}: {t.error}" for t in threads if t.error]
    if failure is None and errors:
        failure = "; ".join(errors)
    if failure is None and any(c != 1 for c in seen):
        failure = f"{sum(c == 0 for c in seen)} numbers missing, {sum(c > 1 for c in seen)} duplicated"
    if failure is None and checksum != expected:
        failure = f"checksum {checksum:#x}, expected {expected:#x}"
    if failure is None and sum(per_worker.values()) != args.items:
        failure = f"workers report {sum(per_worker.values())} items, expected {args.items}"
    if failure is None and [t.result for t in threads[1:]] != [per_worker.get(w.id, 0) for w in workers]:
        failure = f"workers' own counts {[t.result for t in threads[1:]]} differ from what arrived {per_worker}"
    if failure is not None:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    shares = ", ".join(f"interpreter {w.id}: {per_worker.get(w.id, 0)}" for w in workers)
    print(f"{args.items} items: producer interpreter {producer.id} -> {args.workers} worker interpreters "
          f"({shares}) -> main")
    print(f"checksum {checksum:#x} (expected {expected:#x}): OK, in {elapsed:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
