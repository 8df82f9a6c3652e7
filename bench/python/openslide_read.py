#!/usr/bin/python3
"""Region-read baseline for Histo's benchmarks: python3-openslide (Debian) reading the same positions as Histo.

Usage: openslide_read.py SLIDE POSITIONS_FILE --size 256 --threads 2 --warmup 1 --reps 5

POSITIONS_FILE holds one "x y" level-0 pair per line. Each repetition opens a fresh OpenSlide handle (untimed, so
every repetition starts with an empty tile cache, as Histo's and the raw reader's do), then reads every position with
OpenSlide.read_region at level 0, the positions split over the threads round-robin (thread t takes t, t+T, ...).
openslide-python releases the GIL inside libopenslide and its ARGB->RGBA conversion, so threads do run in parallel.
Prints one JSON object: reads_per_s (median over repetitions) and the per-repetition rates.

With --serve the script instead answers commands on stdin, one per line, each answered by one line "ok" (or
"error: ...") on stdout, so that a benchmark can interleave it with other readers chunk by chunk:
  open            close the current handle, if any, and open a fresh one
  read FROM TO    read positions FROM..TO-1 (0-based), split over the threads round-robin
  quit            exit
"""
import argparse
import concurrent.futures
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


def serve(path, positions, size, threads):
    slide = None
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads)

    def work(chunk, t):
        for x, y in chunk[t::threads]:
            slide.read_region((x, y), 0, (size, size))

    for line in sys.stdin:
        cmd = line.split()
        try:
            if not cmd:
                continue
            if cmd[0] == "quit":
                break
            if cmd[0] == "open":
                if slide is not None:
                    slide.close()
                slide = openslide.OpenSlide(path)
            elif cmd[0] == "read":
                chunk = positions[int(cmd[1]):int(cmd[2])]
                for f in [pool.submit(work, chunk, t) for t in range(threads)]:
                    f.result()
            else:
                raise ValueError("unknown command " + cmd[0])
            print("ok", flush=True)
        except Exception as e:  # noqa: BLE001 - reported to the caller, which fails the benchmark
            print("error: %s" % e, flush=True)
    pool.shutdown()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("slide")
    p.add_argument("positions")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--serve", action="store_true")
    a = p.parse_args()
    with open(a.positions) as f:
        positions = [tuple(int(v) for v in line.split()) for line in f if line.strip()]
    if not positions:
        sys.exit("error: no positions in " + a.positions)
    if a.serve:
        serve(a.slide, positions, a.size, a.threads)
        return
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
