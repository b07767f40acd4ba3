"""A servecast sweep mapped over a Ray cluster: one task per shard, merged locally.

    python docs/cluster/ray_sweep.py --shards 8 [--address auto]

Each task runs `servecast sweep ... --shard k/N -o shard-k.jsonl` (the binary must be on every
node's PATH, or SERVECAST_BIN set); the driver gathers the shard files' text and runs
`servecast sweep-merge`, which prints the ranked table one unsharded run would give.
"""
import argparse
import os
import pathlib
import subprocess
import tempfile

import ray

SWEEP = [
    "sweep", "--gpu", "a100-80g", "--model", "llama-3.1-8b", "--qps", "4,8",
    "--num-requests", "120", "--axis", "max_num_seqs=16,32,64,128",
    "--axis", "util=0.6,0.8,0.9", "--quiet",
]


def binary() -> str:
    return os.environ.get("SERVECAST_BIN", "servecast")


@ray.remote
def run_shard(k: int, n: int) -> str:
    """Runs shard k of n and returns its .jsonl text."""
    with tempfile.TemporaryDirectory() as d:
        out = pathlib.Path(d) / f"shard-{k}.jsonl"
        subprocess.run([binary(), *SWEEP, "--shard", f"{k}/{n}", "-o", str(out)],
                       check=True, capture_output=True)
        return out.read_text()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--address", default=None)
    ap.add_argument("--format", default="table")
    args = ap.parse_args()
    ray.init(address=args.address)
    texts = ray.get([run_shard.remote(k, args.shards) for k in range(args.shards)])
    with tempfile.TemporaryDirectory() as d:
        files = []
        for k, text in enumerate(texts):
            p = pathlib.Path(d) / f"shard-{k}.jsonl"
            p.write_text(text)
            files.append(str(p))
        merged = subprocess.run([binary(), "sweep-merge", "--format", args.format, *files],
                                check=True, capture_output=True, text=True)
        print(merged.stdout, end="")


if __name__ == "__main__":
    main()
