"""How every Python benchmark here times things: timeit-style loops with the
garbage collector off, calibrated to a sample time, samples taken round-robin
over a group of measurements so that bursts of load from other processes
spread over all of them. Standard library only (runs on 3.12 and 3.13)."""
import gc
import math
import statistics
import time


class Measurement:
    def __init__(self, key, loop):
        self.key = key          # what the caller uses to find it again
        self.loop = loop        # loop(n) runs the operation n times
        self.number = 1         # iterations per sample (set by calibrate)
        self.samples = []       # seconds per operation

    @property
    def median(self):
        return statistics.median(self.samples)


def timed(loop, number):
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        loop(number)
        return time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()


def calibrate(measurement, sample_time):
    """Find the iterations per sample (the runs also warm up)."""
    number = 1
    while True:
        elapsed = timed(measurement.loop, number)
        if elapsed >= sample_time / 4 or number >= 1 << 24:
            break
        number *= 4 if elapsed < sample_time / 100 else 2
    measurement.number = max(1, math.ceil(number * sample_time / max(elapsed, 1e-9)))


def measure_group(measurements, sample_time, repeat, progress=None):
    """Calibrate each (which also warms it up), then take `repeat` samples of
    each, round-robin."""
    for m in measurements:
        calibrate(m, sample_time)
    for round_number in range(repeat):
        for m in measurements:
            m.samples.append(timed(m.loop, m.number) / m.number)
        if progress:
            progress(f"round {round_number + 1}/{repeat} of {len(measurements)} measurements")
