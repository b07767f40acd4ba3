#!/usr/bin/env python3
"""Writes the AIPerf fixtures of this directory. Every number is invented; the layout follows
AIPerf's pydantic models (see README.md). Run from this directory: python3 make_fixtures.py"""
import json, statistics

T = 1759813200000000000  # epoch ns
MODEL = "meta-llama/Llama-3.1-8B-Instruct"
# start (s after T), latency ms, ttft ms, isl, osl; concurrency 4, inter-token latency 10 ms each
reqs = [(0.0, 1000, 100, 500, 91), (0.0, 1200, 120, 520, 109), (0.0, 900, 90, 480, 82),
        (0.0, 1100, 110, 500, 100), (1.0, 1000, 100, 510, 91), (0.9, 1300, 130, 490, 118),
        (1.1, 800, 80, 500, 73)]
failed = (1.2, 50, 505)  # start, latency ms, isl

lines = []
for i, (s, lat, ttft, isl, osl) in enumerate(reqs):
    start = T + int(round(s * 1e9))
    itl = (lat - ttft) / (osl - 1)
    lines.append({
        "metadata": {"session_num": i, "x_request_id": f"req-{i}", "x_correlation_id": f"corr-{i}",
                     "conversation_id": f"conv-{i}", "turn_index": 0, "request_start_ns": start,
                     "request_ack_ns": start + 5_000_000, "request_end_ns": start + lat * 1_000_000,
                     "worker_id": f"worker_{i % 4}", "record_processor_id": "record_processor_0",
                     "benchmark_phase": "profiling", "was_cancelled": False, "cancellation_time_ns": None},
        "metrics": {"input_sequence_length": {"value": isl, "unit": "tokens"},
                    "time_to_first_token": {"value": float(ttft), "unit": "ms"},
                    "request_latency": {"value": float(lat), "unit": "ms"},
                    "output_token_count": {"value": osl, "unit": "tokens"},
                    "inter_chunk_latency": {"value": [itl] * 3, "unit": "ms"},
                    "output_sequence_length": {"value": osl, "unit": "tokens"},
                    "inter_token_latency": {"value": itl, "unit": "ms"},
                    "output_token_throughput_per_user": {"value": 1000.0 / itl, "unit": "tokens/sec/user"}},
        "error": None,
    })
s, lat, isl = failed
start = T + int(round(s * 1e9))
lines.append({
    "metadata": {"session_num": 7, "x_request_id": "req-7", "x_correlation_id": "corr-7", "conversation_id": "conv-7",
                 "turn_index": 0, "request_start_ns": start, "request_ack_ns": None,
                 "request_end_ns": start + lat * 1_000_000, "worker_id": "worker_1",
                 "record_processor_id": "record_processor_0", "benchmark_phase": "profiling",
                 "was_cancelled": False, "cancellation_time_ns": None},
    "metrics": {"error_isl": {"value": isl, "unit": "tokens"}},
    "error": {"code": 500, "type": "InternalServerError", "message": "Internal Server Error"},
})
lines.sort(key=lambda r: r["metadata"]["request_start_ns"])
with open("profile_export.jsonl", "w") as f:
    for r in lines:
        f.write(json.dumps(r) + "\n")


def pct(v, q):  # numpy's default (linear) percentile
    v = sorted(v)
    k = (len(v) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def stat(v, unit):
    d = {"unit": unit, "avg": sum(v) / len(v)}
    for q in [1, 5, 10, 25, 50, 75, 90, 95, 99]:
        d[f"p{q}"] = pct(v, q)
    d.update({"min": min(v), "max": max(v), "std": statistics.pstdev(v)})
    return d


def single(x, unit):
    return {"unit": unit, "avg": x}


dur = max(r[0] + r[1] / 1000 for r in reqs)  # 2.2 s: first send at 0
isl = [r[3] for r in reqs]
osl = [r[4] for r in reqs]
agg = {
    "request_throughput": single(len(reqs) / dur, "requests/sec"),
    "request_latency": stat([float(r[1]) for r in reqs], "ms"),
    "request_count": single(len(reqs), "requests"),
    "time_to_first_token": stat([float(r[2]) for r in reqs], "ms"),
    "inter_token_latency": stat([(r[1] - r[2]) / (r[4] - 1) for r in reqs], "ms"),
    "output_token_throughput": single(sum(osl) / dur, "tokens/sec"),
    "output_token_throughput_per_user": stat([100.0] * len(reqs), "tokens/sec/user"),
    "output_sequence_length": stat(osl, "tokens"),
    "input_sequence_length": stat(isl, "tokens"),
    "benchmark_duration": single(dur, "sec"),
    "total_isl": single(sum(isl), "tokens"),
    "total_osl": single(sum(osl), "tokens"),
    "error_request_count": single(1, "requests"),
    "input_config": {
        "endpoint": {"model_names": [MODEL], "type": "chat", "streaming": True, "url": "localhost:8000"},
        "loadgen": {"concurrency": 4, "request_count": 8},
        "cli_command": f"aiperf profile -m {MODEL} --endpoint-type chat --streaming --concurrency 4 --request-count 8",
    },
    "was_cancelled": False,
    "error_summary": [{"error_details": {"code": 500, "type": "InternalServerError",
                                         "message": "Internal Server Error"}, "count": 1}],
    "start_time": "2025-10-07T05:00:00",
    "end_time": "2025-10-07T05:00:02.200000",
}
with open("profile_export_aiperf.json", "w") as f:
    json.dump(agg, f, indent=2)


# ---- profile_export_aiperf.csv: the same figures as aiperf/exporters/csv_exporter.py writes them ----
import csv  # noqa: E402

STAT_KEYS = ["avg", "min", "max", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "std"]
HEADERS = {  # `header` of each metric class in aiperf/metrics/types/
    "request_throughput": "Request Throughput", "request_latency": "Request Latency",
    "request_count": "Request Count", "time_to_first_token": "Time to First Token",
    "inter_token_latency": "Inter Token Latency", "output_token_throughput": "Output Token Throughput",
    "output_token_throughput_per_user": "Output Token Throughput Per User",
    "output_sequence_length": "Output Sequence Length", "input_sequence_length": "Input Sequence Length",
    "benchmark_duration": "Benchmark Duration", "total_isl": "Total Input Sequence Length",
    "total_osl": "Total Output Sequence Length", "error_request_count": "Error Request Count",
}


def csv_name(tag, unit):  # CsvExporter._format_metric_name
    name = HEADERS[tag]
    return f"{name} ({unit})" if unit and unit.lower() not in {"count", "requests"} else name


def csv_number(v):  # CsvExporter._format_number
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v}"
    return f"{float(v):.2f}"


metrics_only = {k: v for k, v in agg.items() if isinstance(v, dict) and "unit" in v}
with_pct = {k: v for k, v in metrics_only.items() if any(f"p{q}" in v for q in [1, 5, 10, 25, 50, 75, 90, 95, 99])}
single_vals = {k: v for k, v in metrics_only.items() if k not in with_pct}
with open("profile_export_aiperf.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["Metric"] + STAT_KEYS)
    for tag, m in sorted(with_pct.items()):
        w.writerow([csv_name(tag, m["unit"])] + [csv_number(m.get(k)) for k in STAT_KEYS])
    w.writerow([])
    w.writerow(["Metric", "Value"])
    for tag, m in sorted(single_vals.items()):
        w.writerow([csv_name(tag, m["unit"]), csv_number(m["avg"])])
