"""A servecast sweep mapped over a Ray cluster with the Python package: one task per shard,
merged on the driver.

    pip install . "ray>=2.9"          # at the repository's root, on every node (or a runtime_env)
    python docs/cluster/ray_sweep.py --shards 8 [--address auto] [--format json]

Each task calls ``servecast.sweep(..., shard=(k, n), output=...)`` on its node (the simulation
releases the GIL; the sweep's configurations run in parallel on the node's cores) and returns its
shard's ``.jsonl`` text; the driver writes the texts to files and calls ``servecast.sweep_merge``,
which gives the document one unsharded ``servecast.sweep`` gives. ``--format json`` prints that
document (the ranked rows, best first); the default prints them as a table (pandas).
"""
import argparse
import json
import pathlib
import tempfile

import ray

import servecast

# The sweep: edit the deployment, the load and the axes. Every task must see the same sweep
# (sweep_merge refuses shards of different sweeps by a fingerprint in each shard's header).
SWEEP = dict(
    axes=["max_num_seqs=16,32,64,128", "util=0.6,0.8,0.9"],
    gpu="a100-80g",
    model="llama-3.1-8b",
    qps=[4, 8],
    num_requests=120,
)


@ray.remote
def run_shard(k: int, n: int) -> str:
    """Runs shard k of n on a Ray worker; returns its .jsonl text (a header line, then rows)."""
    with tempfile.TemporaryDirectory() as d:
        out = pathlib.Path(d) / f"shard-{k}.jsonl"
        servecast.sweep(**SWEEP, shard=(k, n), output=out)
        return out.read_text()


def sharded_sweep(shards: int) -> dict:
    """The sweep run as `shards` Ray tasks and merged: the unsharded sweep's document."""
    texts = ray.get([run_shard.remote(k, shards) for k in range(shards)])
    with tempfile.TemporaryDirectory() as d:
        files = []
        for k, text in enumerate(texts):
            path = pathlib.Path(d) / f"shard-{k}.jsonl"
            path.write_text(text)
            files.append(path)
        return servecast.sweep_merge(files)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shards", type=int, default=4, help="Ray tasks (shards of the sweep)")
    ap.add_argument("--address", default=None, help="a running cluster (auto), else a local Ray")
    ap.add_argument("--format", choices=["table", "json"], default="table")
    args = ap.parse_args()
    ray.init(address=args.address, include_dashboard=False, log_to_driver=False)
    merged = sharded_sweep(args.shards)
    if args.format == "json":
        print(json.dumps(merged, indent=2))
    else:
        import pandas as pd

        # The ranked rows (best first): the swept settings, the load level, the figures.
        rows = pd.json_normalize(merged)
        rows.insert(0, "rank", range(1, len(rows) + 1))
        settings = [c for c in rows.columns if c.startswith("settings.")]
        columns = ["rank", *settings, "level", "request_throughput_req_s",
                   "output_throughput_tok_s", "ttft_ms_p95", "tpot_ms_p95"]
        table = rows[columns].rename(columns={c: c[len("settings."):] for c in settings})
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
