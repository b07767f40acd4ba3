"""The Python package against the command line: same scenario, same JSON."""

import json
import os
import pathlib
import subprocess
import sys
import threading

import pytest

import servecast

ROOT = pathlib.Path(__file__).resolve().parents[2]


def servecast_bin() -> str:
    env = os.environ.get("SERVECAST_BIN")
    if env:
        return env
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(pathlib.Path(target) / "release" / "servecast")


def cli_json(*args: str):
    """The CLI's `--format json` output (the format goes before a pasted command's `--`)."""
    args = list(args)
    at = args.index("--") if "--" in args else len(args)
    args[at:at] = ["--format", "json"]
    out = subprocess.run([servecast_bin(), *args], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout)


def test_simulate_levels_equal_the_cli_json():
    p = servecast.simulate(gpu="4090", util=0.5, seqs=50)
    cli = cli_json("simulate", "--gpu", "4090", "--util", "0.5", "--seqs", "50")
    assert p["levels"] == cli["levels"]
    # The whole document, not just the levels.
    assert p == cli
    assert p["measured"]["report"] == "rtx4090-indextts2-gpt-vllm0.10"


def test_step_time_names_where_a_step_goes():
    p = servecast.simulate(gpu="4090", util=0.5, seqs=50)
    rows = p["step_time"]
    assert [r["decode_seqs"] for r in rows] == [1, 8, 50, 0]
    # Seed 000 measured 271.99 output tokens/s at one user: at most 3.68 ms per token.
    one = rows[0]["step_s"]
    assert abs(one / (1 / 271.99) - 1) < 0.05, one
    assert rows[-1]["step_s"] > rows[0]["step_s"]


def test_simulate_with_load_and_vllm_flags_equals_the_cli():
    p = servecast.simulate(
        gpu="a100-80g",
        model="qwen2.5-7b-instruct",
        qps=[2, "inf"],
        num_requests=40,
        input_len=512,
        output_len="100..300",
        max_model_len=4096,
        enable_prefix_caching=False,
    )
    cli = cli_json(
        "simulate", "--gpu", "a100-80g", "--model", "qwen2.5-7b-instruct", "--qps", "2,inf", "--num-requests", "40",
        "--input-len", "512", "--output-len", "100..300", "--max-model-len", "4096", "--no-enable-prefix-caching",
    )  # fmt: skip
    assert p == cli
    assert p["levels"][1]["qps"] == "inf"
    assert p["scenario"]["engine"]["max_model_len"] == 4096


def test_client_draws_send_requests_as_the_cli_does():
    p = servecast.simulate(
        gpu="h100-sxm",
        model="llama-3.1-8b",
        qps=[10],
        num_requests=200,
        input_len=128,
        output_len=16,
        client_draws={"numpy_seed": 0, "normalized_span": True},
    )
    cli = cli_json(
        "simulate", "--gpu", "h100-sxm", "--model", "llama-3.1-8b", "--qps", "10", "--num-requests", "200",
        "--input-len", "128", "--output-len", "16", "--client-seed", "0", "--client-normalized-span",
    )  # fmt: skip
    assert p == cli
    # vLLM >= 0.10's client sends the last of 200 requests at 10 req/s at exactly 20 s.
    assert 20.0 < p["levels"][0]["duration_s"] < 20.9


def test_warm_prefix_cache_replays_the_first_levels_prompts_as_the_cli_does():
    p = servecast.simulate(
        gpu="a100-80g",
        model="qwen2.5-7b-instruct",
        qps=["inf", "inf"],
        num_requests=40,
        input_len=512,
        output_len=64,
        warm_prefix_cache=True,
    )
    cli = cli_json(
        "simulate", "--gpu", "a100-80g", "--model", "qwen2.5-7b-instruct", "--qps", "inf,inf", "--num-requests", "40",
        "--input-len", "512", "--output-len", "64", "--warm-prefix-cache",
    )  # fmt: skip
    assert p == cli
    # 40 prompts of 512 tokens: 31 full blocks of 16 each hit (vLLM recomputes the last token).
    assert [lv["engine"]["prefix_hit_tokens"] for lv in p["levels"]] == [0, 40 * 496]


