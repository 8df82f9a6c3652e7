#!/usr/bin/python3
"""PyTorch baseline for Histo's model benchmarks (Debian python3-torch / python3-torchvision).

Builds the same network as Histo: torchvision's ResNet with BasicBlock and layers [2, 2, 2, 3] (the ImageNet
ResNet18 variant Histo fine-tunes: 512-d pooled features, then a linear head of --classes outputs), random weights
(speed does not depend on their values), eval mode. Measures, with torch.set_num_threads(--threads):

  inference  images/s under torch.no_grad(), for every --batches x --sizes, fp32, and bf16 (weights and input cast
             to bfloat16, the same scheme as Histo's bf16 inference) unless --no-bf16;
  training   images/s of one fine-tuning step (forward, cross-entropy, backward, SGD momentum 0.9 Nesterov,
             weight decay 1e-4) in train mode for --train-batch at each of --train-sizes, fp32.

Each figure: --warmup untimed runs, then the median of --reps timed runs. Prints one JSON object.

Usage: torch_bench.py --batches 16,64 --sizes 224 --train-batch 16 --train-sizes 224 --classes 4 --threads 2

With --serve the script instead answers commands on stdin, one per line, each answered by one line on stdout ("ok",
"ok SECONDS" or "error: ..."), so that a benchmark can interleave it with Histo repetition by repetition:
  load MANIFEST          load Histo's weights (MANIFEST: JSON list of {name, shape, offset} in float32 elements into
                         MANIFEST's .bin sibling; Histo's parameter names, mapped to torchvision's) into every model
  logits IN N S OUT      run the fp32 model (eval) on N x 3 x S x S float32 from file IN, write the logits to OUT
  infer fp32|bf16 S N    one inference run on a random N x 3 x S x S batch (the same batch for repeated calls), under
                         torch.no_grad(); answers its seconds
  train S N              one fine-tuning step (as above) on a random batch; answers its seconds
  recipe fp32|bf16 S N F one step of Histo's default training recipe on a random batch: AdamW (lr 3e-4, weight
                         decay 1e-4), class-weighted cross-entropy, train mode, the stem and the first F stages
                         frozen (no gradient, batch norms in eval mode; F defaults to 0); bf16 = torch.autocast("cpu",
                         torch.bfloat16) around forward and loss (fp32 master weights, as Histo's --precision bf16);
                         answers its seconds
  quit                   exit
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock, ResNet


def build(classes):
    return ResNet(BasicBlock, [2, 2, 2, 3], num_classes=classes)


def median_seconds(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def bf16_works(model, size):
    """True when this torch build runs a bf16 convolution on this CPU (no exception)."""
    try:
        m = build(2).eval().to(torch.bfloat16)
        with torch.no_grad():
            m(torch.randn(1, 3, size, size).to(torch.bfloat16))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not supported here"
        return False


def histo_to_torchvision(name):
    """Histo's ResNet18Variant parameter names are torchvision's except the projection shortcut."""
    return name.replace("shortcut_conv", "downsample.0").replace("shortcut_bn", "downsample.1")


def load_histo_weights(manifest_path):
    import numpy as np
    with open(manifest_path) as f:
        manifest = json.load(f)
    flat = np.fromfile(manifest_path[:-len(".json")] + ".bin", dtype=np.float32)
    state = {}
    for entry in manifest:
        count = int(np.prod(entry["shape"])) if entry["shape"] else 1
        values = flat[entry["offset"]:entry["offset"] + count].reshape(entry["shape"])
        state[histo_to_torchvision(entry["name"])] = torch.from_numpy(values.copy())
    return state


def serve(a):
    state = None
    classes = a.classes
    models = {}
    inputs = {}
    trainers = {}

    def model(dtype_name):
        if dtype_name not in models:
            m = build(classes)
            if state is not None:
                missing, unexpected = m.load_state_dict(state, strict=False)
                missing = [k for k in missing if not k.endswith("num_batches_tracked")]
                if missing or unexpected:
                    raise ValueError("weights do not fit: missing %s, unexpected %s" % (missing, unexpected))
            m = m.eval()
            models[dtype_name] = m if dtype_name == "fp32" else m.to(torch.bfloat16)
        return models[dtype_name]

    def batch(dtype_name, size, n):
        key = (dtype_name, size, n)
        if key not in inputs:
            g = torch.Generator().manual_seed(7)
            x = torch.rand(n, 3, size, size, generator=g) * 255 - 120
            inputs[key] = x if dtype_name == "fp32" else x.to(torch.bfloat16)
        return inputs[key]

    for line in sys.stdin:
        cmd = line.split()
        try:
            if not cmd:
                continue
            if cmd[0] == "quit":
                break
            if cmd[0] == "load":
                state = load_histo_weights(cmd[1])
                classes = state["fc.weight"].shape[0] if "fc.weight" in state else classes
                models.clear()
                trainers.clear()
                print("ok", flush=True)
            elif cmd[0] == "logits":
                n, size = int(cmd[2]), int(cmd[3])
                import numpy as np
                x = torch.from_numpy(np.fromfile(cmd[1], dtype=np.float32).reshape(n, 3, size, size))
                with torch.no_grad():
                    model("fp32")(x).numpy().astype(np.float32).tofile(cmd[4])
                print("ok", flush=True)
            elif cmd[0] == "infer":
                m = model(cmd[1])
                x = batch(cmd[1], int(cmd[2]), int(cmd[3]))
                start = time.perf_counter()
                with torch.no_grad():
                    m(x)
                print("ok %r" % (time.perf_counter() - start), flush=True)
            elif cmd[0] == "train":
                size, n = int(cmd[1]), int(cmd[2])
                if (size, n) not in trainers:
                    m = build(classes)
                    if state is not None:
                        m.load_state_dict(state, strict=False)
                    m = m.train()
                    opt = torch.optim.SGD(m.parameters(), lr=0.001, momentum=0.9, nesterov=True, weight_decay=1e-4)
                    y = torch.arange(n) % classes
                    trainers[(size, n)] = (m, opt, y)
                m, opt, y = trainers[(size, n)]
                x = batch("fp32", size, n)
                loss_fn = nn.CrossEntropyLoss()
                start = time.perf_counter()
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(m(x), y)
                loss.backward()
                opt.step()
                print("ok %r" % (time.perf_counter() - start), flush=True)
            elif cmd[0] == "recipe":
                precision, size, n = cmd[1], int(cmd[2]), int(cmd[3])
                frozen = int(cmd[4]) if len(cmd) > 4 else 0
                key = ("recipe", precision, size, n, frozen)
                if key not in trainers:
                    m = build(classes)
                    if state is not None:
                        m.load_state_dict(state, strict=False)
                    m = m.train()
                    if frozen > 0:
                        # as Histo's --frozen-stages: stem + layer1..layerF learn nothing, their norms keep ImageNet statistics
                        fixed = [m.conv1, m.bn1] + [getattr(m, "layer%d" % (i + 1)) for i in range(frozen)]
                        for module in fixed:
                            for p in module.parameters():
                                p.requires_grad = False
                            for sub in module.modules():
                                if isinstance(sub, nn.BatchNorm2d):
                                    sub.eval()
                    opt = torch.optim.AdamW(m.parameters(), lr=3e-4, weight_decay=1e-4)
                    y = torch.arange(n) % classes
                    w = torch.linspace(0.8, 1.2, classes)
                    trainers[key] = (m, opt, y, w)
                m, opt, y, w = trainers[key]
                x = batch("fp32", size, n)
                start = time.perf_counter()
                opt.zero_grad(set_to_none=True)
                if precision == "bf16":
                    with torch.autocast("cpu", dtype=torch.bfloat16):
                        logits = m(x)
                    loss = nn.functional.cross_entropy(logits.float(), y, weight=w)
                else:
                    loss = nn.functional.cross_entropy(m(x), y, weight=w)
                loss.backward()
                opt.step()
                print("ok %r" % (time.perf_counter() - start), flush=True)
            else:
                raise ValueError("unknown command " + cmd[0])
        except Exception as e:  # noqa: BLE001 - reported to the caller, which fails the benchmark
            print("error: %s" % str(e).replace("\n", " "), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batches", default="16,64")
    p.add_argument("--sizes", default="224")
    p.add_argument("--train-batch", type=int, default=16)
    p.add_argument("--train-sizes", default="224")
    p.add_argument("--classes", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--no-bf16", action="store_true")
    p.add_argument("--no-train", action="store_true")
    p.add_argument("--serve", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.serve:
        print("ok torch %s torchvision %s" % (torch.__version__, torchvision.__version__), flush=True)
        serve(a)
        return
    torch.manual_seed(0)
    batches = [int(b) for b in a.batches.split(",") if b]
    sizes = [int(s) for s in a.sizes.split(",") if s]
    train_sizes = [int(s) for s in a.train_sizes.split(",") if s]

    model = build(a.classes).eval()
    dtypes = [("fp32", torch.float32)]
    bf16 = not a.no_bf16 and bf16_works(model, min(sizes))
    if bf16:
        dtypes.append(("bf16", torch.bfloat16))
    infer = []
    for name, dtype in dtypes:
        m = build(a.classes).eval().to(dtype)
        for size in sizes:
            for batch in batches:
                x = torch.randn(batch, 3, size, size).to(dtype)

                def run():
                    with torch.no_grad():
                        m(x)

                sec, times = median_seconds(run, a.warmup, a.reps)
                infer.append({"dtype": name, "batch": batch, "size": size, "img_per_s": batch / sec,
                              "seconds": times})

    train = []
    if not a.no_train:
        for size in train_sizes:
            m = build(a.classes).train()
            opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4)
            loss_fn = nn.CrossEntropyLoss()
            x = torch.randn(a.train_batch, 3, size, size)
            y = torch.randint(0, a.classes, (a.train_batch,))

            def step():
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(m(x), y)
                loss.backward()
                opt.step()

            sec, times = median_seconds(step, a.warmup, a.reps)
            train.append({"dtype": "fp32", "batch": a.train_batch, "size": size, "img_per_s": a.train_batch / sec,
                          "seconds": times})

    print(json.dumps({
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "python": sys.version.split()[0],
        "threads": torch.get_num_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "bf16": bf16,
        "network": "torchvision ResNet(BasicBlock, [2, 2, 2, 3]), %d classes" % a.classes,
        "infer": infer,
        "train": train,
    }))


if __name__ == "__main__":
    main()
