#!/usr/bin/python3
"""Python-stack baseline for the tissue mask and the patch grid (openslide-python + numpy, what a Python user writes).

Mask: the BACH seed's rule - read the level nearest 8 um/px, convert to CIELAB, keep a* > 1.1 x mean(a*) - without
morphology or pen rejection (less work than Histo does). Grid: patches of SIZE px at PATCH_MPP um/px, stride = size,
last position aligned to the far edge, kept when the mask fraction under the patch is >= MIN_TISSUE, computed with a
numpy mean over the mask window of each patch.

Usage: tissue_baseline.py SLIDE [--repeat N]; prints one JSON object with the median seconds of each stage.
"""
import json
import sys
import time

import numpy as np
import openslide


def lab_a(rgb):
    c = rgb.astype(np.float32) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    x = (lin @ np.array([0.412453, 0.357580, 0.180423], np.float32)) / 0.950456
    y = lin @ np.array([0.212671, 0.715160, 0.072169], np.float32)

    def f(t):
        return np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)

    return 500 * (f(x) - f(y))


def axis(length, size, stride):
    if length <= size:
        return [0]
    n = int((length - size) / stride + 1e-9) + 1
    pos = [round(i * stride) for i in range(n)]
    if pos[-1] + size < length:
        pos.append(length - size)
    return pos


def run(path, mask_mpp=8.0, patch_mpp=0.5, size=256, min_tissue=0.05):
    t0 = time.perf_counter()
    slide = openslide.OpenSlide(path)
    props = slide.properties
    mpp = float(props.get("openslide.mpp-x") or 10000.0 / float(props["tiff.XResolution"]))
    level = slide.get_best_level_for_downsample(mask_mpp / mpp)
    w, h = slide.level_dimensions[level]
    rgb = np.asarray(slide.read_region((0, 0), level, (w, h)).convert("RGB"))
    a = lab_a(rgb)
    mask = a > 1.1 * a.mean()
    t1 = time.perf_counter()
    W, H = slide.dimensions
    ds = slide.level_downsamples[level]
    p = round(size * patch_mpp / mpp)
    kept = 0
    total = 0
    for y in axis(H, p, p):
        for x in axis(W, p, p):
            total += 1
            window = mask[int(y / ds):int((y + p) / ds), int(x / ds):int((x + p) / ds)]
            if window.size and window.mean() >= min_tissue:
                kept += 1
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, t2 - t0, float(mask.mean()), total, kept


def main():
    path = sys.argv[1]
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    runs = [run(path) for _ in range(repeat)]
    med = lambda i: float(np.median([r[i] for r in runs]))
    print(json.dumps({"mask_seconds": med(0), "grid_seconds": med(1), "total_seconds": med(2),
                      "tissue_fraction": runs[0][3], "positions": runs[0][4], "kept": runs[0][5]}))


if __name__ == "__main__":
    main()