def test_chat_endpoint_adds_the_models_template_as_the_cli_does():
    p = servecast.simulate(
        gpu="a100-80g", model="qwen2.5-7b-instruct", concurrency=[1], requests_per_user=4,
        input_len=300, output_len=32, endpoint="chat",
    )  # fmt: skip
    cli = cli_json(
        "simulate", "--gpu", "a100-80g", "--model", "qwen2.5-7b-instruct", "--concurrency", "1",
        "--requests-per-user", "4", "--input-len", "300", "--output-len", "32", "--endpoint", "chat",
    )  # fmt: skip
    assert p == cli
    # Qwen2.5's template: 23 tokens before the message, 5 after; the first 16 of the 23 are one
    # full block every request after the first finds in the prefix cache.
    level = p["levels"][0]
    assert level["input_tokens"]["mean"] == 300 + 28
    assert level["engine"]["prefix_hit_tokens"] == 3 * 16


def test_invalid_gpu_raises_servecast_error_with_the_catalog_message():
    with pytest.raises(servecast.ServecastError) as e:
        servecast.simulate(gpu="nonexistent-gpu-9000")
    assert isinstance(e.value, ValueError)
    out = subprocess.run(
        [servecast_bin(), "simulate", "--gpu", "nonexistent-gpu-9000"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode != 0
    assert out.stderr.strip() == f"error: {e.value}"
    assert "nonexistent-gpu-9000" in str(e.value)


def test_unknown_vllm_flag_is_refused_in_vllms_words():
    with pytest.raises(servecast.ServecastError, match="max-num-seq"):
        servecast.simulate(gpu="4090", max_num_seq=8)


def test_refused_configuration_raises():
    # 0.01 of a 4090 cannot hold the weights: vLLM would not start.
    with pytest.raises(servecast.ServecastError):
        servecast.memory(gpu="4090", model="qwen2.5-7b-instruct", util=0.01)


def test_memory_is_simulates_memory_section():
    m = servecast.memory(gpu="4090", util=0.5, seqs=50)
    p = servecast.simulate(gpu="4090", util=0.5, seqs=50)
    assert m == p["memory"]
    assert m["num_gpu_blocks"] > 0


def test_serve_line_parses_flags():
    cmd = servecast.serve_line(
        "vllm serve Qwen/Qwen2.5-7B-Instruct --max-num-seqs 64 --gpu-memory-utilization 0.85 "
        "--enable-prefix-caching --port 8000 -tp 2"
    )
    assert cmd["model"] == "Qwen/Qwen2.5-7B-Instruct"
    assert cmd["flags"]["max_num_seqs"] == 64
    assert cmd["flags"]["gpu_memory_utilization"] == 0.85
    assert cmd["flags"]["enable_prefix_caching"] is True
    assert cmd["flags"]["tensor_parallel_size"] == 2
    assert "--port 8000" in cmd["ignored"]
    with pytest.raises(servecast.ServecastError):
        servecast.serve_line("vllm serve m --no-such-flag 3")


def test_simulate_takes_a_pasted_command():
    line = "vllm serve Qwen/Qwen2.5-7B-Instruct --max-num-seqs 32 --max-model-len 8192"
    p = servecast.simulate(gpu="a10", serve=line, concurrency=[1, 4], output_len=64)
    cli = cli_json("simulate", "--gpu", "a10", "--concurrency", "1,4", "--output-len", "64", "--", *line.split())
    assert p == cli
    assert [lvl["concurrency"] for lvl in p["levels"]] == [1, 4]


def test_catalog_lists_gpus_and_models():
    c = servecast.catalog()
    gpu_ids = [g["id"] for g in c["gpus"]]
    # 'a100-80g' (as --gpu takes it) is the family of the SXM and PCIe cards.
    assert {"a100-80g-sxm", "a100-80g-pcie"} <= set(gpu_ids)
    assert any("A100-80G" in g["aliases"] for g in c["gpus"])
    assert "rtx-4090" in gpu_ids
    assert any(m["id"] == "qwen2.5-7b-instruct" for m in c["models"])


def test_plan_equals_the_cli():
    args = dict(gpu="4090", slo="ttft_p95_ms=500", duration_s=20)
    p = servecast.plan(**args)
    cli = cli_json("plan", "--gpu", "4090", "--slo", "ttft_p95_ms=500", "--duration-s", "20")
    assert p == cli


def test_sweep_equals_the_cli():
    s = servecast.sweep(["seqs=16,32"], gpu="4090", concurrency=8)
    cli = cli_json("sweep", "--gpu", "4090", "--concurrency", "8", "--axis", "seqs=16,32", "--quiet")
    assert s == cli


def test_simulations_run_in_threads():
    results = [None] * 2

    def run(i):
        results[i] = servecast.simulate(gpu="4090", util=0.5, seqs=50)["levels"]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0] == results[1]


def test_to_pandas_has_one_row_per_level():
    pd = pytest.importorskip("pandas")
    p = servecast.simulate(gpu="4090", util=0.5, seqs=50)
    df = servecast.to_pandas(p)
    assert isinstance(df, pd.DataFrame)
    assert len(df) == len(p["levels"])
    assert list(df["concurrency"]) == [lvl["concurrency"] for lvl in p["levels"]]
    assert "ttft_ms.p95" in df.columns


def test_readme_example_prints_what_the_readme_says(tmp_path):
    pytest.importorskip("pandas")
    text = (ROOT / "README.md").read_text()
    section = text.split("### From Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    expected = section.split("```text\n", 1)[1].split("```", 1)[0]
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout == expected


def test_failed_requests_warn_and_have_null_figures():
    # A 313-character text is longer than max_model_len 512 for VoxCPM: every request fails.
    with pytest.warns(servecast.ServecastWarning, match="failed"):
        p = servecast.simulate(
            gpu="4090", model="voxcpm-1.5", engine="nano-vllm", util=0.4, seqs=128, max_model_len=512,
            text_chars=313, concurrency=1, requests_per_user=1,
        )  # fmt: skip
    assert p["levels"][0]["failed"] == 1
    assert p["levels"][0]["ttft_ms"] is None


def test_fit_returns_the_cli_json_and_writes_a_profile_simulate_takes(tmp_path):
    profile = tmp_path / "fitted.yaml"
    report = "rtx4090-indextts2-gpt-vllm0.10"
    fit = servecast.fit(report, hold_out=[64], output=profile)
    cli = cli_json("fit", report, "--hold-out", "64", "-o", str(profile))
    for doc in (fit, cli):
        doc.pop("elapsed_s")
    assert fit == cli
    assert fit["reports"] == [report] and fit["profile_written"] == str(profile)
    held = [lvl for lvl in fit["levels"] if not lvl["in_fit"]]
    assert [lvl["comparison"]["concurrency"] for lvl in held] == [64]
    # Each term says how far the data moved it from the learned prior.
    assert all("prior" in p["origin"] for p in fit["params"])
    assert profile.exists()
    p = servecast.simulate(gpu="4090", util=0.5, seqs=50, profile=profile)
    assert p["profile"]["kind"] == "fitted"
    pytest.importorskip("pandas")
    frame = fit.to_pandas()
    assert set(frame["in_fit"]) == {True, False}
    row = frame[(frame["concurrency"] == 1) & (frame["name"] == "output_throughput_tok_s")].iloc[0]
    assert row["measured"] == 271.99  # seed 000, c=1, as the report prints it
    assert abs(row["predicted"] / row["measured"] - 1 - row["error_pct"] / 100) < 1e-9


def test_fit_takes_the_endpoint_of_files_that_do_not_say_as_the_cli_does():
    result = os.path.join(ROOT, "tests", "data", "import", "vllm", "v0.11-vllm-bench-serve-append-result.json")
    chat = servecast.fit(result, gpu="h100-sxm", endpoint="chat")
    cli = cli_json("fit", result, "--gpu", "h100-sxm", "--endpoint", "chat")
    for doc in (chat, cli):
        doc.pop("elapsed_s")
    assert chat == cli
    plain = servecast.fit(result, gpu="h100-sxm")

    def render(doc):
        return next(p for p in doc["params"] if p["name"] == "api_server_chat_request_s")

    # Completions leave the Jinja render term where the prior put it; chat requests move it.
    assert render(plain)["origin"].endswith("(+0.0σ)")
    assert render(chat)["value"] != render(plain)["value"]


def test_options_are_checked():
    with pytest.raises(servecast.ServecastError, match="gpu is required"):
        servecast.simulate()
    with pytest.raises(servecast.ServecastError, match="same flag"):
        servecast.simulate(gpu="4090", util=0.5, gpu_memory_utilization=0.6)
    with pytest.raises(servecast.ServecastError, match="unrecognized arguments: --bogus"):
        servecast.simulate(gpu="4090", bogus=1)


SHARDED_SWEEP = dict(
    axes=["max_num_seqs=16,32,64", "util=0.6,0.9"], gpu="a100-80g", model="llama-3.1-8b", qps=[4, 8], num_requests=60
)


def test_a_sweep_in_four_shards_merged_equals_the_unsharded_sweep(tmp_path):
    whole = servecast.sweep(**SHARDED_SWEEP)
    files = []
    for k in range(4):
        out = tmp_path / f"shard-{k}.jsonl"
        # A shard's own document holds only its rows; the tuple and the "k/n" text are the same.
        part = servecast.sweep(**SHARDED_SWEEP, shard=(k, 4) if k % 2 else f"{k}/4", output=out)
        assert part and {r["config"] % 4 for r in part} == {k}
        files.append(out)
    merged = servecast.sweep_merge(list(reversed(files)))
    assert merged == whole
    assert len(whole) == 3 * 2 * 2  # configurations × load levels, ranked
    assert sorted(r["config"] for r in whole) == sorted(list(range(6)) * 2)
    # The CLI merges the package's shards into the same document.
    cli = cli_json("sweep-merge", *map(str, files))
    assert cli == whole


def test_sweep_merge_refuses_a_missing_or_doubled_shard(tmp_path):
    files = []
    for k in range(2):
        out = tmp_path / f"shard-{k}.jsonl"
        servecast.sweep(**SHARDED_SWEEP, shard=(k, 2), output=out)
        files.append(out)
    with pytest.raises(servecast.ServecastError, match="given twice"):
        servecast.sweep_merge([files[0], files[0]])
    with pytest.raises(servecast.ServecastError, match="shard"):
        servecast.sweep_merge([files[0]])
    with pytest.raises(servecast.ServecastError, match="I/N"):
        servecast.sweep(**SHARDED_SWEEP, shard="4/4", output=tmp_path / "x.jsonl")
    with pytest.raises(servecast.ServecastError, match="-o FILE.jsonl"):
        servecast.sweep(**SHARDED_SWEEP, shard=(0, 2))


def test_the_gil_is_released_while_a_simulation_runs():
    # A simulation of ~0.7 s in a thread; the main thread keeps running Python meanwhile. Were the
    # GIL held, the main thread would stall for the whole simulation.
    import time

    started = threading.Event()
    done = {}

    def run():
        started.set()
        t0 = time.perf_counter()
        servecast.simulate(gpu="a100-80g", model="llama-3.1-8b", qps=8, num_requests=200_000)
        done["s"] = time.perf_counter() - t0

    t = threading.Thread(target=run)
    t.start()
    started.wait()
    first = last = time.perf_counter()
    longest_stall = 0.0
    while t.is_alive():
        now = time.perf_counter()
        longest_stall = max(longest_stall, now - last)
        last = now
    t.join()
    assert done["s"] > 0.2, done
    # The main thread ran through most of the simulation (a call holding the GIL would let it
    # resume only once the call returned) and never stalled for long.
    assert last - first > 0.5 * done["s"], (last - first, done["s"])
    assert longest_stall < 0.25 * done["s"], (longest_stall, done["s"])


def test_the_type_stubs_match_the_functions():
    import ast
    import inspect

    stub = ast.parse((pathlib.Path(servecast.__file__).parent / "__init__.pyi").read_text())
    stubbed = {f.name: f for f in stub.body if isinstance(f, ast.FunctionDef)}
    public = [n for n in servecast.__all__ if inspect.isfunction(getattr(servecast, n))]
    assert sorted(stubbed) == sorted(public)
    for name in public:
        sig = inspect.signature(getattr(servecast, name))
        f = stubbed[name].args
        names = [a.arg for a in f.posonlyargs + f.args]
        assert names == [p for p, v in sig.parameters.items() if v.kind is not v.VAR_KEYWORD], name
        assert (f.kwarg is not None) == any(v.kind is v.VAR_KEYWORD for v in sig.parameters.values()), name
        defaults = [ast.literal_eval(d) for d in f.defaults]
        runtime = [v.default for v in sig.parameters.values() if v.default is not inspect.Parameter.empty]
        assert defaults == runtime, name
        # Keyword-only names in a stub document the servecast options the function takes
        # through its **keywords (the rest are vLLM flags).
        assert {a.arg for a in f.kwonlyargs} <= set(servecast._OWN_KEYWORDS) | {"tp"}, name


def test_the_package_readme_runs(tmp_path):
    # python/README.md (the package's page) shows calls without their output: they must run.
    text = (ROOT / "python" / "README.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path)


def test_every_result_has_to_pandas():
    pytest.importorskip("pandas")
    p = servecast.simulate(gpu="4090", util=0.5, seqs=50)
    assert isinstance(p, dict) and isinstance(p, servecast.Result)
    frame = p.to_pandas()
    assert list(frame["concurrency"]) == [lvl["concurrency"] for lvl in p["levels"]]
    rows = servecast.sweep(["seqs=16,32"], gpu="4090", concurrency=[4, 8])
    assert isinstance(rows, list)
    frame = rows.to_pandas()
    assert list(frame["rank"]) == [1, 2, 3, 4]
    assert list(frame["config"]) == [r["config"] for r in rows]
    assert frame["request_throughput_req_s"].is_monotonic_decreasing  # ranked by it
    cheapest = servecast.plan("ttft_p95_ms=500", gpu="a10", target_qps=5, gpus=["a10", "l40s"]).to_pandas()
    assert len(cheapest) >= 1 and cheapest["price_usd_per_hour"].is_monotonic_increasing
    slo = servecast.plan("ttft_p95_ms=500", gpu="4090", util=0.5, seqs=50).to_pandas()
    assert slo.loc["at_max", "check.met"] and not slo.loc["above", "check.met"]
    with pytest.raises(TypeError):
        servecast.to_pandas(3)


def test_simulate_writes_per_request_records_and_charts(tmp_path):
    records, curve = tmp_path / "requests.csv", tmp_path / "curve.png"
    p = servecast.simulate(gpu="4090", util=0.5, seqs=50, per_request=records, plot=curve)
    lines = records.read_text().splitlines()
    # A header, then one record per request of every level (seed 000: 10 requests per user).
    assert len(lines) - 1 == sum(level["requests"] for level in p["levels"]) == 1250
    assert curve.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(servecast.ServecastError):
        servecast.simulate(gpu="4090", util=0.5, seqs=50, per_request=tmp_path / "records.txt")


def test_random_range_ratio_draws_lengths_as_the_cli_does():
    p = servecast.simulate(
        gpu="h100-sxm", model="llama-3.1-8b", engine="0.11.0", qps=[2], num_requests=30,
        input_len=1000, output_len=100, random_range_ratio=0.5,
    )  # fmt: skip
    assert p["scenario"]["workload"]["input_len"] == {"kind": "uniform", "min": 500, "max": 1500}
    assert p["scenario"]["workload"]["output_len"] == {"kind": "uniform", "min": 50, "max": 150}


def test_a_pasted_client_command_is_the_load_it_sends():
    line = (
        "vllm bench serve --dataset-name random --random-input-len 700 --num-prompts 40 --request-rate 3"
        " --ready-check-timeout-sec 0"
    )
    p = servecast.simulate(gpu="h100-sxm", model="llama-3.1-8b", client=line)
    q = servecast.simulate(
        gpu="h100-sxm", model="llama-3.1-8b", qps=[3], num_requests=40, input_len=700, output_len=128,
    )  # fmt: skip
    assert p["levels"] == q["levels"]
    # By default the client first sends prompt 0 once: the first request then finds its full
    # blocks cached (699 of 700 tokens to reuse → 43 blocks of 16 = 688 tokens).
    d = servecast.simulate(
        gpu="h100-sxm", model="llama-3.1-8b", client=line.replace(" --ready-check-timeout-sec 0", "")
    )
    assert d["scenario"]["workload"]["initial_test_run"] is True
    assert d["levels"][0]["engine"]["prefix_hit_tokens"] == 688
    assert p["levels"][0]["engine"]["prefix_hit_tokens"] == 0


def test_a_pasted_llmperf_command_keeps_its_threads_in_flight():
    # llmperf: 4 threads, 20 requests, 300-token prompts and 50-token answers, always chat.
    line = (
        "python token_benchmark_ray.py --model meta-llama/Meta-Llama-3-8B-Instruct --mean-input-tokens 300 "
        "--stddev-input-tokens 0 --mean-output-tokens 50 --stddev-output-tokens 0 "
        "--num-concurrent-requests 4 --max-num-completed-requests 20"
    )
    p = servecast.simulate(gpu="a10g", client=line)
    level = p["levels"][0]
    assert level["concurrency"] == 4
    assert level["requests"] == 20
    assert level["output_tokens"]["mean"] == 50
    # Sent to chat: Llama 3's template adds 5 tokens before the prompt and 5 after.
    assert level["input_tokens"]["mean"] == 300 + 10


def test_an_offline_benchmark_command_starts_the_llm_class_engine_as_the_cli_does():
    # vllm bench throughput: its engine flags are the engine's; every prompt goes at once.
    line = (
        "vllm bench throughput --model meta-llama/Llama-3.1-8B-Instruct --input-len 512 "
        "--output-len 64 --num-prompts 100 --max-num-seqs 64"
    )
    p = servecast.simulate(gpu="h100-sxm", engine="0.11.0", client=line)
    assert p["scenario"]["engine"]["usage_context"] == "llm_class"
    assert p["scenario"]["engine"]["max_num_seqs"] == 64
    assert p["levels"][0]["requests"] == 100
    assert p == cli_json("simulate", "--gpu", "h100-sxm", "--engine", "0.11.0", "--client", line)


def test_the_ideal_profile_bounds_what_any_run_can_reach():
    # An ideal GPU (every roofline efficiency at 100%, no host time) for the default 4090 run:
    # every level comes out faster than under seed 000's fitted profile.
    ideal = servecast.simulate(gpu="4090", util=0.5, seqs=50, profile="ideal")
    fitted = servecast.simulate(gpu="4090", util=0.5, seqs=50)
    assert ideal["profile"]["kind"] == "ideal"
    assert len(ideal["levels"]) == len(fitted["levels"]) == 6
    for a, b in zip(ideal["levels"], fitted["levels"]):
        assert a["output_throughput_tok_s"] > b["output_throughput_tok_s"]
        assert a["ttft_ms"]["mean"] < b["ttft_ms"]["mean"]
