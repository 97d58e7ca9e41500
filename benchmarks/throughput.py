"""Scoring throughput: raw predict_proba vs end-to-end `stance-score`, with peak memory.

    .venv/bin/python benchmarks/throughput.py                 # 10k, 100k, 1M sentences
    .venv/bin/python benchmarks/throughput.py --sizes 10000   # a quick look

Uses the champion of experiments/mlflow.db (run `make demo` first), or ``--model URI``. For each size N it
(a) times the model's predict_proba on N pre-split sentences in one process, and (b) writes
articles made of the same N sentences (20 per article, one Parquet table) and times
`stance-score` on them end to end, sampling the resident memory of the whole process tree.
It prints both rates, the ratio (b)/(a) and the peak memory.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from japan_stance import tracking
from japan_stance.config import compose_settings

ROOT = Path(__file__).resolve().parents[1]
SENTENCES_PER_ARTICLE = 20


def corpus(n: int, seed: int = 0) -> list[str]:
    """N sentences drawn from the bundled labels, each made unique by an article number."""
    texts = pd.read_csv(ROOT / "data" / "labels" / "web_d.csv", usecols=["text"])["text"].unique()
    picks = np.random.default_rng(seed).choice(texts, size=n)
    return [f"{t.rstrip('.')} (item {i})." for i, t in enumerate(picks)]


def tree_rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in kB (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
            stack.extend(int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split())
        except (OSError, StopIteration):
            continue
    return total


def run_measured(command: list[str], cwd: Path) -> tuple[float, float]:
    """Run ``command``; return wall seconds and peak tree RSS in MB."""
    start, peak = time.perf_counter(), 0
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while process.poll() is None:
        peak = max(peak, tree_rss_kb(process.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(process.stderr.read().decode()[-2000:])
    return seconds, peak / 1024


def measure(n: int, model, uri: str, workers: int, tmp: Path) -> dict:
    sentences = corpus(n)
    start = time.perf_counter()
    for i in range(0, n, 20_000):
        model.predict_proba(sentences[i : i + 20_000])
    raw = n / (time.perf_counter() - start)
    articles = [" ".join(sentences[i : i + SENTENCES_PER_ARTICLE]) for i in range(0, n, SENTENCES_PER_ARTICLE)]
    table = tmp / f"articles_{n}.parquet"
    pd.DataFrame({"article_id": [f"a{i}" for i in range(len(articles))], "text": articles}).to_parquet(table)
    out = tmp / f"out_{n}"
    command = [str(Path(sys.executable).parent / "stance-score"), str(table), "--out", str(out),
               "--workers", str(workers), "--model", uri]
    seconds, peak_mb = run_measured(command, ROOT)
    scored = len(pd.read_parquet(out / "sentences.parquet", columns=["article_id"]))
    return {"sentences": n, "raw_per_s": raw, "end_to_end_per_s": scored / seconds, "ratio": scored / seconds / raw,
            "seconds": seconds, "peak_mb": peak_mb, "scored_sentences": scored}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--model", help="model URI (default: the champion of experiments/mlflow.db)")
    args = parser.parse_args()
    settings = compose_settings(ROOT)["tracking"]
    tracking.use_tracking_uri(settings["uri"])
    uri = args.model or tracking.champion_uri(settings["registered_model_name"])
    model = tracking.load_stance_model(uri)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            rows.append(measure(n, model, uri, args.workers, Path(tmp)))
            print(pd.DataFrame(rows).round(2).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    if len(table) > 1:
        print(f"peak memory at {table['sentences'].iloc[-1]:,} / at {table['sentences'].iloc[-2]:,}: "
              f"{table['peak_mb'].iloc[-1] / table['peak_mb'].iloc[-2]:.2f}x")


if __name__ == "__main__":
    main()
