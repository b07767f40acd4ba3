#!/usr/bin/env python3
"""Writes the GuideLLM fixtures of this directory. Every number is invented; the layout follows
GuideLLM's pydantic models (see README.md). Run from this directory: python3 make_fixtures.py"""
import json, math

T0 = 1700000000.0


def dist(values, weights=None):
    """GuideLLM's DistributionSummary.from_distribution_function (values, weights)."""
    if not values:
        return None
    weights = weights or [1.0] * len(values)
    pairs = sorted(zip(values, weights))
    tw = sum(w for _, w in pairs)
    probs = [w / tw for _, w in pairs]
    cdf, acc = [], 0.0
    for (v, _), p in zip(pairs, probs):
        acc += p
        cdf.append((v, acc))
    mean = sum(v * p for (v, _), p in zip(pairs, probs))
    var = sum((v - mean) ** 2 * p for (v, _), p in zip(pairs, probs))
    pct = lambda q: next(v for v, c in cdf if c >= q - 1e-12)
    return {
        "mean": mean, "median": pct(0.5), "mode": pairs[probs.index(max(probs))][0],
        "variance": var, "std_dev": math.sqrt(var), "min": pairs[0][0], "max": pairs[-1][0],
        "count": len(values), "total_sum": sum(values),
        "percentiles": {k: pct(q) for k, q in [("p001", .001), ("p01", .01), ("p05", .05), ("p10", .1),
                        ("p25", .25), ("p50", .5), ("p75", .75), ("p90", .9), ("p95", .95),
                        ("p99", .99), ("p999", .999)]},
    }


def sds(ok, bad=None):
    return {"successful": dist(ok), "incomplete": None, "errored": dist(bad or []), "total": dist(ok + (bad or []))}


def metrics(ok, duration):
    """ok: list of dicts with prompt, output, ttft_ms, latency_s."""
    itl = [((r["latency_s"] * 1000 - r["ttft_ms"]) / (r["output"] - 1)) for r in ok if r["output"] > 1]
    w = [r["output"] - 1 for r in ok if r["output"] > 1]
    tpot = [((r["latency_s"] * 1000 - r["ttft_ms"]) / r["output"]) for r in ok]
    n = len(ok)
    tin = sum(r["prompt"] for r in ok)
    tout = sum(r["output"] for r in ok)
    return {
        "requests_per_second": sds([n / duration]),
        "request_concurrency": sds([sum(r["latency_s"] for r in ok) / duration]),
        "request_latency": sds([r["latency_s"] for r in ok]),
        "prompt_token_count": sds([r["prompt"] for r in ok]),
        "output_token_count": sds([r["output"] for r in ok]),
        "time_to_first_token_ms": sds([r["ttft_ms"] for r in ok]),
        "time_per_output_token_ms": sds(tpot),
        "inter_token_latency_ms": {**sds([]), "successful": dist(itl, w)},
        "output_tokens_per_second": sds([tout / duration]),
        "tokens_per_second": sds([(tin + tout) / duration]),
    }


def v03_req(r, kind):
    start = T0 + r["start"]
    end = start + r["latency_s"]
    first = start + r["ttft_ms"] / 1000 if r["ttft_ms"] is not None else None
    d = {
        "type_": "generative_text_response" if kind == "successful" else "generative_text_error",
        "request_id": r["id"], "request_type": "text_completions",
        "scheduler_info": {"requested": True, "completed": kind == "successful", "errored": kind == "errored",
                           "canceled": kind == "incomplete", "targeted_start_time": start, "request_start": start,
                           "request_end": end, "process_id": 0},
        "prompt": "x", "output": "y" if kind == "successful" else None,
        "prompt_tokens": r["prompt"], "output_tokens": r["output"],
        "start_time": start, "end_time": end, "first_token_time": first,
        "last_token_time": end if r["output"] else None,
        "request_latency": r["latency_s"], "time_to_first_token_ms": r["ttft_ms"],
    }
    if kind != "successful":
        d["error"] = r["error"]
    return d


