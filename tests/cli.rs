//! The command line as a user meets it: exit codes, vLLM's words on refusal, no panics.

use std::process::Command;

fn servecast(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_servecast"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `args` then `extra`, expects exit 0 and returns the JSON document it printed.
fn json_of(args: &[&str], extra: &[&str]) -> serde_json::Value {
    let all: Vec<&str> = args.iter().chain(extra).copied().collect();
    let (code, out, err) = servecast(&all);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn default_run_prints_six_levels_with_measured_figures() {
    let (code, out, err) = servecast(&[
        "simulate", "--gpu", "4090", "--util", "0.5", "--seqs", "50", "--format", "markdown",
    ]);
    assert_eq!(code, 0, "{err}");
    for c in [1, 4, 8, 16, 32, 64] {
        assert!(
            out.contains(&format!("## Concurrency Level: {c}\n")),
            "level {c} missing"
        );
    }
    assert!(out.contains("Maximum concurrency for 1,818 tokens per request: 51.20x"));
    assert!(out.contains("(fitted)"));
    assert!(
        out.contains("measured 26.95 s"),
        "measured total time shown beside the prediction"
    );
    assert!(
        err.contains("rtx4090-indextts2-gpt-vllm0.10"),
        "says which report it used: {err}"
    );
}

#[test]
fn a_changed_scenario_shows_no_measured_figures() {
    let (code, out, _) = servecast(&[
        "simulate",
        "--gpu",
        "4090",
        "--requests-per-user",
        "5",
        "--output-len",
        "1182",
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 0);
    assert!(
        !out.contains("measured"),
        "measured figures only for the measured scenario"
    );
    assert!(out.contains("*   **Successful requests:** 5\n"), "c=1 × 5 requests");
    assert!(out.contains("| 1182.00 | 1182.00 |"), "output length overridden");
}

#[test]
fn json_has_the_documented_schema() {
    let (code, out, _) = servecast(&["simulate", "--gpu", "4090", "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    for k in ["scenario", "profile", "memory", "levels"] {
        assert!(v.get(k).is_some(), "{k}");
    }
    for k in [
        "total_bytes",
        "requested_bytes",
        "weights_bytes",
        "activation_peak_bytes",
        "non_torch_bytes",
        "kv_cache_bytes",
        "block_bytes",
        "num_gpu_blocks",
        "kv_cache_tokens",
        "max_concurrency",
    ] {
        assert!(v["memory"].get(k).is_some(), "memory.{k}");
    }
    let level = &v["levels"][0];
    for k in [
        "concurrency",
        "requests",
        "duration_s",
        "request_throughput_req_s",
        "output_throughput_tok_s",
        "total_throughput_tok_s",
    ] {
        assert!(level.get(k).is_some(), "levels[0].{k}");
    }
    for k in [
        "ttft_ms",
        "tpot_ms",
        "itl_ms",
        "e2e_latency_ms",
        "queue_ms",
        "output_tokens",
        "input_tokens",
    ] {
        for s in ["min", "max", "mean", "p50", "p95", "p99"] {
            assert!(level[k].get(s).is_some(), "levels[0].{k}.{s}");
        }
    }
    assert_eq!(v["memory"]["num_gpu_blocks"], 5837);
}

#[test]
fn refused_config_exits_2_with_vllm_words() {
    let (code, _, err) = servecast(&[
        "simulate",
        "--gpu",
        "l40s",
        "--model",
        "qwen2-0.5b-instruct",
        "--engine",
        "vllm-0.6",
        "--max-num-batched-tokens",
        "535",
        "--concurrency",
        "1",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("ValueError: max_num_batched_tokens (535) is smaller than max_model_len (32768)."),
        "{err}"
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    for args in [
        vec!["simulate", "--gpu", "rtx 4080"],
        vec!["simulate", "--gpu", "4090", "--util", "1.5"],
        vec!["simulate", "--gpu", "4090", "--output-len", "0"],
        vec!["simulate", "--gpu", "4090", "--input-len=-3"],
        vec!["simulate", "--gpu", "4090", "--model", "no-such-model"],
        vec!["simulate", "--gpu", "4090", "--workload", "/nonexistent.yaml"],
        vec!["simulate", "--gpu", "4090", "--profile", "nope"],
        vec!["simulate", "--gpu", "4090", "--format", "xml"],
        vec!["simulate", "--gpu", "4090", "--engine", "tgi"],
    ] {
        let (code, _, err) = servecast(&args);
        assert!(code == 1 || code == 2, "{args:?}: exit {code}");
        assert!(err.contains("error: "), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn malformed_workload_file_names_line_and_field() {
    let dir = std::env::temp_dir().join(format!("servecast-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w.yaml");
    std::fs::write(
        &path,
        "load:\n  kind: closed_loop\n  concurrency: [1, 2]\n  requests_per_user: 3\ninput_len: {kind: fixed, tokens: 10}\noutput_len: {kind: uniform, min: 10, maxx: 20}\n",
    )
    .unwrap();
    let (code, _, err) = servecast(&["simulate", "--gpu", "4090", "--workload", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("w.yaml:6:"), "line named: {err}");
    assert!(err.contains("maxx"), "field named: {err}");
    std::fs::write(
        &path,
        "load:\n  kind: closed_loop\n  concurrency: [1, 2]\n  requests_per_user: 3\ninput_len: {kind: fixed, tokens: 10}\noutput_len: {kind: uniform, min: 10, max: 20}\n",
    )
    .unwrap();
    let (code, out, err) = servecast(&[
        "simulate",
        "--gpu",
        "4090",
        "--workload",
        path.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 3, "header + two levels: {out}");
}

#[test]
fn model_from_a_config_json() {
    let dir = std::env::temp_dir().join(format!("servecast-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.json");
    std::fs::write(
        &path,
        r#"{"architectures":["Qwen2ForCausalLM"],"hidden_size":896,"intermediate_size":4864,"max_position_embeddings":32768,"num_attention_heads":14,"num_hidden_layers":24,"num_key_value_heads":2,"tie_word_embeddings":true,"torch_dtype":"bfloat16","vocab_size":151936}"#,
    )
    .unwrap();
    let (code, out, err) = servecast(&[
        "simulate",
        "--gpu",
        "a10",
        "--model",
        path.to_str().unwrap(),
        "--max-model-len",
        "4096",
        "--concurrency",
        "1,8",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // Qwen2-0.5B: 2 × 24 layers × 2 KV heads × 64 × 2 bytes × 16 tokens = 196,608 bytes per block.
    assert_eq!(v["memory"]["block_bytes"], 196_608);
    assert_eq!(v["profile"]["kind"], "prior");
}

#[test]
fn roofline_profile_follows_the_engine_and_a_foreign_one_is_refused() {
    let base = [
        "simulate",
        "--gpu",
        "l40s",
        "--model",
        "qwen2-0.5b",
        "--concurrency",
        "4",
        "--engine",
        "vllm-0.6",
    ];
    let (code, out, err) = servecast(&[&base[..], &["--profile", "roofline", "--format", "json"]].concat());
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["profile"]["id"], "prior.vllm-0.6-0.7.ada",
        "the learned prior of V0 0.6 on Ada"
    );
    // An explicit prior of another engine would put V1's overheads under V0's scheduler.
    let (code, _, err) = servecast(&[&base[..], &["--profile", "roofline.vllm-0.10"]].concat());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("holds the priors of vllm-0.10, but the scenario runs vllm-0.6"),
        "{err}"
    );
}

#[test]
fn sweep_and_plan_reject_bad_input_without_panicking() {
    for args in [
        vec!["sweep", "--gpu", "4090", "--axis", "warp=1,2"],
        vec!["sweep", "--gpu", "4090", "--axis", "util=0.5,1.5"],
        vec!["sweep", "--gpu", "4090", "--axis", "seqs=8..64"],
        vec!["sweep", "--gpu", "4090", "--axis", "seqs=8", "--samples", "0"],
        vec!["sweep", "--gpu", "4090", "--axis", "seqs=8", "--rank-by", "speed"],
        vec!["sweep", "--gpu", "4090", "--axis", "seqs=8", "-o", "/tmp/rows.txt"],
        vec!["sweep", "--gpu", "4090", "--axis", "gpu=rtx-9999"],
        vec!["sweep", "--gpu", "4090", "--axis", "seqs=8..64", "--samples", "2000000"],
        vec!["sweep", "--gpu", "4090", "--axis", "seqs=8", "--config-timeout", "-1"],
        vec!["sweep", "--gpu", "4090", "--axis", "seqs=8", "--config-timeout", "nan"],
        vec!["plan", "--gpu", "a10", "--slo", "ttft=5"],
        vec!["plan", "--gpu", "a10", "--slo", "ttft_p95_ms=500", "--load", "bursty"],
        vec!["plan", "--gpu", "a10", "--slo", "ttft_p95_ms=500", "--target-qps", "-1"],
        vec![
            "plan",
            "--gpu",
            "a10",
            "--slo",
            "ttft_p95_ms=500",
            "--target-qps",
            "5",
            "--gpus",
            "tpu-v5",
        ],
        vec!["simulate", "--gpu", "4090", "--replications", "0"],
    ] {
        let (code, _, err) = servecast(&args);
        assert!(code == 1 || code == 2, "{args:?}: exit {code}: {err}");
        assert!(err.contains("error: "), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn sweep_lists_refused_configs_with_vllms_words_and_writes_csv() {
    let csv = std::env::temp_dir().join(format!("servecast-sweep-{}.csv", std::process::id()));
    let csv_arg = csv.display().to_string();
    let (code, out, err) = servecast(&[
        "sweep",
        "--gpu",
        "l40s",
        "--quiet",
        "--axis",
        "max_num_batched_tokens=535,8192",
        "--axis",
        "enable_chunked_prefill=false",
        "-o",
        &csv_arg,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 configurations: 0 simulated rows, 2 refused"), "{out}");
    assert!(
        out.contains("ValueError: max_num_batched_tokens (535) is smaller than max_model_len (32768)"),
        "{out}"
    );
    let text = std::fs::read_to_string(&csv).expect("CSV written");
    let _ = std::fs::remove_file(&csv);
    assert_eq!(text.lines().count(), 3, "header + 2 rows");
    assert!(text
        .lines()
        .next()
        .is_some_and(|h| h.starts_with("config,max_num_batched_tokens,enable_chunked_prefill,outcome")));
    assert_eq!(text.matches(",refused,").count(), 2);
}

#[test]
fn plan_json_answers_and_shows_the_breaking_load() {
    let (code, out, err) = servecast(&[
        "plan",
        "--gpu",
        "a10",
        "--slo",
        "ttft_p95_ms=500,tpot_p95_ms=50",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let max = v["answer"]["max_load"].as_f64().expect("a load meets the SLO");
    let above = v["answer"]["above"]["load"].as_f64().expect("the +10% load");
    assert!((above / max - 1.1).abs() < 1e-9);
    assert_eq!(v["answer"]["at_max"]["check"]["met"], true);
    assert_eq!(v["answer"]["above"]["check"]["met"], false);
}

// ---------------------------------------------------------------------------------------------
// Issue 13: what a new user met, one test per finding.

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("servecast-cli-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

const SMALL: [&str; 6] = ["--gpu", "a10", "--model", "llama-3.1-8b", "--max-model-len", "4096"];

fn with(base: &[&str], more: &[&str]) -> Vec<String> {
    base.iter().chain(more).map(|s| s.to_string()).collect()
}

fn run(args: &[String]) -> (i32, String, String) {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    servecast(&refs)
}

#[test]
fn a_vllm_054_result_with_zero_token_completions_is_fitted() {
    // 24 completed prompts, 3 recorded with 0 output tokens (the 0.5.4 client re-tokenised the
    // text): it used to be refused with "is 24 but the per-request arrays hold 21".
    let file = data("import/vllm/v0.5.4-benchmark_serving-zero-token-completions.json");
    let (code, out, err) = servecast(&[
        "fit",
        &file,
        "--gpu",
        "a10",
        "--engine",
        "vllm-0.5",
        "--max-model-len",
        "4096",
    ]);
    assert_eq!(code, 0, "{err}");
    // The file's model_id (meta-llama/Meta-Llama-3.1-8B-Instruct) names the model.
    assert!(out.contains("llama-3.1-8b"), "{out}");
    assert!(!err.contains("per-request arrays hold"), "{err}");
}

#[test]
fn fit_without_model_and_an_unknown_model_id_names_the_field() {
    let dir = temp_dir("modelid");
    let text = std::fs::read_to_string(data("import/vllm/v0.5.4-benchmark_serving-zero-token-completions.json"))
        .unwrap()
        .replace("meta-llama/Meta-Llama-3.1-8B-Instruct", "acme/unknown-13b");
    let file = dir.join("r.json");
    std::fs::write(&file, text).unwrap();
    let (code, _, err) = servecast(&["fit", file.to_str().unwrap(), "--gpu", "a10"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("model_id") && err.contains("acme/unknown-13b") && err.contains("config.json"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_trace_yaml_needs_no_dummy_lengths_and_may_be_long() {
    let dir = temp_dir("trace");
    let mut yaml = String::from("load:\n  kind: trace\n  requests:\n");
    for i in 0..40_000 {
        yaml.push_str(&format!(
            "    - {{arrival_s: {}, input_tokens: 8, output_tokens: 2}}\n",
            f64::from(i) * 0.001
        ));
    }
    let file = dir.join("trace.yaml");
    std::fs::write(&file, yaml).unwrap();
    let (code, out, err) = servecast(&[
        "simulate",
        "--gpu",
        "h100-sxm",
        "--model",
        "qwen2-0.5b-instruct",
        "--workload",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("## Trace replay") && out.contains("Successful requests:** 40000"),
        "{out}"
    );
    assert!(
        out.contains("a trace of 40000 requests"),
        "the header states the workload"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn csv_and_jsonl_traces_are_read() {
    let dir = temp_dir("csvtrace");
    let csv = dir.join("azure.csv");
    std::fs::write(
        &csv,
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.5,120,30\n2023-11-16 18:15:47.0,80,10\n",
    )
    .unwrap();
    let (code, out, err) = servecast(&[
        "simulate",
        "--gpu",
        "h100-sxm",
        "--model",
        "qwen2-0.5b-instruct",
        "--workload",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("a trace of 2 requests over 0.5 s"), "{out}");
    let jsonl = dir.join("mooncake.jsonl");
    std::fs::write(
        &jsonl,
        "{\"timestamp\": 0, \"input_length\": 100, \"output_length\": 5, \"hash_ids\": [1]}\n{\"timestamp\": 2000, \"input_length\": 50, \"output_length\": 5, \"hash_ids\": [2]}\n",
    )
    .unwrap();
    let (code, out, err) = servecast(&[
        "simulate",
        "--gpu",
        "h100-sxm",
        "--model",
        "qwen2-0.5b-instruct",
        "--workload",
        jsonl.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("a trace of 2 requests over 2.0 s"),
        "Mooncake timestamps are ms: {out}"
    );
    std::fs::write(&csv, "when,prompt\n1,2\n").unwrap();
    let (code, _, err) = servecast(&["simulate", "--gpu", "a10", "--workload", csv.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("azure.csv") && err.contains("header"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn qps_inf_alone_sends_everything_at_once_and_json_says_inf() {
    let (code, out, err) = run(&with(
        &SMALL,
        &["simulate", "--qps", "inf", "--num-requests", "20", "--format", "json"],
    )[6..]
        .iter()
        .cloned()
        .chain(SMALL.iter().map(|s| s.to_string()))
        .collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["levels"][0]["qps"], "inf", "not null");
    assert_eq!(doc["scenario"]["workload"]["load"]["qps"][0], "inf");
}

#[test]
fn workload_takes_a_load_test_result_and_shows_measured_beside_predicted() {
    let file = data("synthetic-vllm-bench-llama3.1-8b-a100-c16.json");
    let (code, out, err) = servecast(&[
        "simulate",
        "--gpu",
        "a100-80g-sxm",
        "--model",
        "llama-3.1-8b",
        "--max-model-len",
        "8192",
        "--workload",
        &file,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("replaying"), "{err}");
    assert!(out.contains("measured TTFT (ms)"), "{out}");
    assert!(
        out.contains("error = (predicted − measured) ÷ measured"),
        "the convention is stated"
    );
}

#[test]
fn a_pasted_vllm_serve_line_sets_model_and_flags() {
    let (code, out, err) = servecast(&[
        "simulate",
        "--gpu",
        "h100-sxm",
        "--concurrency",
        "1",
        "--",
        "vllm",
        "serve",
        "meta-llama/Llama-3.1-8B-Instruct",
        "--dtype",
        "bfloat16",
        "--max-model-len",
        "8192",
        "--max-num-seqs",
        "64",
        "--port",
        "8000",
        "--served-model-name",
        "llama",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("(llama-3.1-8b)") && out.contains("max_num_seqs 64") && out.contains("max_model_len 8192"),
        "{out}"
    );
    assert!(
        err.contains("--port 8000") && !err.contains("--dtype") && out.contains("weights bfloat16"),
        "neutral flags listed, --dtype taken: {err} {out}"
    );
    let (code, out2, err) = servecast(&[
        "simulate",
        "--gpu",
        "h100-sxm",
        "--concurrency",
        "1",
        "--",
        "python",
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        "meta-llama/Llama-3.1-8B-Instruct",
        "--max-model-len=8192",
        "--max-num-seqs",
        "64",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out2.contains("max_num_seqs 64"));
    let (code, _, err) = servecast(&[
        "simulate",
        "--gpu",
        "h100-sxm",
        "--",
        "vllm",
        "serve",
        "meta-llama/Llama-3.1-8B-Instruct",
        "--max-num-seqz",
        "8",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("unrecognized arguments: --max-num-seqz"), "{err}");
    let (code, _, err) = servecast(&[
        "simulate",
        "--gpu",
        "h100-sxm",
        "--",
        "vllm",
        "serve",
        "meta-llama/Llama-3.1-8B-Instruct",
        "--enforce-eager",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--enforce-eager"), "{err}");
    let (code, _, err) = servecast(&[
        "simulate",
        "--gpu",
        "h100-sxm",
        "--max-num-seqs",
        "32",
        "--",
        "vllm",
        "serve",
        "meta-llama/Llama-3.1-8B-Instruct",
        "--max-num-seqs",
        "64",
    ]);
    assert_eq!(code, 2, "conflicting values are refused");
    assert!(err.contains("max_num_seqs"), "{err}");
}

#[test]
fn failed_requests_say_why_and_print_no_figures() {
    let args = with(&["simulate"], &SMALL);
    let args = with(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &["--input-len", "5000", "--output-len", "100", "--concurrency", "2"],
    );
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("-0.00"), "{out}");
    assert!(out.contains("Output token throughput:** – tok/s"), "{out}");
    assert!(
        err.contains("20 of 20 requests failed") && err.contains("max_model_len 4096"),
        "{err}"
    );
    // The README's VoxCPM example: a text too long for max_model_len.
    let (code, out, err) = servecast(&[
        "simulate",
        "--gpu",
        "4090",
        "--model",
        "voxcpm-1.5",
        "--engine",
        "nano-vllm",
        "--util",
        "0.4",
        "--seqs",
        "128",
        "--max-model-len",
        "512",
        "--text-chars",
        "313",
        "--concurrency",
        "1",
        "--requests-per-user",
        "1",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("-0.0"), "{out}");
    assert!(err.contains("failed"), "{err}");
    // JSON: null, not zeros.
    let json = with(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &["--format", "json"],
    );
    let (_, out, _) = run(&json);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(doc["levels"][0]["ttft_ms"].is_null() && doc["levels"][0]["output_throughput_tok_s"].is_null());
}

#[test]
fn an_overloaded_rate_is_flagged_with_offered_and_served() {
    let args = with(&["simulate"], &SMALL);
    let args = with(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &["--qps", "20", "--num-requests", "300"],
    );
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(offered 20 req/s; OVERLOADED"), "{out}");
    assert!(err.contains("overloaded") && err.contains("offered 20 req/s"), "{err}");
}

#[test]
fn throughput_names_match_vllms_and_csv_has_the_missing_columns() {
    let args = with(&["simulate"], &SMALL);
    let base: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, _) = run(&with(&base, &["--concurrency", "2", "--requests-per-user", "2"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("Output token throughput:") && out.contains("Total token throughput:"),
        "{out}"
    );
    assert!(!out.contains("Total Throughput"), "the old name meant output tokens");
    let (_, csv, _) = run(&with(
        &base,
        &["--concurrency", "2", "--requests-per-user", "2", "--format", "csv"],
    ));
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    for col in [
        "gpu",
        "model",
        "tpot_ms_p95",
        "total_token_throughput_tok_s",
        "output_throughput_tok_s",
    ] {
        assert!(header.contains(&col), "{col} missing: {header:?}");
    }
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!((row[0], row[1]), ("a10", "llama-3.1-8b"));
}

#[test]
fn near_miss_model_names_are_refused_with_suggestions() {
    for (name, suggestion) in [
        ("lama-3.1-8b", "llama-3.1-8b"),
        ("Qwen/Qwen2.5-7B", "qwen2.5-7b-instruct"),
    ] {
        let (code, _, err) = servecast(&["simulate", "--gpu", "a10", "--model", name]);
        assert_eq!(code, 2, "{name}");
        assert!(err.contains(&format!("did you mean {suggestion}")), "{err}");
    }
}

#[test]
fn the_header_prints_the_resolved_workload_and_its_defaults() {
    let args = with(&["simulate"], &SMALL);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("- Workload: closed loop of 1, 4, 8, 16, 32, 64 users, 10 requests each; prompts 512 tokens, outputs 256 tokens"),
        "{out}"
    );
    assert!(err.contains("no workload given"), "{err}");
}

#[test]
fn plan_says_not_broken_at_its_ceiling_and_explains_failures() {
    let (code, out, err) = servecast(&[
        "plan",
        "--gpu",
        "h100-sxm",
        "--model",
        "qwen2-0.5b-instruct",
        "--slo",
        "ttft_p95_ms=1e9",
        "--input-len",
        "4",
        "--output-len",
        "2",
        "--duration-s",
        "0.2",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("not broken up to 100000 req/s"), "{out}");
    assert!(!out.contains("Highest load within the SLO: 100000"), "{out}");
    let (code, out, err) = servecast(&[
        "plan",
        "--gpu",
        "a10",
        "--model",
        "llama-3.1-8b",
        "--max-model-len",
        "4096",
        "--slo",
        "ttft_p95_ms=500",
        "--input-len",
        "5000",
        "--output-len",
        "10",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("requests failed: prompt + output exceeds max_model_len 4096"),
        "{out}"
    );
    assert!(
        !out.contains(" 0.00  (bound"),
        "no zero figure for a level without requests: {out}"
    );
}

#[test]
fn sweep_never_ranks_a_configuration_whose_requests_all_failed() {
    let (code, out, err) = servecast(&[
        "sweep",
        "--gpu",
        "a10",
        "--model",
        "llama-3.1-8b",
        "--input-len",
        "3000",
        "--output-len",
        "20",
        "--concurrency",
        "2",
        "--requests-per-user",
        "2",
        "--axis",
        "max_model_len=1024,4096",
        "--quiet",
        "--rank-by",
        "ttft_ms_mean",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 not ranked because every request failed"), "{out}");
    let first = out.lines().find(|l| l.contains("c=2")).unwrap_or_default();
    assert!(
        first.contains("4096"),
        "the configuration that served requests ranks first: {out}"
    );
}

#[test]
fn catalog_errors_in_files_and_flags_name_them() {
    let dir = temp_dir("names");
    let profile = std::fs::read_to_string(format!(
        "{}/data/profiles/rtx4090-indextts2-gpt-vllm0.10.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .replace("gpu: rtx-4090", "gpu: bogus");
    let path = dir.join("profile.yaml");
    std::fs::write(&path, profile).unwrap();
    let (code, _, err) = servecast(&["simulate", "--gpu", "4090", "--profile", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("profile.yaml") && err.contains("field `gpu`") && err.contains("bogus"),
        "{err}"
    );
    let (code, _, err) = servecast(&["simulate", "--gpu", "bogus"]);
    assert_eq!(code, 2);
    assert!(err.contains("--gpu") && err.contains("field `gpu`"), "{err}");
    let (code, _, err) = servecast(&["sweep", "--gpu", "a10", "--axis", "gpu=a10,bogus"]);
    assert_eq!(code, 2);
    assert!(err.contains("--axis") && err.contains("bogus"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn input_and_io_errors_exit_2_naming_the_file_or_flag() {
    let (code, _, err) = servecast(&["simulate", "--gpu", "a10", "--workload", "/nonexistent/w.yaml"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/nonexistent/w.yaml"), "{err}");
    let (code, _, err) = servecast(&["simulate", "--gpu", "a10", "--model", "./x/config.json"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("./x/config.json") && !err.contains("unknown model"),
        "{err}"
    );
    let (code, _, err) = servecast(&[
        "simulate",
        "--gpu",
        "a10",
        "--model",
        "llama-3.1-8b",
        "--max-num-batched-tokens",
        "0",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("max_num_batched_tokens") && !err.contains("max_num_seqs`"),
        "{err}"
    );
    let (code, _, err) = servecast(&["fit", "/nonexistent/run.json", "--gpu", "a10"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn validate_reports_progress_when_stderr_is_not_a_terminal() {
    // An empty corpus directory: the built-in seeds only (a few seconds).
    let dir = temp_dir("validate");
    std::fs::create_dir_all(dir.join("corpus")).unwrap();
    let (code, _, err) = servecast(&["validate", "--corpus", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.lines().filter(|l| l.starts_with('[') && l.contains(" s] ")).count() >= 2,
        "{err}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn every_format_replays_through_simulate_workload() {
    // (file, extra args): each prints measured figures beside the predicted ones.
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "import/vllm/v0.5.4-benchmark_serving-zero-token-completions.json",
            vec!["--gpu", "a10", "--engine", "vllm-0.5", "--max-model-len", "4096"],
        ),
        (
            "import/vllm/v0.11-vllm-bench-serve-append-result.json",
            vec!["--gpu", "h100-sxm"],
        ),
        (
            "import/guidellm/v0.3-benchmarks.json",
            vec!["--gpu", "a100-80g-sxm", "--model", "llama-3.1-8b"],
        ),
        (
            "import/guidellm/v0.5-benchmarks.json",
            vec!["--gpu", "a100-80g-sxm", "--model", "llama-3.1-8b"],
        ),
        ("import/aiperf/profile_export.jsonl", vec!["--gpu", "a100-80g-sxm"]),
        (
            "import/aiperf/profile_export_aiperf.json",
            vec!["--gpu", "a100-80g-sxm"],
        ),
    ];
    for (file, extra) in cases {
        let path = data(file);
        let mut args = vec!["simulate", "--workload", path.as_str()];
        args.extend(extra);
        let (code, out, err) = servecast(&args);
        assert_eq!(code, 0, "{file}: {err}");
        assert!(err.contains("replaying"), "{file}: {err}");
        assert!(
            out.contains("- Measured report:") && out.contains("(measured "),
            "{file}: {out}"
        );
    }
    // A GuideLLM sweep mixes a queue and a rate: two reports, both shown.
    let (_, out, _) = servecast(&[
        "simulate",
        "--gpu",
        "a100-80g-sxm",
        "--model",
        "llama-3.1-8b",
        "--workload",
        &data("import/guidellm/v0.5-benchmarks.json"),
    ]);
    assert!(
        out.contains("## Request Rate: 4 req/s") && out.contains("## Concurrency Level: 8"),
        "{out}"
    );
}

#[test]
fn fit_and_sweep_take_a_pasted_server_command() {
    let file = data("import/vllm/v0.11-vllm-bench-serve-append-result.json");
    let (code, out, err) = servecast(&[
        "fit",
        &file,
        "--gpu",
        "h100-sxm",
        "--",
        "vllm",
        "serve",
        "Qwen/Qwen3-8B",
        "--max-model-len",
        "8192",
        "--max-num-seqs",
        "64",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("qwen3-8b") && out.contains("| 2 req/s |"), "{out}");
    let (code, _, err) = servecast(&[
        "fit",
        &file,
        "--gpu",
        "h100-sxm",
        "--",
        "vllm",
        "serve",
        "Qwen/Qwen3-8B",
        "--pipeline-parallel-size",
        "2",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--pipeline-parallel-size"), "{err}");
    let (code, out, err) = servecast(&[
        "sweep",
        "--gpu",
        "a10",
        "--concurrency",
        "2",
        "--requests-per-user",
        "2",
        "--axis",
        "seqs=8,16",
        "--quiet",
        "--",
        "vllm",
        "serve",
        "meta-llama/Llama-3.1-8B-Instruct",
        "--max-model-len",
        "4096",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 configurations"), "{out}");
}

#[test]
fn llmperfs_two_files_given_together_are_one_run() {
    let summary = data("import/llmperf/meta-llama-Llama-3-1-8B-Instruct_128_64_summary.json");
    let responses = data("import/llmperf/meta-llama-Llama-3-1-8B-Instruct_128_64_individual_responses.json");
    let (code, out, err) = servecast(&["fit", &summary, &responses, "--gpu", "a100-80g-sxm"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 run(s) repeated"), "{err}");
    assert_eq!(out.matches("| c=2 |").count(), 1, "one level, not two: {out}");
}

#[test]
fn bad_trace_rows_name_file_line_and_column() {
    let dir = temp_dir("badtrace");
    for (name, text, field) in [
        (
            "neg.csv",
            "arrival_s,input_tokens,output_tokens\n0,-5,3\n",
            "`input_tokens`",
        ),
        (
            "nan.csv",
            "arrival_s,input_tokens,output_tokens\nNaN,5,3\n",
            "`arrival_s`",
        ),
        (
            "nan.jsonl",
            "{\"arrival_s\": \"NaN\", \"input_tokens\": 5, \"output_tokens\": 3}\n",
            "`arrival_s`",
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let (code, _, err) = servecast(&[
            "simulate",
            "--gpu",
            "a10",
            "--model",
            "llama-3.1-8b",
            "--workload",
            path.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(
            err.contains(&format!("{name}:")) && err.contains(field),
            "{name}: {err}"
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn fit_refuses_impossible_figures_in_a_bench_file() {
    // Issue 14: a negative mean TTFT, an output length of 4,294,967,295 and NaN / negative
    // per-request TTFTs used to be accepted (and moved the fit).
    let base =
        std::fs::read_to_string(data("import/vllm/v0.5.4-benchmark_serving-zero-token-completions.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&base).unwrap();
    let dir = temp_dir("impossible");
    // (file name, JSON pointer, value written there, field the error must name)
    let cases = [
        ("neg-mean", "/mean_ttft_ms", serde_json::json!(-1.0), "mean_ttft_ms"),
        (
            "huge-out",
            "/output_lens/0",
            serde_json::json!(4294967295u32),
            "output_lens[0]",
        ),
        ("neg-ttft", "/ttfts/2", serde_json::json!(-0.5), "ttfts[2]"),
        ("neg-itl", "/itls/0/1", serde_json::json!(-0.01), "itls[0][1]"),
    ];
    for (name, pointer, value, field) in cases {
        let mut d = doc.clone();
        *d.pointer_mut(pointer).unwrap() = value;
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, d.to_string()).unwrap();
        let (code, _, err) = servecast(&[
            "fit",
            path.to_str().unwrap(),
            "--gpu",
            "a10",
            "--engine",
            "vllm-0.5",
            "--max-model-len",
            "4096",
        ]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(
            err.contains(&format!("{name}.json")) && err.contains(field),
            "{name}: {err}"
        );
    }
    // NaN per-request TTFT, as Python writes it (a bare NaN).
    doc["ttfts"][4] = serde_json::json!("NaN-MARK");
    let path = dir.join("nan-ttft.json");
    std::fs::write(&path, doc.to_string().replace("\"NaN-MARK\"", "NaN")).unwrap();
    let (code, _, err) = servecast(&[
        "fit",
        path.to_str().unwrap(),
        "--gpu",
        "a10",
        "--engine",
        "vllm-0.5",
        "--max-model-len",
        "4096",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("ttfts[4]"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn contradicting_options_are_refused_not_silently_resolved() {
    // Issue 14: `--concurrency 1 --qps 5` ran the rate, `--text-chars 100 --output-len 1000000`
    // ran the text, a repeated --axis emitted duplicate keys.
    let (code, _, err) = servecast(&[
        "simulate",
        "--gpu",
        "a10",
        "--model",
        "llama-3.1-8b",
        "--concurrency",
        "1",
        "--qps",
        "5",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--qps") && err.contains("--concurrency"), "{err}");
    let (code, _, err) = servecast(&[
        "simulate",
        "--gpu",
        "a10",
        "--model",
        "llama-3.1-8b",
        "--max-concurrency",
        "4",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--max-concurrency"), "{err}");
    let (code, _, err) = servecast(&[
        "simulate",
        "--gpu",
        "4090",
        "--model",
        "voxcpm-1.5",
        "--engine",
        "nano-vllm",
        "--text-chars",
        "100",
        "--output-len",
        "1000000",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--text-chars") && err.contains("--output-len"), "{err}");
    let (code, _, err) = servecast(&[
        "sweep",
        "--gpu",
        "a10",
        "--axis",
        "seqs=8,16",
        "--axis",
        "max_num_seqs=32",
        "--quiet",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("max_num_seqs") && err.contains("swept twice"), "{err}");
}

#[test]
fn profile_terms_outside_physics_are_refused() {
    // Issue 14: compute_efficiency 1e-15 printed ITL 18,446,744,073,709.55 ms with exit 0, and a
    // CUDA-graph pool of 2^60 bytes per sequence wrapped the card-memory line.
    let base = std::fs::read_to_string(format!(
        "{}/data/profiles/rtx4090-indextts2-gpt-vllm0.10.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let dir = temp_dir("physics");
    for (name, text, field) in [
        (
            "slow.yaml",
            base.lines()
                .map(|l| {
                    if l.starts_with("  compute_efficiency: ") {
                        "  compute_efficiency: 1e-15"
                    } else {
                        l
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
            "compute_efficiency",
        ),
        (
            "wrap.yaml",
            base.replacen(
                "  non_torch_bytes: 104658816",
                "  non_torch_bytes: 104658816\n  cuda_graph_bytes_per_seq: 1152921504606846976",
                1,
            ),
            "memory.cuda_graph_bytes_per_seq",
        ),
    ] {
        assert_ne!(text, base, "{name}: the edit applies");
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let (code, out, err) = servecast(&["simulate", "--gpu", "4090", "--profile", path.to_str().unwrap()]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(out.is_empty(), "no figures printed");
        assert!(err.contains(name) && err.contains(field), "{name}: {err}");
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn sweep_with_an_impossible_max_num_seqs_keeps_the_other_rows() {
    // Issue 14: the second configuration aborted the process allocating its batch buffers, and
    // the sweep died whole with no rows and no file.
    let dir = temp_dir("sweep-impossible");
    let csv = dir.join("rows.csv");
    let (code, out, err) = servecast(&[
        "sweep",
        "--gpu",
        "4090",
        "--model",
        "voxcpm-1.5",
        "--engine",
        "nano-vllm",
        "--axis",
        "max_num_seqs=50,4294967295",
        "--concurrency",
        "1,4",
        "--requests-per-user",
        "2",
        "--quiet",
        "-o",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 configurations: 2 simulated rows, 1 refused"), "{out}");
    assert!(
        out.contains("4294967295 is outside 1..=1,048,576 (--max-num-seqs)"),
        "{out}"
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("config,max_num_seqs,outcome,level,"), "{text}");
    assert_eq!(
        lines.len(),
        4,
        "header, two levels of config 0, config 1 refused: {text}"
    );
    assert!(
        lines[1].starts_with("0,50,ran,c=4,") && lines[2].starts_with("0,50,ran,c=1,"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("1,4294967295,refused,") && lines[3].contains("max_num_seqs"),
        "{text}"
    );
    std::fs::remove_dir_all(dir).ok();
    // Alone, the same flag is refused with exit 2 (it used to abort with SIGABRT).
    let (code, _, err) = servecast(&[
        "simulate",
        "--gpu",
        "4090",
        "--model",
        "voxcpm-1.5",
        "--engine",
        "nano-vllm",
        "--max-num-seqs",
        "4294967295",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("field `max_num_seqs`") && err.contains("1..=1,048,576"),
        "{err}"
    );
}

#[test]
fn sweep_config_timeout_stops_configurations_not_the_sweep() {
    let (code, out, err) = servecast(&[
        "sweep",
        "--gpu",
        "4090",
        "--axis",
        "max_num_seqs=50,64",
        "--config-timeout",
        "0.000000001",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 stopped before their last level"), "{out}");
    assert!(
        out.contains("config 0 (seqs=50): stopped after ") && out.contains("(--config-timeout 0.000000001 s)"),
        "{out}"
    );
    let (code, _, err) = servecast(&["sweep", "--gpu", "4090", "--axis", "seqs=8", "--config-timeout", "-1"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--config-timeout") && err.contains("[0, 1,000,000] seconds"),
        "{err}"
    );
}

#[test]
fn sweep_samples_over_a_small_space_run_each_configuration_once() {
    // Issue 14: 10,000 samples of a 4-configuration space simulated each about 2,500 times.
    let (code, out, err) = servecast(&[
        "sweep",
        "--gpu",
        "4090",
        "--axis",
        "enable_chunked_prefill=true,false",
        "--axis",
        "max_num_seqs=50,64",
        "--samples",
        "10000",
        "--concurrency",
        "2",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("the space has only 4 distinct configurations; running all 4"),
        "{err}"
    );
    assert!(out.starts_with("4 configurations: 4 simulated rows"), "{out}");
}

#[test]
fn a_run_over_ten_million_requests_over_its_levels_is_refused() {
    // Issue 14: the cap held per level, so 15,000,000 requests over two levels ran (minutes, GBs).
    for command in ["simulate", "sweep"] {
        let mut args = vec![
            command,
            "--gpu",
            "4090",
            "--concurrency",
            "1000,2000",
            "--requests-per-user",
            "5000",
        ];
        if command == "sweep" {
            args.extend(["--axis", "seqs=50", "--quiet"]);
        }
        let (code, out, err) = servecast(&args);
        assert_eq!(code, 2, "{command}: {err}");
        assert!(out.is_empty(), "{out}");
        assert!(
            err.contains("requests_per_user") && err.contains("15,000,000") && err.contains("1..=10,000,000"),
            "{command}: {err}"
        );
    }
    // A sweep is held to 1,000,000,000 requests over all its configurations, before it starts:
    // Σ 1000·c over c = 1..10000 is 50,005,000,000.
    let (code, _, err) = servecast(&[
        "sweep",
        "--gpu",
        "4090",
        "--axis",
        "concurrency=1..10000:1",
        "--requests-per-user",
        "1000",
        "--quiet",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--axis") && err.contains("50,005,000,000") && err.contains("at most 1,000,000,000"),
        "{err}"
    );
}

#[test]
fn sweep_writes_json_lines_and_a_json_array_without_a_partial_file() {
    let dir = temp_dir("sweep-json");
    for name in ["rows.jsonl", "rows.json"] {
        let path = dir.join(name);
        let (code, _, err) = servecast(&[
            "sweep",
            "--gpu",
            "4090",
            "--axis",
            "max_num_seqs=50,64,4294967295",
            "--concurrency",
            "1,2",
            "--quiet",
            "-o",
            path.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{name}: {err}");
        let text = std::fs::read_to_string(&path).unwrap();
        let rows: Vec<serde_json::Value> = if name.ends_with(".jsonl") {
            text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
        } else {
            serde_json::from_str(&text).unwrap()
        };
        assert_eq!(
            rows.len(),
            5,
            "{name}: two levels of two configurations, one refused: {text}"
        );
        let mut configs: Vec<u64> = rows.iter().map(|r| r["config"].as_u64().unwrap()).collect();
        configs.sort_unstable();
        assert_eq!(configs, [0, 0, 1, 1, 2]);
        assert_eq!(rows[4]["outcome"], "refused", "refused rows rank last");
    }
    assert!(!dir.join("rows.partial.jsonl").exists());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_sweep_split_in_four_shards_and_merged_equals_the_unsharded_sweep() {
    let dir = std::env::temp_dir().join(format!("servecast-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = |name: &str| dir.join(name).display().to_string();
    let sweep = [
        "sweep",
        "--gpu",
        "a100-80g",
        "--model",
        "llama-3.1-8b",
        "--qps",
        "4,8",
        "--num-requests",
        "120",
        "--axis",
        "max_num_seqs=16,32,64,128",
        "--axis",
        "util=0.6,0.8,0.9",
        "--quiet",
        "--format",
        "json",
    ];
    let full = p("full.jsonl");
    let (code, full_table, err) = servecast(&[&sweep[..], &["-o", &full]].concat());
    assert_eq!(code, 0, "{err}");
    let mut shard_files = Vec::new();
    for i in 0..4 {
        let file = p(&format!("shard-{i}.jsonl"));
        let shard = format!("{i}/4");
        let (code, _, err) = servecast(&[&sweep[..], &["--shard", &shard, "-o", &file]].concat());
        assert_eq!(code, 0, "{err}");
        shard_files.push(file);
    }
    // Shards hold disjoint interleaved configurations (config % 4 == shard).
    let shard1 = std::fs::read_to_string(&shard_files[1]).expect("shard");
    assert!(shard1.starts_with("{\"servecast_sweep_shard\":"));
    assert!(shard1.contains("\"config\":1,") && shard1.contains("\"config\":5,") && !shard1.contains("\"config\":2,"));
    let merged = p("merged.jsonl");
    let files: Vec<&str> = shard_files.iter().map(String::as_str).collect();
    let (code, merged_table, err) =
        servecast(&[&["sweep-merge", "--format", "json", "-o", &merged][..], &files[..]].concat());
    assert_eq!(code, 0, "{err}");
    assert_eq!(merged_table, full_table, "the merged table is the unsharded one");
    let read = |f: &str| std::fs::read_to_string(f).expect("rows");
    assert_eq!(read(&merged), read(&full), "row for row");
    // A missing or repeated shard, or a shard of another sweep, is refused.
    let (code, _, err) = servecast(&["sweep-merge", &shard_files[0], &shard_files[1], &shard_files[3]]);
    assert_eq!(code, 2);
    assert!(err.contains("shard 2/4 is missing"), "{err}");
    let (code, _, err) = servecast(&[&["sweep-merge"][..], &files[..], &[files[0]]].concat());
    assert_eq!(code, 2);
    assert!(err.contains("given twice"), "{err}");
    let other = p("other.jsonl");
    let mut other_sweep = sweep.to_vec();
    other_sweep[8] = "100";
    let (code, _, _) = servecast(&[&other_sweep[..], &["--shard", "2/4", "-o", &other]].concat());
    assert_eq!(code, 0);
    let (code, _, err) = servecast(&["sweep-merge", files[0], files[1], &other, files[3]]);
    assert_eq!(code, 2);
    assert!(err.contains("does not belong"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fit_as_json_carries_the_measured_figures_the_parameters_and_the_profile() {
    let (code, out, err) = servecast(&[
        "fit",
        "rtx4090-indextts2-gpt-vllm0.10",
        "--hold-out",
        "64",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["reports"][0], "rtx4090-indextts2-gpt-vllm0.10");
    let levels = doc["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 6);
    // Seed 000 as it prints them: c=1 271.99 tok/s; c=64 held out.
    let c1 = &levels[0]["comparison"];
    assert_eq!(c1["concurrency"], 1);
    let throughput = c1["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "output_throughput_tok_s")
        .unwrap();
    assert_eq!(throughput["measured"], 271.99);
    let held: Vec<_> = levels.iter().filter(|l| l["in_fit"] == false).collect();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["comparison"]["concurrency"], 64);
    // Every host-side term is a correction of the learned prior, and says by how much.
    let step = doc["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "step_overhead_s")
        .unwrap();
    assert!(step["origin"].as_str().unwrap().starts_with("prior "), "{step}");
    assert!(step["value"].as_f64().unwrap() > 0.0);
    assert_eq!(doc["profile"]["kind"], "fitted");
    // Fit prints tables or JSON; a CSV is refused naming the flag.
    let (code, _, err) = servecast(&["fit", "rtx4090-indextts2-gpt-vllm0.10", "--format", "csv"]);
    assert_eq!(code, 2);
    assert!(err.contains("--format") && err.contains("json"), "{err}");
}

#[test]
fn a_release_newer_than_the_newest_modelled_one_says_which_rules_it_runs() {
    let simulate = |engine: &str| {
        servecast(&[
            "simulate",
            "--gpu",
            "4090",
            "--model",
            "qwen2.5-7b-instruct",
            "--engine",
            engine,
            "--concurrency",
            "1",
            "--requests-per-user",
            "2",
        ])
    };
    let (code, out, err) = simulate("0.40.1");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("--engine 0.40.1 is newer than the newest vLLM release servecast models (0.31)"),
        "{err}"
    );
    assert!(out.contains("release line vllm-0.25+"), "{out}");
    // A modelled release prints no such note.
    let (code, _, err) = simulate("0.31.0");
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("newer than"), "{err}");
}

#[test]
fn simulate_sends_to_the_chat_endpoint_when_asked() {
    let simulate = |model: &str, endpoint: &str| {
        servecast(&[
            "simulate",
            "--gpu",
            "4090",
            "--model",
            model,
            "--concurrency",
            "1",
            "--requests-per-user",
            "2",
            "--input-len",
            "200",
            "--max-model-len",
            "4096",
            "--endpoint",
            endpoint,
            "--format",
            "json",
        ])
    };
    let input_mean = |out: &str| -> f64 {
        let v: serde_json::Value = serde_json::from_str(out).unwrap();
        v["levels"][0]["input_tokens"]["mean"].as_f64().unwrap()
    };
    // Qwen3's template: <|im_start|>user\n before the message, <|im_end|>\n<|im_start|>assistant\n after.
    let (code, out, err) = simulate("qwen3-8b", "chat");
    assert_eq!(code, 0, "{err}");
    assert_eq!(input_mean(&out), 208.0);
    let (code, out, err) = simulate("qwen3-8b", "completions");
    assert_eq!(code, 0, "{err}");
    assert_eq!(input_mean(&out), 200.0);
    // The report says what the endpoint added.
    let (code, out, err) = servecast(&[
        "simulate",
        "--gpu",
        "4090",
        "--model",
        "qwen3-8b",
        "--concurrency",
        "1",
        "--requests-per-user",
        "2",
        "--max-model-len",
        "4096",
        "--endpoint",
        "chat",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("chat endpoint: the chat template adds 8 tokens to each prompt (3 before it"),
        "{out}"
    );
    // A model read from config.json alone has no catalogued template: bad input, named.
    let (code, _, err) = simulate("data/hf-configs/deepseek-ai--DeepSeek-R1-Distill-Qwen-32B.json", "chat");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("workload.endpoint") && err.contains("no chat template"),
        "{err}"
    );
}

#[test]
fn fit_takes_the_endpoint_of_result_files_that_do_not_say() {
    // A vllm bench serve result without a backend field of chat: by default its prompts went to
    // completions, and the Jinja render term has nothing to say about it; with --endpoint chat
    // the template's render and tokens are in every request, and the fit moves the render term.
    let render = |extra: &[&str]| -> (f64, String) {
        let v = json_of(
            &[
                "fit",
                "tests/data/import/vllm/v0.11-vllm-bench-serve-append-result.json",
                "--gpu",
                "h100-sxm",
                "--format",
                "json",
            ],
            extra,
        );
        let p = v["params"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "api_server_chat_request_s")
            .unwrap()
            .clone();
        (p["value"].as_f64().unwrap(), p["origin"].as_str().unwrap().to_string())
    };
    let (plain, origin) = render(&[]);
    assert!(origin.ends_with("(+0.0σ)"), "{origin}");
    let (chat, origin) = render(&["--endpoint", "chat"]);
    // Moved by more than 2% of the prior's value (the learned render is 0.4 ms since 0.11.0's
    // template parse is modelled on its own; it was 4.6 ms, and this bound 0.1 ms, before).
    assert!((chat - plain).abs() > 0.02 * plain, "{plain} s vs {chat} s: {origin}");
    let (code, _, err) = servecast(&["fit", "x.json", "--gpu", "h100-sxm", "--endpoint", "messages"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn fit_says_when_levels_resent_the_same_prompts_to_a_prefix_cache() {
    // surajssd's A100 TP8 sweep: 200 ShareGPT prompts (seed 0) at 1, 4, 16 and inf req/s to one
    // server with --enable-prefix-caching; the corpus file says so. Without that line, fit notes
    // the four equal prompt totals; the burst's 360 ms mean TTFT (42,659 prompt tokens of a 70B
    // model) is then only reachable warm.
    let corpus = format!(
        "{}/data/measured/corpus/a100-40g-sxm-llama-3.3-70b-vllm0.8.3-surajssd-llm-k8s.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(corpus).unwrap();
    assert!(text.contains("\n  warm_prefix_cache: true\n"));
    let cold = temp_dir("replayed").join("cold.yaml");
    std::fs::write(&cold, text.replace("\n  warm_prefix_cache: true\n", "\n")).unwrap();
    let cold = cold.to_string_lossy().to_string();
    let (code, out, err) = servecast(&["fit", &cold]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("4 levels sent 42659 prompt tokens each") && err.contains("--warm-prefix-cache"),
        "{err}"
    );
    let burst_ttft_error = |out: &str| -> f64 {
        let row = out
            .lines()
            .find(|l| l.starts_with("| inf req/s"))
            .expect("the burst's row");
        let ttft = row.split('|').nth(5).unwrap();
        ttft.rsplit('/')
            .next()
            .unwrap()
            .trim()
            .trim_end_matches('%')
            .parse()
            .unwrap()
    };
    let cold_error = burst_ttft_error(&out);
    let (code, out, err) = servecast(&["fit", &cold, "--warm-prefix-cache"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("levels sent"), "{err}");
    let warm_error = burst_ttft_error(&out);
    assert!(
        cold_error > 100.0 && warm_error.abs() < 25.0,
        "burst TTFT {cold_error:+}% cold, {warm_error:+}% warm"
    );
}

/// `--client-seed`: the Poisson levels go out when vLLM's client with that `--seed` sends them.
/// numpy's first 199 exponential gaps at 0.1 s (seed 0) add up to 19.64 s, so the last of 200
/// requests at 10 req/s leaves at 19.64 s; with `--client-normalized-span` (vLLM ≥ 0.10's client)
/// at exactly 200 ÷ 10 = 20 s. Each run's duration is its last send plus that request's own
/// latency, so the normalized run, sending its last request 0.36 s later, lasts longer.
#[test]
fn client_seed_sends_requests_when_vllms_client_did() {
    let run = |extra: &[&str]| {
        let v = json_of(
            &[
                "simulate",
                "--gpu",
                "h100-sxm",
                "--model",
                "llama-3.1-8b",
                "--qps",
                "10",
                "--num-requests",
                "200",
                "--input-len",
                "128",
                "--output-len",
                "16",
                "--format",
                "json",
            ],
            extra,
        );
        v["levels"][0]["duration_s"].as_f64().unwrap()
    };
    let classic = run(&["--client-seed", "0"]);
    let normalized = run(&["--client-seed", "0", "--client-normalized-span"]);
    // A 128-token prompt and 16 tokens on an H100: well under a second after the last send.
    assert!(classic > 19.64 && classic < 20.5, "{classic}");
    assert!(normalized > 20.0 && normalized < 20.9, "{normalized}");
    assert!(normalized > classic);
    // A workload the client's draws cannot reproduce is refused, naming the field.
    let (code, _, err) = servecast(&[
        "simulate",
        "--gpu",
        "h100-sxm",
        "--model",
        "llama-3.1-8b",
        "--client-seed",
        "0",
        "--workload",
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gamma-burstiness-0.5.yaml"),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("client_draws") && err.contains("burstiness 0.5"), "{err}");
}

#[test]
fn a_release_that_falls_back_to_v0_on_a_t4_says_so_on_the_engine_line() {
    let (code, out, err) = servecast(&[
        "simulate",
        "--gpu",
        "t4",
        "--model",
        "qwen2.5-3b-instruct",
        "--engine",
        "0.9.2",
        "--concurrency",
        "1",
        "--requests-per-user",
        "2",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("- Engine: vllm-0.6, the V0 engine vLLM 0.9.2 falls back to on t4")
            && out.contains("release line vllm-0.6-0.7")
            && out.contains("weights float16"),
        "{out}"
    );
}

/// A GPU the catalog lacks is planned for from a file named by `SERVECAST_GPUS`, in
/// `data/gpus.yaml`'s format: here the Turing Quadro RTX 6000 (NVIDIA's datasheet: 24 GB
/// GDDR6 at 672 GB/s, 130.5 tensor TFLOPS). Its efficiencies come from the Turing prior; a bad
/// file or an id that clashes with the catalog exits 2 naming the variable.
#[test]
fn a_gpu_file_named_by_servecast_gpus_joins_the_catalog() {
    let dir = std::env::temp_dir().join(format!("servecast-gpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("gpus.yaml");
    let entry = |id: &str| {
        format!(
            "gpus:\n  - id: {id}\n    name: Quadro RTX 6000\n    architecture: turing\n    memory_total_gib_cuda: 23.65\n    \
             memory_bandwidth_gb_s: 672\n    dense_fp16_tflops: 130.5\n    interconnect: {{kind: pcie, bandwidth_gb_s: 16}}\n    \
             source: datasheet\n"
        )
    };
    let run = |yaml: &str| {
        std::fs::write(&file, yaml).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_servecast"))
            .args(["simulate", "--gpu", "Quadro RTX 6000", "--model", "qwen2.5-7b-instruct"])
            .args(["--dtype", "half", "--concurrency", "1", "--requests-per-user", "2"])
            .env("SERVECAST_GPUS", &file)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&entry("quadro-rtx-6000"));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("- GPU: Quadro RTX 6000 (quadro-rtx-6000, 23.65 GiB as CUDA reports it)")
            && out.contains("prior.vllm-0.8-0.13.turing"),
        "{out}"
    );
    let (code, _, err) = run(&entry("rtx-4090"));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("SERVECAST_GPUS=") && err.contains("duplicate id 'rtx-4090'"),
        "{err}"
    );
    let (code, _, err) = run("gpus:\n  - id: x\n");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("SERVECAST_GPUS="), "{err}");
    // A rate out of any device's range is named in the file's own field and units.
    let (code, _, err) =
        run(&entry("quadro-rtx-6000").replace("memory_bandwidth_gb_s: 672", "memory_bandwidth_gb_s: -672"));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("field `memory_bandwidth_gb_s`") && err.contains("-672 is outside [1, 1000000]"),
        "{err}"
    );
    // A rate so small that the simulated clock would overflow is named too, written as given.
    let (code, _, err) =
        run(&entry("quadro-rtx-6000").replace("dense_fp16_tflops: 130.5", "dense_fp16_tflops: 1e-300"));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("field `dense_fp16_tflops`") && err.contains("1e-300 is outside [0.1, 1000000]"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_pre_quantized_checkpoints_name_serves_its_weights_and_refuses_another_method() {
    let base = [
        "simulate",
        "--gpu",
        "h100-sxm",
        "--concurrency",
        "1",
        "--requests-per-user",
        "2",
        "--model",
    ];
    let args: Vec<&str> = base
        .iter()
        .copied()
        .chain(["neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8"])
        .collect();
    let (code, out, err) = servecast(&args);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("(llama-3.1-8b; not listed: the catalog's llama-3.1-8b"),
        "{out}"
    );
    assert!(out.contains("weights fp8"), "{out}");
    // 8.03 B parameters: the linear layers in one byte each, embeddings and head in two.
    assert!(out.contains("weights 8.46 GiB"), "{out}");
    // vLLM's ModelConfig._verify_quantization: the checkpoint's method against the flag's.
    let refused: Vec<&str> = args.iter().copied().chain(["--quantization", "awq"]).collect();
    let (code, _, err) = servecast(&refused);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "Quantization method specified in the model config (fp8) does not match the quantization method \
             specified in the `quantization` argument (awq)."
        ),
        "{err}"
    );
    let args: Vec<&str> = base
        .iter()
        .copied()
        .chain(["unsloth/Meta-Llama-3.1-8B-Instruct-bnb-4bit"])
        .collect();
    let (code, _, err) = servecast(&args);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bitsandbytes, which servecast does not cost"), "{err}");
}

#[test]
fn vllm_bench_serves_load_flags_are_aliases() {
    let common = [
        "simulate",
        "--gpu",
        "h100-sxm",
        "--model",
        "llama-3.1-8b",
        "--format",
        "json",
    ];
    let ours = json_of(
        &common,
        &[
            "--qps",
            "2,4",
            "--num-requests",
            "40",
            "--input-len",
            "1024",
            "--output-len",
            "128",
        ],
    );
    let bench = json_of(
        &common,
        &[
            "--request-rate",
            "2,4",
            "--num-prompts",
            "40",
            "--random-input-len",
            "1024",
            "--random-output-len",
            "128",
        ],
    );
    assert_eq!(ours, bench);
    let levels = ours["levels"].as_array().map_or(0, Vec::len);
    assert_eq!(levels, 2, "{ours}");
}

#[test]
fn random_range_ratio_draws_lengths_as_the_releases_client_did() {
    let base = [
        "simulate",
        "--gpu",
        "h100-sxm",
        "--model",
        "llama-3.1-8b",
        "--request-rate",
        "2",
        "--num-prompts",
        "20",
        "--random-input-len",
        "1000",
        "--random-output-len",
        "100",
        "--random-range-ratio",
        "0.5",
        "--engine",
    ];
    for (release, workload) in [
        (
            "0.6.3",
            "prompts uniform 500–1000 tokens, outputs uniform 50–100 tokens",
        ),
        (
            "0.11.0",
            "prompts uniform 500–1500 tokens, outputs uniform 50–150 tokens",
        ),
    ] {
        let args: Vec<&str> = base.iter().copied().chain([release]).collect();
        let (code, out, err) = servecast(&args);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(workload), "{release}: {out}");
    }
    let (code, _, err) = servecast(&[
        "simulate",
        "--gpu",
        "h100-sxm",
        "--model",
        "llama-3.1-8b",
        "--qps",
        "2",
        "--random-range-ratio",
        "1",
        "--engine",
        "0.11.0",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("random_range_ratio must be in [0, 1)."), "{err}");
}

#[test]
fn a_pasted_llmperf_or_genai_perf_command_is_the_load_it_sends() {
    let dir = temp_dir("llmperf");
    let common = ["simulate", "--gpu", "a10g", "--model", "llama-3-8b", "--format", "json"];
    // llmperf: N threads, each with one request in flight, until M have completed; lengths drawn
    // int(gauss(mean, sd)) ≥ 1, no upper clip; always chat.
    let queue = dir.join("queue.yaml");
    std::fs::write(
        &queue,
        "load: {kind: max_concurrency, levels: [{concurrency: 8, num_requests: 100}]}\n\
         input_len: {kind: normal, mean: 550, sd: 150, min: 1, max: 4294967295}\n\
         output_len: {kind: normal, mean: 150, sd: 10, min: 1, max: 4294967295}\n\
         endpoint: chat\n",
    )
    .unwrap();
    let llmperf = "python token_benchmark_ray.py --model meta-llama/Meta-Llama-3-8B-Instruct \
                   --mean-input-tokens 550 --stddev-input-tokens 150 --mean-output-tokens 150 \
                   --stddev-output-tokens 10 --max-num-completed-requests 100 --timeout 600 \
                   --num-concurrent-requests 8 --results-dir result_outputs --llm-api openai";
    assert_eq!(
        json_of(&common, &["--client", llmperf]),
        json_of(&common, &["--workload", queue.to_str().unwrap()])
    );
    // genai-perf: a request rate is evenly spaced, 10 requests unless counted.
    let even = dir.join("even.yaml");
    std::fs::write(
        &even,
        "load: {kind: poisson, qps: [2.0], num_requests: 40, burstiness: .inf}\n\
         input_len: {kind: fixed, tokens: 300}\n\
         output_len: {kind: fixed, tokens: 100}\n",
    )
    .unwrap();
    let genai = "genai-perf profile -m meta-llama/Meta-Llama-3-8B-Instruct --endpoint-type completions \
                 --streaming --synthetic-input-tokens-mean 300 --output-tokens-mean 100 --request-rate 2 \
                 --request-count 40";
    let pasted = json_of(&common, &["--client", genai]);
    assert_eq!(pasted, json_of(&common, &["--workload", even.to_str().unwrap()]));
    // Evenly spaced at 2 req/s, the 40 sends span 19.5 s.
    let duration_s = pasted["levels"][0]["duration_s"].as_f64().unwrap();
    assert!(duration_s > 19.5, "{duration_s}");
    // No --output-tokens-mean: no max_tokens is sent, and servecast asks where answers end.
    let (code, _, err) = servecast(&[
        "simulate",
        "--gpu",
        "a10g",
        "--client",
        "aiperf profile --model meta-llama/Meta-Llama-3-8B-Instruct --concurrency 4",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("sets no output length") && err.contains("--output-len"),
        "{err}"
    );
}

#[test]
fn a_pasted_guidellm_or_sglang_command_is_the_load_it_sends() {
    let common = [
        "simulate",
        "--gpu",
        "h100-sxm",
        "--model",
        "llama-3.1-8b",
        "--format",
        "json",
    ];
    // A sweep: 8 evenly spaced constant rates from the simulated synchronous rate (one request at
    // a time) to the simulated throughput rate (all 200 at once), the last equal to it.
    let sweep = json_of(
        &common,
        &[
            "--client",
            "guidellm benchmark --target http://localhost:8000 --max-requests 200 \
             --data prompt_tokens=512,output_tokens=128",
        ],
    );
    let levels = sweep["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 8);
    let rates: Vec<f64> = levels.iter().map(|l| l["qps"].as_f64().unwrap()).collect();
    let step = rates[1] - rates[0];
    for w in rates.windows(2) {
        assert!(((w[1] - w[0]) - step).abs() < 1e-3, "{rates:?}");
    }
    // One request at a time: 512-token prefill and 128 decode steps of an 8B model on an H100
    // take ~1 s, so the synchronous rate (rates[0] − step) is ~1 req/s.
    let sync = rates[0] - step;
    assert!((0.5..2.0).contains(&sync), "{rates:?}");
    let burst = json_of(
        &common,
        &[
            "--endpoint",
            "chat",
            "--max-concurrency",
            "512",
            "--qps",
            "inf",
            "--num-requests",
            "200",
            "--input-len",
            "512",
            "--output-len",
            "128",
        ],
    );
    let throughput = burst["levels"][0]["request_throughput_req_s"].as_f64().unwrap();
    assert!(
        (rates[7] - throughput).abs() < 1e-3 * throughput,
        "{rates:?} vs {throughput}"
    );
    // --max-seconds bounds a closed loop: the run lasts about that long.
    let timed = json_of(
        &common,
        &[
            "--client",
            "guidellm benchmark --target u --rate-type concurrent --rate 8 --max-seconds 30 \
             --data prompt_tokens=512,output_tokens=128",
        ],
    );
    let duration_s = timed["levels"][0]["duration_s"].as_f64().unwrap();
    assert!((27.0..36.0).contains(&duration_s), "{duration_s}");
    // sglang.bench_serving's random dataset: ratio 0 by default, so lengths 1..=1024 each.
    let pasted = json_of(
        &common,
        &[
            "--client",
            "python3 -m sglang.bench_serving --backend vllm --dataset-name random --num-prompts 200 --request-rate 8 \
             --warmup-requests 0",
        ],
    );
    let spelled = json_of(
        &common,
        &[
            "--qps",
            "8",
            "--num-requests",
            "200",
            "--input-len",
            "1..1024",
            "--output-len",
            "1..1024",
        ],
    );
    assert_eq!(pasted, spelled);
    let (code, _, err) = servecast(&[
        "simulate",
        "--gpu",
        "h100-sxm",
        "--client",
        "python -m sglang.bench_serving --dataset-name random --model meta-llama/Llama-3.1-8B-Instruct",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--backend vllm"), "{err}");
    // A sweep of configurations cannot share levels set from one server's rates.
    let (code, _, err) = servecast(&[
        "sweep",
        "--gpu",
        "h100-sxm",
        "--model",
        "llama-3.1-8b",
        "--axis",
        "seqs=64,128",
        "--client",
        "guidellm benchmark --target u --max-requests 100 --data prompt_tokens=512,output_tokens=128",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("each server's own simulated rates"), "{err}");
}

#[test]
fn a_pasted_sonnet_command_sends_prompts_that_share_their_first_lines() {
    // vLLM bench's sonnet dataset at 1,024 tokens with Llama-3.1's template: the base prompt and
    // the first 13 lines (about 188 tokens) open every prompt. With prefix caching on (V1) and
    // no initial test run, each of the 199 later requests finds the 11 full 16-token blocks of
    // that prefix cached: 199 × 176 = 35,024 tokens.
    let client = "vllm bench serve --model meta-llama/Llama-3.1-8B-Instruct --dataset-name sonnet \
                  --sonnet-input-len 1024 --num-prompts 200 --request-rate 4 --ready-check-timeout-sec 0";
    let common = [
        "simulate",
        "--gpu",
        "h100-sxm",
        "--model",
        "llama-3.1-8b",
        "--format",
        "json",
        "--client",
        client,
    ];
    let d = json_of(&common, &[]);
    assert_eq!(d["levels"][0]["engine"]["prefix_hit_tokens"], 35024);
    // Prompts as data/datasets.yaml drew them (mean 939.3 tokens from 0.8.4), none above 1,024.
    let input = &d["scenario"]["workload"]["input_len"];
    let mean = input["mean"].as_f64().unwrap_or(0.0);
    assert!((mean - 939.3).abs() < 1.0, "{input}");
    assert_eq!(input["max"], 1024);
    // Sent to the chat endpoint instead (servecast's --endpoint wins), the client sends the raw
    // lines and the server adds Llama-3.1's template: 48 − 12 = 36 tokens fewer in the prompt.
    let chat = json_of(&common, &["--endpoint", "chat"]);
    let chat_mean = chat["scenario"]["workload"]["input_len"]["mean"]
        .as_f64()
        .unwrap_or(0.0);
    assert!((mean - chat_mean - 36.0).abs() < 1e-6, "{mean} vs {chat_mean}");
    // Without --model in the command, the served model's family counts the prompts: Qwen2.5's
    // template and first 15 lines, 41 + 15 × 10.75 = 202 tokens (203 as data/datasets.yaml counted
    // them in drawn prompts), and nothing is noted.
    let (code, out, err) = servecast(&[
        "simulate",
        "--gpu",
        "h100-sxm",
        "--model",
        "qwen2.5-7b-instruct",
        "--client",
        "vllm bench serve --dataset-name sonnet --sonnet-input-len 1024 --num-prompts 20",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("sonnet prompts counted with"), "{err}");
    assert!(out.contains("one prefix of 202 tokens shared by every prompt"), "{out}");
}

#[test]
fn a_pasted_vllm_bench_serve_command_is_the_load_it_sends() {
    // Without its initial test run, whose prompt the first request would find in the prefix cache
    // (checked below).
    let client = "vllm bench serve --model meta-llama/Llama-3.1-8B-Instruct --dataset-name random \
                  --random-input-len 2000 --random-output-len 200 --num-prompts 300 --request-rate 8 \
                  --max-concurrency 64 --port 8000 --ready-check-timeout-sec 0";
    let common = [
        "simulate",
        "--gpu",
        "h100-sxm",
        "--model",
        "llama-3.1-8b",
        "--format",
        "json",
    ];
    let pasted = json_of(&common, &["--client", client]);
    let spelled = json_of(
        &common,
        &[
            "--qps",
            "8",
            "--num-requests",
            "300",
            "--max-concurrency",
            "64",
            "--input-len",
            "2000",
            "--output-len",
            "200",
        ],
    );
    assert_eq!(pasted, spelled);
    // The command line wins over the pasted command; flags without effect are named.
    let (code, out, err) = servecast(&[
        "simulate",
        "--gpu",
        "h100-sxm",
        "--model",
        "llama-3.1-8b",
        "--client",
        client,
        "--qps",
        "2",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Poisson arrivals at 2 req/s, 300 requests per rate, at most 64 in flight"),
        "{out}"
    );
    assert!(err.contains("without effect on the simulation: --port 8000"), "{err}");
    // By default vllm bench serve sends the first prompt once before the run: with prefix caching
    // on (V1's default), the first request finds its 2,000-token prompt cached, all full blocks but
    // the one holding its last token (1,984 tokens); the other 299 prompts are new.
    let default = json_of(
        &common,
        &["--client", &client.replace(" --ready-check-timeout-sec 0", "")],
    );
    assert_eq!(
        default["scenario"]["workload"]["initial_test_run"],
        serde_json::Value::Bool(true)
    );
    assert_eq!(default["levels"][0]["engine"]["prefix_hit_tokens"], 1984);
    assert_eq!(pasted["levels"][0]["engine"]["prefix_hit_tokens"], 0);
    // Without --model, the client's is the model.
    let (code, out, err) = servecast(&["simulate", "--gpu", "h100-sxm", "--client", client]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("- Model: meta-llama/Llama-3.1-8B-Instruct (llama-3.1-8b)"),
        "{out}"
    );
    assert!(err.contains("the model is the --client command's --model"), "{err}");
    // --random-prefix-len: the same prefix in front of every prompt, which prefix caching reuses.
    let dir = temp_dir("prefixlen");
    let file = dir.join("prefix.yaml");
    std::fs::write(
        &file,
        "load: {kind: poisson, qps: [.inf], num_requests: 100, max_concurrency: 8}\n\
         input_len: {kind: fixed, tokens: 2000}\n\
         output_len: {kind: fixed, tokens: 64}\n\
         prefix_groups: 1\n\
         shared_prefix_tokens: 1000\n\
         initial_test_run: true\n",
    )
    .unwrap();
    let prefixed = json_of(
        &common,
        &[
            "--client",
            "vllm bench serve --random-input-len 1000 --random-prefix-len 1000 --random-output-len 64 \
             --num-prompts 100 --max-concurrency 8",
        ],
    );
    assert_eq!(prefixed, json_of(&common, &["--workload", file.to_str().unwrap()]));
    let plain = json_of(
        &common,
        &[
            "--client",
            "vllm bench serve --random-input-len 2000 --random-output-len 64 --num-prompts 100 --max-concurrency 8",
        ],
    );
    let ttft = |v: &serde_json::Value| v["levels"][0]["ttft_ms"]["mean"].as_f64().unwrap();
    assert!(
        ttft(&prefixed) < 0.8 * ttft(&plain),
        "{} vs {}",
        ttft(&prefixed),
        ttft(&plain)
    );
    let (code, _, err) = servecast(&[
        "simulate",
        "--gpu",
        "h100-sxm",
        "--model",
        "llama-3.1-8b",
        "--client",
        "vllm bench serve --dataset-name burstgpt",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("'burstgpt': servecast reads the sharegpt (also as a Hugging Face ShareGPT dataset), random, sonnet and prefix_repetition datasets"),
        "{err}"
    );
}

#[test]
fn the_ideal_profile_is_a_bound_the_measurements_respect() {
    // Seed 002 (A10, Qwen2.5-7B-Instruct, vLLM 0.6.0, 40-token prompts): on an ideal GPU its
    // single user's first token is two weight reads away (0.6.0 hands a step's tokens over when
    // the next step ends): 2 × 7.07e9 parameters × 2 bytes ÷ 600 GB/s = 47.2 ms (the embedding
    // table is not read; 40 tokens of prefill are 0.57 TFLOP, 4.5 ms at the A10's 125 TFLOP/s).
    let ideal = [
        "simulate",
        "--gpu",
        "a10",
        "--profile",
        "ideal",
        "--workload",
        "data/measured/a10-qwen2.5-7b-vllm0.6.yaml",
    ];
    let (code, out, err) = servecast(&[&ideal[..], &["--format", "json"]].concat());
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["profile"]["kind"], "ideal");
    let ttft = v["levels"][1]["ttft_ms"]["p50"].as_f64().unwrap();
    assert!((ttft - 47.2).abs() < 1.0, "{ttft} ms");
    // Every level's measured duration is longer than the ideal GPU's.
    let (code, text, err) = servecast(&ideal);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("a bound, not a prediction"), "{text}");
    let mut levels = 0;
    for line in text
        .lines()
        .filter(|l| l.contains("**Total Time:**") && l.contains("error"))
    {
        let e: f64 = line
            .rsplit("error ")
            .next()
            .unwrap()
            .trim_end_matches([')', '%'])
            .parse()
            .unwrap();
        assert!(e < 0.0, "{line}");
        levels += 1;
    }
    assert!(levels >= 4, "{text}");
    // None of seed 002's figures is past the bound, so its replay warns of none.
    assert!(!err.contains("cannot have produced"), "{err}");
    // An ideal profile of another engine is refused in words that say so.
    let (code, _, err) = servecast(&["simulate", "--gpu", "a10", "--profile", "ideal.vllm-0.5"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is the ideal GPU of vllm-0.5"), "{err}");
}

#[test]
fn fitting_a_report_past_the_ideal_gpu_warns_that_the_fit_will_chase_it() {
    // GPUStack's Qwen3-8B BF16 row on an A100 80GB (vLLM 0.9.2, 1,000 ShareGPT prompts at once):
    // mean TTFT 3,412.85 ms measured, below what an ideal A100 gives for that burst.
    let corpus =
        std::fs::read_to_string("data/measured/corpus/a100-80g-sxm-qwen3-8b-vllm0.9.2-gpustack-quant.yaml").unwrap();
    let first = corpus.split("\n---\n").next().unwrap();
    assert!(first.contains("id: a100-qwen3-8b-vllm0.9.2-gpustack-quant-bf16"));
    let dir = temp_dir("floor-fit");
    let file = dir.join("a100-bf16.yaml");
    std::fs::write(&file, first).unwrap();
    let (code, _, err) = servecast(&["fit", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("level 1: measured ttft_ms.mean 3413 is below the least an ideal GPU gives")
            && err.contains("the fit will chase a figure the setup as stated cannot produce"),
        "{err}"
    );
}

#[test]
fn an_offline_benchmark_starts_its_own_engine_with_the_llm_class_defaults() {
    // `vllm bench throughput` hands every prompt to one LLM.generate call: its engine flags are
    // the engine's, and the LLM class's defaults fill the rest (on an H100 from vLLM 0.10: a
    // 16,384-token budget, against the API server's 8,192).
    let client = "vllm bench throughput --model meta-llama/Llama-3.1-8B-Instruct --input-len 1024 \
                  --output-len 128 --num-prompts 300 --max-num-seqs 128";
    let d = json_of(
        &[
            "simulate", "--gpu", "h100-sxm", "--engine", "0.11.0", "--format", "json", "--client", client,
        ],
        &[],
    );
    let e = &d["scenario"]["engine"];
    assert_eq!(e["max_num_seqs"], 128);
    assert_eq!(e["max_num_batched_tokens"], 16384);
    assert_eq!(e["usage_context"], "llm_class");
    let l = &d["levels"][0];
    assert_eq!(l["requests"], 300);
    // No API server and no HTTP: the first prompts' TTFT is their prefill — 16 prompts of 1,024
    // tokens in the first 16,384-token step, 16.8 TFLOP on an H100 (989 TFLOP/s at most) — not
    // the ~10 ms of front end a served request adds.
    let first = l["ttft_ms"]["min"].as_f64().unwrap_or(0.0);
    assert!(first > 1e3 * 16.0 * 1024.0 * 2.0 * 8.03e9 / 989e12, "{first}");
    // The same command as a latency benchmark: one batch, prefix caching off as vLLM's sets it.
    let d = json_of(
        &[
            "simulate",
            "--gpu",
            "h100-sxm",
            "--engine",
            "0.11.0",
            "--format",
            "json",
            "--client",
            "vllm bench latency --model meta-llama/Llama-3.1-8B-Instruct --batch-size 4",
        ],
        &[],
    );
    assert_eq!(d["scenario"]["engine"]["enable_prefix_caching"], false);
    assert_eq!(d["levels"][0]["requests"], 4);
    let (code, out, _) = servecast(&[
        "simulate",
        "--gpu",
        "h100-sxm",
        "--client",
        "vllm bench throughput --model meta-llama/Llama-3.1-8B-Instruct --input-len 512 --num-prompts 50",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("## Offline: 50 prompts to one LLM.generate call"), "{out}");
    assert!(
        out.contains("- Workload: 50 prompts to one LLM.generate call (vLLM's offline LLM class: no API server)"),
        "{out}"
    );
    assert!(out.contains("`Throughput: "), "{out}");
    // On V0 (0.6.3) the LLM class runs and the scheduler ignores a prompt over max_model_len.
    let (code, out, _) = servecast(&[
        "simulate",
        "--gpu",
        "h100-sxm",
        "--engine",
        "0.6.3",
        "--client",
        "python benchmark_throughput.py --model meta-llama/Llama-3.1-8B-Instruct --input-len 200000 --output-len 8 \
         --num-prompts 2",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("2 of 2 requests failed")
            && out.contains("\"Input prompt (… tokens) is too long and exceeds limit of 131072\""),
        "{out}"
    );
}

#[test]
fn an_offline_benchmark_refuses_what_vllm_refuses_and_a_second_server() {
    for (args, words) in [
        (
            vec![
                "--client",
                "vllm bench throughput --model meta-llama/Llama-3.1-8B-Instruct --input-len 8 --data-parallel-size 2",
            ],
            "Data parallel is only supported with external launcher mode",
        ),
        (
            vec![
                "--client",
                "vllm bench throughput --input-len 8 --model meta-llama/Llama-3.1-8B-Instruct",
                "--",
                "vllm",
                "serve",
                "meta-llama/Llama-3.1-8B-Instruct",
            ],
            "starts its own engine",
        ),
        (
            vec!["--client", "vllm bench throughput --input-len 8"],
            "names no --model",
        ),
        (
            // 200,000 + 128 tokens against Llama-3.1-8B's 131,072: V1's benchmark asserts first.
            vec![
                "--client",
                "vllm bench throughput --model meta-llama/Llama-3.1-8B-Instruct --input-len 200000 --num-prompts 2",
            ],
            "Please ensure that max_model_len is greater than the sum of prompt_len and expected_output_len",
        ),
        (
            vec![
                "--client",
                "vllm bench throughput --model meta-llama/Llama-3.1-8B-Instruct --input-len 8 --enforce-eager",
            ],
            "CUDA graphs",
        ),
    ] {
        let mut all = vec!["simulate", "--gpu", "h100-sxm"];
        all.extend(args);
        let (code, _, err) = servecast(&all);
        assert_eq!(code, 2, "{all:?}: {err}");
        assert!(err.contains(words), "{all:?}: {err}");
    }
}

/// Bad input with stderr already closed by its reader (`servecast … 2>&1 | head -1` once `head`
/// has its line): the error is dropped, not a panic, and the exit code is still 2.
#[test]
fn a_bad_input_error_into_a_closed_stderr_still_exits_2() {
    let dir = std::env::temp_dir().join(format!("servecast-closed-stderr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let workload = dir.join("bad.yaml");
    std::fs::write(&workload, "id: x\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_servecast"))
        .args([
            "simulate",
            "--gpu",
            "h100-sxm",
            "--workload",
            workload.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the program writes its error.
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "{status:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_0_11_0_chat_run_says_what_its_template_parse_costs() {
    let args = |release: &str| -> Vec<String> {
        [
            "simulate",
            "--gpu",
            "h100-sxm",
            "--model",
            "qwen3-8b",
            "--engine",
            release,
            "--endpoint",
            "chat",
            "--concurrency",
            "1",
            "--num-requests",
            "4",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run = |release: &str| {
        let a = args(release);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        servecast(&refs)
    };
    let (code, out, err) = run("0.11.0");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("parses the template again for each request (14.0 ms"),
        "{out}"
    );
    let (code, out, err) = run("0.11.1");
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("parses the template"), "{out}");
}

/// The parts of a step the default run prints: one row per decode size and a prefill chunk,
/// no all-reduce column on one GPU and one at TP 2, and a one-sequence decode step that agrees
/// with what seed 000 measured at one user.
#[test]
fn simulate_shows_where_a_steps_time_goes() {
    /// The cells of the table row starting with `label`, as numbers.
    fn row(out: &str, label: &str) -> Vec<f64> {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("| {label} |")))
            .unwrap_or_else(|| panic!("no row '{label}' in:\n{out}"));
        line.split('|')
            .skip(2)
            .filter(|c| !c.trim().is_empty())
            .map(|c| c.trim().parse::<f64>().unwrap_or_else(|e| panic!("{c}: {e}")))
            .collect()
    }
    let (code, out, err) = servecast(&["simulate", "--gpu", "4090", "--util", "0.5", "--seqs", "50"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("| step | dense layers + LM head | attention | host | step time |"),
        "{out}"
    );
    // Seed 000 at one user: 271.99 output tokens/s measured (its report), so at most 3.68 ms per
    // token; the TTFTs (12.4 ms of a 2.7 s request) take under 1% of that. The one-sequence
    // decode step must land within 5% of it.
    let one = row(&out, "decode, 1 sequence");
    let per_token_ms = 1000.0 / 271.99;
    let step_ms = *one.last().unwrap();
    assert!(
        (step_ms / per_token_ms - 1.0).abs() < 0.05,
        "{step_ms} ms vs {per_token_ms} ms"
    );
    // The parts add up to the step (host and GPU in turn: vLLM 0.10 without async scheduling),
    // to the table's rounding.
    let parts: f64 = one[..one.len() - 1].iter().sum();
    assert!((parts - step_ms).abs() < 0.002 * one.len() as f64, "{one:?}");
    // max_num_seqs 50 is the largest decode step (the KV cache holds 93,808 tokens).
    let fifty = row(&out, "decode, 50 sequences");
    assert!(fifty.last().unwrap() > &step_ms);
    let chunk = row(&out, "prefill chunk, 1818 tokens");
    assert!(
        chunk[0] > 10.0 * one[0],
        "a 1818-token chunk is compute-bound: {chunk:?} vs {one:?}"
    );

    // Two GPUs over PCIe: an all-reduce column, two per layer at least 15 µs each.
    let (code, out, err) = servecast(&[
        "simulate",
        "--gpu",
        "4090",
        "--model",
        "qwen2.5-7b-instruct",
        "--tp",
        "2",
        "--concurrency",
        "1",
        "--num-requests",
        "2",
        "--input-len",
        "100",
        "--output-len",
        "10",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("| all-reduce |"), "{out}");
    let header = out.lines().find(|l| l.starts_with("| step |")).unwrap();
    let col = header
        .split('|')
        .map(str::trim)
        .position(|c| c == "all-reduce")
        .unwrap()
        - 2;
    let allreduce_ms = row(&out, "decode, 1 sequence")[col];
    // Qwen2.5-7B has 28 layers: 56 all-reduces per step.
    assert!(
        (56.0 * 0.015..56.0 * 0.030).contains(&allreduce_ms),
        "{allreduce_ms} ms"
    );
}

/// `--format json` carries the same steps as the text table, with every part in seconds.
#[test]
fn json_has_the_steps_parts_in_seconds() {
    let doc = json_of(
        &["simulate", "--gpu", "4090", "--util", "0.5", "--seqs", "50"],
        &["--format", "json"],
    );
    let rows = doc["step_time"].as_array().expect("step_time is a list");
    let seqs: Vec<u64> = rows.iter().map(|r| r["decode_seqs"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 8, 50, 0]);
    assert_eq!(rows[3]["prefill_tokens"].as_u64(), Some(1818));
    for r in rows {
        let part = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("{k} in {r}"));
        let gpu: f64 = [
            "dense_s",
            "experts_read_s",
            "experts_compute_s",
            "moe_floor_s",
            "draft_s",
            "attention_s",
            "head_s",
            "vocoder_s",
            "allreduce_s",
        ]
        .iter()
        .map(|k| part(k))
        .sum();
        // vLLM 0.10 without async scheduling: the host's part, then the GPU's.
        assert_eq!(r["overlap_host"].as_bool(), Some(false));
        let step = part("step_s");
        assert!((step / (gpu + part("host_s")) - 1.0).abs() < 1e-12, "{r}");
        assert!(step > 0.0 && step.is_finite());
    }
}
