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
        .is_some_and(|h| h.starts_with("max_num_batched_tokens,enable_chunked_prefill,outcome")));
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
