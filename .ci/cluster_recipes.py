"""The Kubernetes and Slurm recipes of docs/cluster/, run verbatim at their own (small) scale on
this machine: every pod / array task's command with its index, then the merge, which must give
the unsharded sweep's rows exactly.

    python .ci/cluster_recipes.py SERVECAST_BIN

- k8s-indexed-job.yaml: the container's `sh -c` command once per completion index
  (JOB_COMPLETION_INDEX = 0 … completions − 1), its volume mount mapped to a temporary folder.
- slurm-array.sh: the script once per task of its `#SBATCH --array` range (SLURM_ARRAY_TASK_ID),
  in a temporary working folder; then the merge line of its header comment.
The unsharded sweep is the recipe's own command without `--shard` and `-o`.
"""
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.argv[1]).resolve()


def env(**extra):
    e = dict(os.environ)
    # `servecast` on PATH is the binary under test (the recipes call it by name).
    shim = pathlib.Path(tempfile.mkdtemp()) / "servecast"
    shim.symlink_to(BIN)
    e["PATH"] = f"{shim.parent}{os.pathsep}{e['PATH']}"
    e.update({k: str(v) for k, v in extra.items()})
    return e


def run(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        sys.exit(f"{cmd}: exit {done.returncode}\n{done.stderr}")
    return done.stdout


def unsharded(words):
    """The sweep command without --shard I/N and -o FILE, printing JSON."""
    out, skip = [], False
    for w in words:
        if skip:
            skip = False
        elif w in ("--shard", "-o", "--output"):
            skip = True
        else:
            out.append(w)
    return [str(BIN), *out[1:], "--format", "json"]


def check(name, merged_json, sweep_words):
    whole = json.loads(run(unsharded(sweep_words), cwd=ROOT))
    merged = json.loads(merged_json)
    if merged != whole:
        sys.exit(f"{name}: the merged shards differ from the unsharded sweep")
    print(f"{name}: {len(merged)} rows merged from its shards = the unsharded sweep")


def k8s():
    job = yaml.safe_load((ROOT / "docs/cluster/k8s-indexed-job.yaml").read_text())
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    container = spec["template"]["spec"]["containers"][0]
    assert container["command"] == ["/bin/sh", "-c"], container["command"]
    script = container["args"][0]
    mount = container["volumeMounts"][0]["mountPath"]
    with tempfile.TemporaryDirectory() as volume:
        local = script.replace(mount, volume)
        for k in range(spec["completions"]):
            run(["/bin/sh", "-c", local], env=env(JOB_COMPLETION_INDEX=k), cwd=volume)
        shards = sorted(str(p) for p in pathlib.Path(volume).glob("shard-*.jsonl"))
        assert len(shards) == spec["completions"], shards
        merged = run([str(BIN), "sweep-merge", "--format", "json", *shards])
    check("k8s-indexed-job.yaml", merged, shlex.split(script))


def slurm():
    path = ROOT / "docs/cluster/slurm-array.sh"
    text = path.read_text()
    first, last = map(int, re.search(r"^#SBATCH --array=(\d+)-(\d+)$", text, re.M).groups())
    merge_line = re.search(r"^#\s+(servecast sweep-merge .*)$", text, re.M).group(1)
    sweep_line = re.search(r"^(servecast sweep (?:.*\\\n)*.*)$", text, re.M).group(1).replace("\\\n", " ")
    with tempfile.TemporaryDirectory() as work:
        for k in range(first, last + 1):
            run(["bash", str(path)], env=env(SLURM_ARRAY_TASK_ID=k), cwd=work)
        merged = run(["/bin/sh", "-c", merge_line + " --format json"], env=env(), cwd=work)
    check("slurm-array.sh", merged, shlex.split(sweep_line))


k8s()
slurm()
