#!/usr/bin/python3
"""Python-stack baselines for stain normalisation and augmentation of 256 x 256 patches (numpy, PIL, torchvision).

macenko: the torchstain numpy algorithm (Io 240, beta 0.15, alpha 1), fitted on the target, applied per patch.
reinhard: CIELAB mean/std matching with a numpy sRGB<->Lab conversion (as scikit-image does it).
augment: torchvision - a random dihedral transform plus ColorJitter(brightness 0.1, saturation 0.2, hue 10/360).

Usage: stain_baseline.py TARGET_PNG SOURCE_PNG MODE SECONDS; prints {"patches_per_second": ...}.
"""
import json
import sys
import time

import numpy as np
from PIL import Image

IO, BETA, ALPHA = 240.0, 0.15, 1.0


def macenko_fit(img):
    od = -np.log((img.reshape(-1, 3).astype(np.float64) + 1) / IO)
    odhat = od[~np.any(od < BETA, axis=1)]
    _, eigvecs = np.linalg.eigh(np.cov(odhat.T))
    that = odhat.dot(eigvecs[:, 1:3])
    phi = np.arctan2(that[:, 1], that[:, 0])
    min_phi, max_phi = np.percentile(phi, ALPHA), np.percentile(phi, 100 - ALPHA)
    v_min = eigvecs[:, 1:3].dot(np.array([(np.cos(min_phi), np.sin(min_phi))]).T)
    v_max = eigvecs[:, 1:3].dot(np.array([(np.cos(max_phi), np.sin(max_phi))]).T)
    he = np.array((v_min[:, 0], v_max[:, 0])).T if v_min[0] > v_max[0] else np.array((v_max[:, 0], v_min[:, 0])).T
    c = np.linalg.lstsq(he, od.T, rcond=None)[0]
    max_c = np.array([np.percentile(c[0, :], 99), np.percentile(c[1, :], 99)])
    return he, c, max_c


def macenko(target):
    he_ref, _, max_ref = macenko_fit(target)

    def normalize(img):
        try:
            _, c, max_c = macenko_fit(img)
        except (np.linalg.LinAlgError, ValueError, IndexError):
            return img  # torchstain raises on patches with too little tissue; a careful caller passes them through
        c *= (max_ref / max_c)[:, None]
        out = IO * np.exp(-he_ref.dot(c))
        return np.clip(out, 0, 255).T.reshape(img.shape).astype(np.uint8)

    return normalize


M = np.array([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]])
WHITE = np.array([0.950456, 1.0, 1.088754])


def rgb2lab(rgb):
    c = rgb / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = lin @ M.T / WHITE
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def lab2rgb(lab):
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], -1)
    xyz = np.where(f > 0.2068966, f ** 3, (f - 16 / 116) / 7.787) * WHITE
    lin = np.clip(xyz @ np.linalg.inv(M).T, 0, 1)
    c = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.clip(c * 255 + 0.5, 0, 255).astype(np.uint8)


def reinhard(target):
    t = rgb2lab(target.astype(np.float64)).reshape(-1, 3)
    tm, ts = t.mean(0), t.std(0)

    def normalize(img):
        lab = rgb2lab(img.astype(np.float64))
        flat = lab.reshape(-1, 3)
        return lab2rgb((lab - flat.mean(0)) / flat.std(0) * ts + tm)

    return normalize


def augment():
    import torch
    import torchvision.transforms as T
    jitter = T.ColorJitter(brightness=0.1, saturation=0.2, hue=10 / 360)
    gen = np.random.default_rng(0)

    def run(img):
        x = torch.from_numpy(np.array(img)).permute(2, 0, 1)
        k = int(gen.integers(8))
        x = torch.rot90(x, k % 4, (1, 2))
        if k >= 4:
            x = torch.flip(x, (2,))
        return jitter(x).permute(1, 2, 0).numpy()

    return run


def main():
    target = np.asarray(Image.open(sys.argv[1]).convert("RGB"))
    source = np.asarray(Image.open(sys.argv[2]).convert("RGB"))
    mode, seconds = sys.argv[3], float(sys.argv[4])
    fn = {"macenko": lambda: macenko(target), "reinhard": lambda: reinhard(target), "augment": augment}[mode]()
    patches = [source[y:y + 256, x:x + 256] for y in range(0, source.shape[0] - 255, 256) for x in range(0, source.shape[1] - 255, 256)]
    for p in patches[:3]:
        fn(p)  # warm-up
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn(patches[n % len(patches)])
        n += 1
    print(json.dumps({"patches_per_second": n / (time.perf_counter() - start), "patches": n}))


if __name__ == "__main__":
    main()
