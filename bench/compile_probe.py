"""Does torch.compile pay on the GPU? Classification through TilePredictor (eager vs compiled
`classify`, random `paper` weights, bf16) and pretraining steps (eager vs a compiled model,
masks drawn on the device, no data pipeline). One JSON line per figure; a failure (the
CPU's Inductor cannot lower the bf16 classifier) is one JSON line too.

    python3 bench/compile_probe.py classify|pretrain [--preset paper] [--device cuda] [--tile 512]
"""
import argparse
import json
import time

import numpy as np

import model_speed  # sets up the checkout's path, as every benchmark's `common`

import torch  # noqa: E402
from model_core.config import PRESETS  # noqa: E402
from model_core.inference import TilePredictor  # noqa: E402
from model_core.masking import mrs_mask, spatial_mask  # noqa: E402
from model_core.model import SSMAE, SSMAEClassifier  # noqa: E402
from model_core.preprocessing import Normalizer  # noqa: E402


def say(**record):
    print(json.dumps(record), flush=True)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def classify(args):
    config = PRESETS[args.preset]
    halo = config.patch // 2
    torch.manual_seed(0)
    model = SSMAEClassifier(config, 63, 2, 6)
    normalizer = Normalizer(center=np.zeros(65), scale=np.ones(65))
    data = model_speed.random_patches(1, args.tile + 2 * halo)[0].astype(np.float32)
    valid = np.ones(data.shape[1:], dtype=bool)
    predictor = TilePredictor(model, normalizer, device=args.device, precision="bf16", batch_size=args.batch)
    device = predictor.device
    eager, _ = predictor(data, valid)

    def rate(label):
        sync(device)
        started = time.perf_counter()
        for _ in range(args.repeats):
            predictor(data, valid)
        sync(device)
        seconds = (time.perf_counter() - started) / args.repeats
        say(what="classify", how=label, px_per_s=args.tile ** 2 / seconds, batch=predictor.batch_size)

    rate("eager")
    for mode in args.modes.split(","):
        predictor.model.classify = torch.compile(SSMAEClassifier.classify.__get__(predictor.model), mode=mode,
                                                 dynamic=False)
        started = time.perf_counter()
        compiled, _ = predictor(data, valid)
        sync(device)
        say(what="classify", how=mode, first_call_s=time.perf_counter() - started,
            agreement=float((compiled == eager).mean()))
        rate(mode)


def pretrain(args):
    config = PRESETS[args.preset]
    device = torch.device(args.device)
    data = torch.from_numpy(model_speed.random_patches(args.batch * 4, config.patch)).float().to(device)
    for mode in ["eager"] + args.modes.split(","):
        torch.manual_seed(0)
        model = SSMAE(config, 63, 2).to(device)
        if mode != "eager":
            model.compile(mode=mode)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        generator = torch.Generator(device=device).manual_seed(0)

        def step(i):
            x = data[(i % 4) * args.batch:((i % 4) + 1) * args.batch]
            with torch.autocast(device.type, dtype=torch.bfloat16):
                loss = model(x, spatial_mask(x, 0.3, generator), mrs_mask(x, 0.3, generator)).total
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            return loss

        started = time.perf_counter()
        for i in range(3):
            loss = step(i)
        sync(device)
        warm = time.perf_counter() - started
        started = time.perf_counter()
        for i in range(args.steps):
            loss = step(i)
        sync(device)
        seconds = time.perf_counter() - started
        say(what="pretrain", how=mode, warmup_s=warm, samples_per_s=args.batch * args.steps / seconds,
            batch=args.batch, loss=float(loss))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["classify", "pretrain"])
    parser.add_argument("--preset", default="paper")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--batch", type=int, default=32768)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--modes", default="default")
    args = parser.parse_args()
    try:
        {"classify": classify, "pretrain": pretrain}[args.what](args)
    except Exception as error:  # a probe: report and go on
        say(what=args.what, error=f"{type(error).__name__}: {str(error)[:400]}")
