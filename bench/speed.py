"""Speed report: the model_core and the pipeline benchmarks in one run, one report.

model_speed: pretraining and fine-tuning samples/s and pure-forward classification
pixels/s per preset and precision, with the matmul peaks measured in the same run.
pipeline_speed twice: the memory run classifies scenes of 0.26, 1 and 4 megapixels
with the tiny preset (peak memory must stay flat as scenes grow; the pipeline does
not depend on the preset), the throughput run one scene per preset end to end
(reading, prediction, writing). Writes bench/results/speed.json and speed.md.

    python bench/speed.py [--device auto] [--throughput-side 512] [--memory-sides 512,1024,2048]
"""

import argparse
from typing import Any, Dict, List, Optional

import model_speed
import pipeline_speed
from common import REFERENCE, RESULTS, write_json


def summary_lines(model: Dict[str, Any], memory: Dict[str, Any], throughput: Dict[str, Any]) -> List[str]:
    peaks = model["peaks"]
    lines = [f"Machine: {model['machine']['cpu']}, {model['machine']['threads']} threads, torch "
             f"{model['machine']['torch']}, {model['machine']['device']}. Matmul peak measured in this run: "
             f"fp32 {peaks['fp32_matmul_gflops']} GFLOP/s, bf16 {peaks['bf16_matmul_gflops']} GFLOP/s "
             f"(reference machine: {REFERENCE['fp32_matmul_gflops']} / {REFERENCE['bf16_matmul_gflops']}).", "",
             "Each figure: measured; fraction of this run's matmul peak of that precision; ratio to the reference "
             "code's figure; that ratio on a machine of the reference's fp32 peak (normalised).", "",
             "| preset | precision | pretrain samples/s | fine-tune samples/s | classify px/s (forward) |",
             "|---|---|---|---|---|"]
    for name, entry in model["presets"].items():
        for precision in ("fp32", "bf16"):
            if precision in entry:
                f = entry[precision]
                pretrain, finetune, classify = (
                    f"{f[key + '_per_s']} ({fraction}{f[key + '_vs_reference']}x; "
                    f"{f[key + '_vs_reference_peak_normalised']}x)"
                    for key, fraction in (("pretrain_samples", f"{f['pretrain_samples_fraction_of_peak']}; "),
                                          ("finetune_samples", ""),
                                          ("classify_pixels", f"{f['classify_pixels_fraction_of_peak']}; ")))
                lines.append(f"| {name} | {precision} | {pretrain} | {finetune} | {classify} |")
    lines += ["", "Whole pipeline (read, predict, write class map and confidence):", "",
              "| preset | scene | pixels/s | peak memory MiB |", "|---|---|---|---|"]
    for report in (throughput, memory):
        for name, entry in report["presets"].items():
            for scene, run in entry["runs"].items():
                lines.append(f"| {name} | {scene} ({run['megapixels']} MP) | {run['pixels_per_s']} | {run['peak_rss_mb']} |")
    for name, entry in memory["presets"].items():
        lines.append(f"\nPeak memory growth from the smallest to the largest scene ({name}): "
                     f"{100 * entry['peak_memory_growth_smallest_to_largest']:.1f} %.")
    return lines


def main(argv: Optional[list] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--presets", default="paper,small,tiny")
    parser.add_argument("--throughput-side", default="512")
    parser.add_argument("--memory-sides", default="512,1024,2048")
    args = parser.parse_args(argv)
    model = model_speed.main(["--presets", args.presets, "--device", args.device])
    throughput = pipeline_speed.main(["--presets", args.presets, "--sides", args.throughput_side,
                                      "--device", args.device])
    memory = pipeline_speed.main(["--presets", "tiny", "--sides", args.memory_sides, "--device", args.device])
    report = {"benchmark": "speed", "model_speed": model, "pipeline_throughput": throughput, "pipeline_memory": memory}
    (RESULTS / "speed.md").write_text("\n".join(summary_lines(model, memory, throughput)) + "\n")
    write_json("speed", report)
    return report


if __name__ == "__main__":
    main()
