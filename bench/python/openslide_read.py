#!/usr/bin/python3
"""Region-read baseline for Histo's benchmarks: python3-openslide (Debian) reading the same positions as Histo.

Usage: openslide_read.py SLIDE POSITIONS_FILE --size 256 --threads 2 --warmup 1 --reps 5

POSITIONS_FILE holds one "x y" level-0 pair per line. Each repetition opens a fresh OpenSlide handle (untimed, so
every repetition starts with an empty tile cache, as Histo's and the raw reader's do), then reads every position with
OpenSlide.read_region at level 0, the positions split over the threads round-robin (thread t takes t, t+T, ...).
openslide-python releases the GIL inside libopenslide and its ARGB->RGBA conversion, so threads do run in parallel.
Prints one JSON object: reads_per_s (median over repetitions) and the per-repetition rates.
"""
import argparse
import json
import statistics
import sys
import threading
import time

import openslide


def run_once(path, positions, size, threads):
    slide = openslide.OpenSlide(path)
    try:
        def work(t):
            for x, y in positions[t::threads]:
                slide.read_region((x, y), 0, (size, size))

        workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return time.perf_counter() - start
    finally:
        slide.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("slide")
    p.add_argument("positions")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    with open(a.positions) as f:
        positions = [tuple(int(v) for v in line.split()) for line in f if line.strip()]
    if not positions:
        sys.exit("error: no positions in " + a.positions)
    for _ in range(a.warmup):
        run_once(a.slide, positions, a.size, a.threads)
    rates = [len(positions) / run_once(a.slide, positions, a.size, a.threads) for _ in range(a.reps)]
    print(json.dumps({
        "reads_per_s": statistics.median(rates),
        "rates": rates,
        "reads_per_rep": len(positions),
        "threads": a.threads,
        "openslide_python": openslide.__version__,
        "libopenslide": openslide.__library_version__,
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
