"""Writes the vLLM benchmark fixtures of this directory (numbers invented, fixed seeds).

Run from this directory: python3 make_fixtures.py (needs numpy). The summary figures are
computed from the per-request arrays as vLLM's client computes them (numpy mean / median / std /
percentile, TPOT over requests with more than one output token).
"""
import json
import random

import numpy as np


def v054():
    """benchmarks/benchmark_serving.py at v0.5.4: 24 prompts, 3 completed with 0 output tokens."""
    random.seed(54)
    n = 24
    input_lens = [random.randint(100, 400) for _ in range(n)]
    out = [random.randint(20, 200) for _ in range(n)]
    for i in (3, 11, 17):
        out[i] = 0
    ttfts = [round(random.uniform(0.05, 0.6), 6) for _ in range(n)]
    itls = [[round(random.uniform(0.018, 0.03), 6) for _ in range(max(out[i] - 1, 0))] for i in range(n)]
    lat = [ttfts[i] + sum(itls[i]) for i in range(n)]
    dur = round(max(lat) * 3.1, 6)
    tpots = [(lat[i] - ttfts[i]) / (out[i] - 1) for i in range(n) if out[i] > 1]
    allitl = [x for l in itls for x in l]
    res = {
        "date": "20240812-101500", "backend": "vllm", "model_id": "meta-llama/Meta-Llama-3.1-8B-Instruct",
        "tokenizer_id": "meta-llama/Meta-Llama-3.1-8B-Instruct", "best_of": 1, "use_beam_search": False,
        "num_prompts": n, "request_rate": "inf", "duration": dur, "completed": n,
        "total_input_tokens": sum(input_lens), "total_output_tokens": sum(out),
        "request_throughput": n / dur, "input_throughput": sum(input_lens) / dur, "output_throughput": sum(out) / dur,
        "mean_ttft_ms": float(np.mean(ttfts) * 1000), "median_ttft_ms": float(np.median(ttfts) * 1000),
        "std_ttft_ms": float(np.std(ttfts) * 1000), "p99_ttft_ms": float(np.percentile(ttfts, 99) * 1000),
        "mean_tpot_ms": float(np.mean(tpots) * 1000), "median_tpot_ms": float(np.median(tpots) * 1000),
        "std_tpot_ms": float(np.std(tpots) * 1000), "p99_tpot_ms": float(np.percentile(tpots, 99) * 1000),
        "mean_itl_ms": float(np.mean(allitl) * 1000), "median_itl_ms": float(np.median(allitl) * 1000),
        "std_itl_ms": float(np.std(allitl) * 1000), "p99_itl_ms": float(np.percentile(allitl, 99) * 1000),
        "input_lens": input_lens, "output_lens": out, "ttfts": ttfts, "itls": itls,
        "generated_texts": ["" if out[i] == 0 else "x" * out[i] for i in range(n)],
        "errors": ["" for _ in range(n)],
    }
    with open("v0.5.4-benchmark_serving-zero-token-completions.json", "w") as f:
        json.dump(res, f)


def v011():
    """vllm bench serve (0.11) --save-detailed --append-result: two Poisson runs, one per line."""
    random.seed(11)
    lines = []
    for rate in (2.0, 4.0):
        n = 16
        inl = [random.randint(200, 300) for _ in range(n)]
        out = [random.randint(50, 120) for _ in range(n)]
        fail = {5} if rate == 4.0 else set()
        t = 0.0
        starts = []
        for _ in range(n):
            t += random.expovariate(rate)
            starts.append(round(1000.0 + t, 6))
        ttfts = [round(random.uniform(0.03, 0.2), 6) for _ in range(n)]
        itls = [[round(random.uniform(0.012, 0.02), 6) for _ in range(out[i] - 1)] for i in range(n)]
        errors = ["" for _ in range(n)]
        for i in fail:
            errors[i] = ("Traceback (most recent call last):\n  ...\n"
                         "aiohttp.client_exceptions.ServerDisconnectedError: Server disconnected")
            out[i] = 0
            ttfts[i] = 0.0
            itls[i] = []
        ok = [i for i in range(n) if i not in fail]
        lat = {i: ttfts[i] + sum(itls[i]) for i in ok}
        dur = round(max(starts[i] - starts[0] + lat[i] for i in ok), 6)
        tpots = [(lat[i] - ttfts[i]) / (out[i] - 1) for i in ok if out[i] > 1]
        res = {
            "date": "20251020-143000", "endpoint_type": "openai", "label": None, "model_id": "Qwen/Qwen3-8B",
            "tokenizer_id": "Qwen/Qwen3-8B", "num_prompts": n, "request_rate": rate, "burstiness": 1.0,
            "max_concurrency": None, "duration": dur, "completed": len(ok), "failed": len(fail),
            "total_input_tokens": sum(inl[i] for i in ok), "total_output_tokens": sum(out[i] for i in ok),
            "request_throughput": len(ok) / dur, "request_goodput": None,
            "output_throughput": sum(out[i] for i in ok) / dur,
            "total_token_throughput": (sum(out[i] for i in ok) + sum(inl[i] for i in ok)) / dur,
            "input_lens": inl, "output_lens": out, "ttfts": ttfts, "itls": itls,
            "generated_texts": ["" for _ in range(n)], "errors": errors, "start_times": starts,
        }
        series = (("ttft", [ttfts[i] for i in ok]), ("tpot", tpots),
                  ("itl", [x for i in ok for x in itls[i]]), ("e2el", [lat[i] for i in ok]))
        for name, vals in series:
            v = np.array(vals) * 1000
            res[f"mean_{name}_ms"] = float(v.mean())
            res[f"median_{name}_ms"] = float(np.median(v))
            res[f"std_{name}_ms"] = float(v.std())
            res[f"p99_{name}_ms"] = float(np.percentile(v, 99))
        lines.append(json.dumps(res))
    with open("v0.11-vllm-bench-serve-append-result.json", "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    v054()
    v011()