def v03_bench(i, strategy, ok, bad_kind=None, bad=()):
    allr = ok + list(bad)
    start = T0 + min(r["start"] for r in allr)
    end = T0 + max(r["start"] + r["latency_s"] for r in allr)
    duration = end - start
    totals = {"successful": len(ok), "incomplete": len(bad) if bad_kind == "incomplete" else 0,
              "errored": len(bad) if bad_kind == "errored" else 0, "total": len(allr)}
    return {
        "type_": "generative_benchmark", "id_": f"bench-{i}", "run_id": "run-0",
        "args": {"profile": {"type_": "sweep", "completed_strategies": 3, "measured_rates": [], "measured_concurrencies": []},
                 "strategy_index": i, "strategy": strategy, "max_number": None, "max_duration": 30.0,
                 "warmup_number": None, "warmup_duration": None, "cooldown_number": None, "cooldown_duration": None},
        "run_stats": {"start_time": start, "end_time": end, "requests_made": totals, "queued_time_avg": 0.001,
                      "scheduled_time_delay_avg": 0.0, "scheduled_time_sleep_avg": 0.0, "worker_start_delay_avg": 0.0,
                      "worker_time_avg": 0.9, "worker_start_time_targeted_delay_avg": 0.0,
                      "request_start_time_delay_avg": 0.0, "request_start_time_targeted_delay_avg": 0.0,
                      "request_time_delay_avg": 0.0, "request_time_avg": 0.9},
        "worker": {"type_": "generative_requests_worker", "backend_type": "openai_http",
                   "backend_target": "http://localhost:8000", "backend_model": "meta-llama/Llama-3.1-8B-Instruct",
                   "backend_info": {}},
        "request_loader": {"type_": "generative_request_loader", "data": "prompt_tokens=100,output_tokens=50"},
        "extras": {},
        "metrics": metrics(ok, duration),
        "start_time": start, "end_time": end, "duration": duration,
        "request_totals": totals, "request_samples": None,
        "requests": {"successful": [v03_req(r, "successful") for r in ok],
                     "incomplete": [v03_req(r, "incomplete") for r in bad] if bad_kind == "incomplete" else [],
                     "errored": [v03_req(r, "errored") for r in bad] if bad_kind == "errored" else [],
                     "total": None},
    }


def req(id, start, prompt, output, ttft_ms, latency_s, error=None):
    return dict(id=id, start=start, prompt=prompt, output=output, ttft_ms=ttft_ms, latency_s=latency_s, error=error)


# ---- v0.3: synchronous, concurrent 4, constant 2 req/s -----------------------------------------
sync_ok = [req("s0", 0.0, 100, 50, 20.0, 1.0), req("s1", 1.0, 120, 40, 30.0, 0.81),
           req("s2", 1.81, 80, 60, 25.0, 0.91), req("s3", 2.72, 100, 50, 25.0, 1.25)]
sync_bad = [req("s4", 3.97, 90, 0, None, 0.03, "HTTPStatusError: Server error '500 Internal Server Error'")]
conc_ok = [req(f"c{i}", 10.0 + (i // 4) * 1.5, 100 + 10 * i, 50, 40.0 + 10 * i, 1.0 + 0.1 * i) for i in range(6)]
const_ok = [req(f"k{i}", 20.0 + 0.5 * i, 100, 40 + 10 * i, 30.0, 0.5 + 0.1 * i) for i in range(5)]
const_bad = [req("k5", 22.5, 100, 3, 30.0, 0.2, "incomplete: cancelled at the end of the benchmark")]
v03 = {"benchmarks": [
    v03_bench(0, {"type_": "synchronous"}, sync_ok, "errored", sync_bad),
    v03_bench(1, {"type_": "concurrent", "streams": 4}, conc_ok),
    v03_bench(2, {"type_": "constant", "rate": 2.0, "initial_burst": True, "max_concurrency": None}, const_ok, "incomplete", const_bad),
]}
with open("v0.3-benchmarks.json", "w") as f:
    json.dump(v03, f, indent=2)


# ---- report schema v1 (guidellm 0.5.0): poisson 4 req/s, throughput 8 (sampled) ----------------
def v1_req(r, status):
    start = T0 + r["start"]
    end = start + r["latency_s"]
    first = start + r["ttft_ms"] / 1000 if r["ttft_ms"] is not None else None
    return {
        "type_": "generative_request_stats", "request_id": r["id"], "request_type": "text_completions",
        "response_id": None, "request_args": None, "output": None,
        "info": {"request_id": r["id"], "status": status, "scheduler_node_id": 0, "scheduler_process_id": 0,
                 "scheduler_start_time": T0,
                 "timings": {"targeted_start": start, "queued": start, "dequeued": start, "scheduled_at": start,
                             "resolve_start": start, "request_start": start, "first_request_iteration": first,
                             "first_token_iteration": first, "last_token_iteration": end if r["output"] else None,
                             "last_request_iteration": end, "request_iterations": r["output"],
                             "token_iterations": r["output"], "request_end": end, "resolve_end": end,
                             "finalized": end},
                 "error": r["error"]},
        "input_metrics": {"text_tokens": r["prompt"], "total_tokens": r["prompt"]},
        "output_metrics": {"text_tokens": r["output"], "total_tokens": r["output"]},
        "request_start_time": start, "request_end_time": end, "request_latency": r["latency_s"],
        "prompt_tokens": r["prompt"], "input_tokens": r["prompt"], "output_tokens": r["output"],
        "total_tokens": r["prompt"] + r["output"], "time_to_first_token_ms": r["ttft_ms"],
    }


def v1_bench(i, strategy, ok, bad, kept_ok=None, sample=None):
    allr = ok + bad
    start = T0 + min(r["start"] for r in allr)
    end = T0 + max(r["start"] + r["latency_s"] for r in allr)
    duration = end - start
    totals = {"successful": len(ok), "errored": len(bad), "incomplete": 0, "total": len(allr)}
    m = metrics(ok, duration)
    m = {"request_totals": totals, **m, "request_streaming_iterations_count": sds([r["output"] for r in ok]),
         "total_token_count": sds([r["prompt"] + r["output"] for r in ok])}
    kept = ok if kept_ok is None else ok[:kept_ok]
    return {
        "type_": "generative_benchmark", "id_": f"b{i}", "run_id": "run-1", "run_index": i,
        "config": {"id_": f"b{i}", "run_id": "run-1", "run_index": i, "strategy": strategy, "constraints": {},
                   "sample_requests": sample, "warmup": {"percent": None, "value": None, "mode": "prefer_duration"},
                   "cooldown": {"percent": None, "value": None, "mode": "prefer_duration"},
                   "prefer_response_metrics": True,
                   "profile": {"type_": "sweep", "sweep_size": 3},
                   "requests": {"str": "dataset"},
                   "backend": {"target": "http://localhost:8000", "model": "meta-llama/Llama-3.1-8B-Instruct",
                               "timeout": 60.0, "http2": True},
                   "environment": {"str": "NonDistributedEnvironment"}},
        "scheduler_state": {"node_id": 0, "num_processes": 1, "start_time": start, "end_time": end,
                            "created_requests": len(allr), "queued_requests": 0, "pending_requests": 0,
                            "processing_requests": 0, "processed_requests": len(allr),
                            "successful_requests": len(ok), "errored_requests": len(bad), "cancelled_requests": 0},
        "scheduler_metrics": {"start_time": start, "request_start_time": start, "measure_start_time": start,
                              "measure_end_time": end, "request_end_time": end, "end_time": end,
                              "requests_made": totals, "queued_time_avg": 0.0, "resolve_start_delay_avg": 0.0,
                              "resolve_targeted_start_delay_avg": 0.0, "request_start_delay_avg": 0.0,
                              "request_targeted_start_delay_avg": 0.0, "request_time_avg": 0.5,
                              "resolve_end_delay_avg": 0.0, "resolve_time_avg": 0.5, "finalized_delay_avg": 0.0,
                              "processed_delay_avg": 0.0},
        "metrics": m,
        "requests": {"successful": [v1_req(r, "completed") for r in kept], "incomplete": [],
                     "errored": [v1_req(r, "errored") for r in bad], "total": None},
        "start_time": start, "end_time": end, "duration": duration,
        "warmup_duration": 0.0, "cooldown_duration": 0.0,
    }


pois_ok = [req(f"p{i}", 0.1 + 0.25 * i + (0.05 if i % 2 else 0.0), 200 + 20 * i, 100, 50.0 + 5 * i, 1.5)
           for i in range(5)]
pois_bad = [req("p5", 1.3, 210, 0, None, 0.01, "ReadTimeout: timed out")]
thr_ok = [req(f"t{i}", 5.0, 300, 80, 100.0 + 20 * i, 2.0 + 0.1 * i) for i in range(8)]
v1 = {
    "metadata": {"version": 1, "guidellm_version": "0.5.0", "python_version": "3.12.3", "platform": "Linux-x86_64"},
    "args": {"target": "http://localhost:8000", "data": ["prompt_tokens=200,output_tokens=100"], "profile": "sweep",
             "rate": [4.0], "backend": "openai_http", "model": "meta-llama/Llama-3.1-8B-Instruct",
             "sample_requests": None, "max_seconds": 30},
    "benchmarks": [
        v1_bench(0, {"type_": "poisson", "worker_count": 1, "max_concurrency": None, "rate": 4.0,
                     "random_seed": 42}, pois_ok, pois_bad),
        v1_bench(1, {"type_": "throughput", "worker_count": 1, "max_concurrency": 8, "rampup_duration": 0.0},
                 thr_ok, [], kept_ok=3, sample=3),
    ],
}
with open("v0.5-benchmarks.json", "w") as f:
    json.dump(v1, f, indent=2)


# ---- report schema v2 (guidellm 0.7.3): concurrent 2 streams, constant 2 req/s (sampled) --------
EMPTY = {"mean": 0.0, "median": 0.0, "mode": 0.0, "variance": 0.0, "std_dev": 0.0, "min": 0.0, "max": 0.0,
         "count": 0, "total_sum": 0.0,
         "percentiles": {k: 0.0 for k in ["p001", "p01", "p05", "p10", "p25", "p50", "p75", "p90", "p95", "p99",
                                          "p999"]}}


def dist2(values, weights=None):
    """0.7's DistributionSummary: never null (zeros for no values), with `pdf` (null unless asked)."""
    d = dist(values, weights) or dict(EMPTY)
    return {**d, "pdf": None}


def sds2(ok, bad=None):
    bad = bad or []
    return {"successful": dist2(ok), "incomplete": dist2([]), "errored": dist2(bad), "total": dist2(ok + bad)}


def v2_req(r, status):
    start = T0 + r["start"]
    end = start + r["latency_s"]
    first = start + r["ttft_ms"] / 1000 if r["ttft_ms"] is not None else None
    out = r["output"] or None  # output_tokens: output_metrics.total_tokens, else token_iterations or None
    tpot = 1000 * (end - start) / out if out else None
    itl = 1000 * (end - first) / (out - 1) if out and out > 1 and first is not None else None
    return {
        "type_": "generative_request_stats", "request_id": r["id"], "response_id": None, "request_args": None,
        "output": None, "reasoning_output": None, "tool_calls": None,
        "info": {"request_id": r["id"], "conversation_id": None, "turn_index": 0, "status": status,
                 "scheduler_node_id": 0, "scheduler_process_id": 0, "scheduler_start_time": T0,
                 "timings": {"targeted_start": start, "queued": start, "dequeued": start, "scheduled_at": start,
                             "resolve_start": start, "request_start": start, "first_request_iteration": first,
                             "first_token_iteration": first, "first_output_token_iteration": first,
                             "last_token_iteration": end if out else None, "last_request_iteration": end,
                             "request_iterations": r["output"], "token_iterations": r["output"],
                             "request_end": end, "resolve_end": end, "finalized": end},
                 "settings": {"relative_timestamp": None, "requeue_delay": None},
                 "error": r["error"], "traceback": None},
        "input_metrics": {"text_tokens": r["prompt"], "total_tokens": r["prompt"]},
        "output_metrics": {"text_tokens": out, "total_tokens": out},
        "request_start_time": start, "request_end_time": end, "request_latency": r["latency_s"],
        "prompt_tokens": r["prompt"], "output_tokens": out, "total_tokens": r["prompt"] + (out or 0),
        "time_to_first_token_ms": r["ttft_ms"], "time_per_output_token_ms": tpot, "inter_token_latency_ms": itl,
        "tokens_per_second": (r["prompt"] + (out or 0)) / r["latency_s"],
        "output_tokens_per_second": out / r["latency_s"] if out else None,
        "time_to_first_output_token_ms": r["ttft_ms"],
        "iter_tokens_per_iteration": 1.0 if out and out > 1 else None,
        "output_tokens_per_iteration": 1.0 if out else None,
    }


def metrics2(ok, bad, duration):
    itl = [((r["latency_s"] * 1000 - r["ttft_ms"]) / (r["output"] - 1)) for r in ok if r["output"] > 1]
    w = [r["output"] - 1 for r in ok if r["output"] > 1]
    tpot = [r["latency_s"] * 1000 / r["output"] for r in ok]
    n = len(ok)
    tin = sum(r["prompt"] for r in ok)
    tout = sum(r["output"] for r in ok)
    none3 = {"input": None, "input_per_second": None, "input_concurrency": None, "output": None,
             "output_per_second": None, "output_concurrency": None, "total": None, "total_per_second": None,
             "total_concurrency": None}
    tokens = {**none3, "input": sds2([r["prompt"] for r in ok]), "output": sds2([r["output"] for r in ok]),
              "total": sds2([r["prompt"] + r["output"] for r in ok])}
    return {
        "request_totals": {"successful": n, "incomplete": 0, "errored": len(bad), "total": n + len(bad)},
        "requests_per_second": sds2([n / duration]),
        "request_concurrency": sds2([sum(r["latency_s"] for r in ok) / duration]),
        "request_latency": sds2([r["latency_s"] for r in ok], [r["latency_s"] for r in bad]),
        "request_streaming_iterations_count": sds2([r["output"] for r in ok]),
        "prompt_token_count": sds2([r["prompt"] for r in ok], [r["prompt"] for r in bad]),
        "output_token_count": sds2([r["output"] for r in ok], [0.0 for _ in bad]),
        "total_token_count": sds2([r["prompt"] + r["output"] for r in ok]),
        "time_to_first_token_ms": sds2([r["ttft_ms"] for r in ok]),
        "time_to_first_output_token_ms": sds2([r["ttft_ms"] for r in ok]),
        "time_per_output_token_ms": sds2(tpot),
        "inter_token_latency_ms": {**sds2([]), "successful": dist2(itl, w)},
        "prompt_tokens_per_second": sds2([tin / duration]),
        "output_tokens_per_second": sds2([tout / duration]),
        "tokens_per_second": sds2([(tin + tout) / duration]),
        "output_tokens_per_iteration": sds2([1.0 for _ in ok]),
        "iter_tokens_per_iteration": sds2([1.0 for _ in ok]),
        "text": {"tokens": tokens, "words": None, "characters": None},
        "image": {"tokens": None, "images": None, "pixels": None, "bytes": None},
        "video": {"tokens": None, "frames": None, "seconds": None, "bytes": None},
        "audio": {"tokens": None, "samples": None, "seconds": None, "bytes": None},
        "tool_call": {"tokens": None, "mixed_tokens": None, "count": None},
    }


BACKEND2 = {"kind": "openai_http", "target": "http://localhost:8000", "model": "Qwen/Qwen3-8B",
            "request_format": None, "api_key": None, "api_routes": {}, "timeout": 60.0, "timeout_connect": None,
            "follow_redirects": True, "verify": False, "validate_backend": True, "stream": True, "extras": None}


def v2_bench(i, strategy, ok, bad, kept_ok=None, sample=None):
    allr = ok + bad
    start = T0 + min(r["start"] for r in allr)
    end = T0 + max(r["start"] + r["latency_s"] for r in allr)
    duration = end - start
    kept = ok if kept_ok is None else ok[:kept_ok]
    totals = {"successful": len(ok), "incomplete": 0, "errored": len(bad), "total": len(allr)}
    return {
        "type_": "generative_benchmark",
        "config": {"id_": f"b{i}", "run_id": "run-2", "run_index": i, "strategy": strategy, "constraints": {},
                   "sample_size": sample, "warmup": {"percent": None, "value": None, "mode": "prefer_duration"},
                   "cooldown": {"percent": None, "value": None, "mode": "prefer_duration"},
                   "prefer_response_metrics": True, "profile": {"str": "ConcurrentProfile"},
                   "requests": {"str": "DataLoader"}, "backend": BACKEND2,
                   "environment": {"str": "NonDistributedEnvironment"}},
        "scheduler_state": {"node_id": 0, "num_processes": 1, "start_time": start, "end_time": end,
                            "start_requests_time": start, "end_requests_time": end, "end_queuing_time": end,
                            "end_queuing_constraints": {}, "end_processing_time": end,
                            "end_processing_constraints": {}, "scheduler_constraints": {},
                            "progress": {"remaining_requests": 0.0, "total_requests": float(len(allr)),
                                         "remaining_duration": None, "total_duration": None, "stop_time": end},
                            "created_requests": len(allr), "queued_requests": 0, "pending_requests": 0,
                            "processing_requests": 0, "processed_requests": len(allr),
                            "successful_requests": len(ok), "errored_requests": len(bad), "cancelled_requests": 0},
        "scheduler_metrics": {"start_time": start, "request_start_time": start, "measure_start_time": start,
                              "measure_end_time": end, "request_end_time": end, "end_time": end,
                              "requests_made": totals, "queued_time_avg": 0.0, "resolve_start_delay_avg": 0.0,
                              "resolve_targeted_start_delay_avg": 0.0, "request_start_delay_avg": 0.0,
                              "request_targeted_start_delay_avg": 0.0, "request_time_avg": 0.9,
                              "resolve_end_delay_avg": 0.0, "resolve_time_avg": 0.9, "finalized_delay_avg": 0.0,
                              "processed_delay_avg": 0.0},
        "metrics": metrics2(ok, bad, duration),
        "requests": {"successful": [v2_req(r, "completed") for r in kept], "incomplete": [],
                     "errored": [v2_req(r, "errored") for r in bad], "total": None},
        "start_time": start, "end_time": end, "duration": duration,
        "warmup_duration": 0.0, "cooldown_duration": 0.0,
    }


conc2_ok = [req("c0", 0.0, 128, 32, 40.0, 0.71), req("c1", 0.0, 256, 64, 60.0, 1.32),
            req("c2", 0.71, 128, 32, 50.0, 0.67), req("c3", 1.32, 192, 48, 70.0, 0.94)]
conc2_bad = [req("c4", 1.38, 128, 0, None, 0.02, "HTTPStatusError: Server error '503 Service Unavailable'")]
const2_ok = [req("k0", 5.0, 100, 20, 30.0, 0.5), req("k1", 5.5, 300, 40, 50.0, 0.8),
             req("k2", 6.0, 200, 60, 40.0, 1.1), req("k3", 6.5, 200, 80, 60.0, 1.4)]
v2 = {
    "metadata": {"version": 2, "guidellm_version": "0.7.3", "python_version": "3.12.3",
                 "platform": "Linux-6.8.0-x86_64-with-glibc2.39"},
    "config": {
        "metadata": {"labels": {}},
        "spec": {"backend": BACKEND2, "profile": {"kind": "concurrent", "streams": [2]},
                 "constraints": [{"kind": "max_seconds", "value": 30}],
                 "tokenizer": {"kind": "huggingface_auto"},
                 "data": [{"kind": "synthetic_text", "prompt_tokens": 160, "output_tokens": 40}],
                 "data_column_mapper": {"kind": "generative_column_mapper"},
                 "data_preprocessors": [{"kind": "encode_media"}], "data_finalizer": {"kind": "generative"},
                 "data_loader": {"kind": "pytorch"}, "seed": {"kind": "static", "value": 42},
                 "outputs": [{"kind": "json", "filename": "benchmarks.json"}],
                 "metrics": {"kind": "generative", "sample_size": None, "prefer_response_metrics": True}},
        "benchmarks": [None, {"profile": {"kind": "constant", "rate": [2.0]},
                              "metrics.sample_size": 2}],
    },
    "benchmarks": [
        v2_bench(0, {"type_": "concurrent", "worker_count": 2, "max_concurrency": None, "streams": 2,
                     "rampup_duration": 0.0}, conc2_ok, conc2_bad),
        v2_bench(1, {"type_": "constant", "worker_count": 1, "max_concurrency": None, "rate": 2.0,
                     "rampup_duration": 0.0}, const2_ok, [], kept_ok=2, sample=2),
    ],
}
with open("v0.7-benchmarks.json", "w") as f:
    json.dump(v2, f, indent=2)
