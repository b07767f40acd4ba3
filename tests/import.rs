//! Importers: `vllm bench serve` result JSON and seed 004's summary JSON → measured reports.
//!
//! The vllm bench fixtures in `tests/data/synthetic-vllm-bench-*.json` are SYNTHETIC: servecast
//! simulated the runs (Llama-3.1-8B on an A100-SXM4-80GB, vLLM 0.10, `--max-concurrency` 16 and
//! 4, 200 prompts, log-normal lengths) and [`synthetic_vllm_bench_json`] wrote them in vllm bench's
//! format. They test the importer's plumbing, not servecast's accuracy. Regenerate with
//! `cargo test --release --test import -- --ignored regenerate_synthetic_vllm_bench_fixtures`.
//!
//! `tests/data/seed004_564cae3269120fa6.txt` is a verbatim copy of `shared/seeds/004_564cae3269120fa6.txt`
//! (sha256 90434562e829a7ce5b146536949f46ad47a72a2da0e23595b5d147e386e7eec0).
//!
//! `cargo test --release --test import -- --nocapture` prints the figures.

use std::path::PathBuf;

use servecast::engine::{simulate, EngineModel};
use servecast::error::Error;
use servecast::fit::{fit_report, FitOptions};
use servecast::measured::import::{from_vllm_bench_json, from_vllm_bench_runs, level_from_summary_json, ImportContext};
use servecast::measured::{builtin_recorded_configs, builtin_reports, MeasuredLevel, MeasuredReport, StartupOutcome};
use servecast::metrics::percentile_linear;
use servecast::scenario::Scenario;
use servecast::spec::cmdline::parse_vllm_serve;
use servecast::spec::engine::{EngineFlags, EngineVersion};
use servecast::units::secs_to_nanos;
use servecast::workload::arrivals::{ConcurrencyLevel, Endpoint, LoadSpec, WorkloadSpec};
use servecast::workload::lengths::LengthDist;

// ---------------------------------------------------------------------------------------------
// Fixtures

fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn read_data(name: &str) -> String {
    let path = data_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const C16: &str = "synthetic-vllm-bench-llama3.1-8b-a100-c16.json";
const C4: &str = "synthetic-vllm-bench-llama3.1-8b-a100-c4.json";
const SEED004: &str = "seed004_564cae3269120fa6.txt";

/// The deployment the synthetic fixtures were simulated on.
fn fixture_context() -> ImportContext {
    ImportContext {
        gpu: "a100-80g-sxm".into(),
        model: "llama-3.1-8b".into(),
        engine: EngineVersion::Vllm010,
        flags: EngineFlags {
            max_model_len: Some(8192),
            ..EngineFlags::default()
        },
    }
}

fn json_mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn json_std(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let m = json_mean(v);
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt()
}

/// Simulates one `vllm bench serve --request-rate inf --max-concurrency C --num-prompts N` run with
/// servecast (roofline profile) and writes it as `vllm bench serve --save-result --save-detailed
/// --percentile-metrics ttft,tpot,itl,e2el --metric-percentiles 50,90,95,99` would, key order
/// included. SYNTHETIC: the numbers are servecast's, not a measurement. Per-request `itls` and
/// `generated_texts` are left out (servecast keeps no per-token times per request); the pooled
/// ITL statistics are written.
fn synthetic_vllm_bench_json(concurrency: u32, num_prompts: u32, seed: u64) -> String {
    let ctx = fixture_context();
    let workload = WorkloadSpec::new(
        LoadSpec::MaxConcurrency {
            levels: vec![ConcurrencyLevel {
                concurrency,
                num_requests: num_prompts,
            }],
        },
        LengthDist::LogNormal {
            median: 512.0,
            sigma: 0.8,
            min: 16,
            max: 4096,
        },
        LengthDist::LogNormal {
            median: 200.0,
            sigma: 0.6,
            min: 16,
            max: 1024,
        },
    );
    let scenario = Scenario::builder()
        .gpu(&ctx.gpu)
        .model(&ctx.model)
        .engine(ctx.engine)
        .flags(ctx.flags.clone())
        .workload(workload)
        .seed(seed)
        .build()
        .unwrap();
    let memory = scenario.memory().unwrap();
    let cost = scenario.cost_model();
    let (requests, clients) = scenario.workload.generate(0, scenario.seed);
    let model = EngineModel {
        cfg: &scenario.engine,
        cost: &cost,
        usable_blocks: memory.usable_blocks,
        frontend_latency_ns: secs_to_nanos(scenario.profile.cost.frontend_latency_s),
        skip_ahead: true,
        first_chunk_tokens: 1,
        api_server_request_ns: secs_to_nanos(scenario.profile.cost.api_server_request_s),
        api_server_item_ns: secs_to_nanos(scenario.profile.cost.api_server_item_s),
        api_server_breadth_first: false,
        api_server_token_ns: 0.0,
        frontend_jitter_sigma: 0.0,
    };
    let out = simulate(&model, &requests, &clients);
    let s = |ns: u64| ns as f64 / 1e9;
    let start = out.records.iter().map(|r| r.send_ns).min().unwrap_or(0);
    let end = out.records.iter().map(|r| r.finish_ns).max().unwrap_or(start);
    let duration = s(end - start);
    let ok: Vec<_> = out.records.iter().filter(|r| !r.failed).collect();
    assert_eq!(
        ok.len(),
        out.records.len(),
        "the fixture's workload must not fail requests"
    );
    let ttfts: Vec<f64> = out.records.iter().map(|r| s(r.ttft_ns())).collect();
    let e2els: Vec<f64> = ok.iter().map(|r| s(r.e2e_ns())).collect();
    let tpots: Vec<f64> = ok
        .iter()
        .filter(|r| r.output_tokens > 1)
        .map(|r| (s(r.e2e_ns()) - s(r.ttft_ns())) / f64::from(r.output_tokens - 1))
        .collect();
    let mut itls: Vec<f64> = Vec::new();
    for &(ns, n) in &out.itl_ns {
        itls.extend(std::iter::repeat_n(ns / 1e9, n as usize));
    }
    let input_lens: Vec<u32> = out.records.iter().map(|r| r.input_tokens).collect();
    let output_lens: Vec<u32> = out.records.iter().map(|r| r.output_tokens).collect();
    let total_input: u64 = input_lens.iter().map(|&v| u64::from(v)).sum();
    let total_output: u64 = output_lens.iter().map(|&v| u64::from(v)).sum();
    let completed = ok.len() as f64;

    let mut kv: Vec<(String, serde_json::Value)> = Vec::new();
    let mut put = |k: &str, v: serde_json::Value| kv.push((k.to_string(), v));
    use serde_json::json;
    put("date", json!("20250101-000000"));
    put("endpoint_type", json!("vllm"));
    put("backend", json!("vllm"));
    put("label", serde_json::Value::Null);
    put("model_id", json!("meta-llama/Llama-3.1-8B-Instruct"));
    put("tokenizer_id", json!("meta-llama/Llama-3.1-8B-Instruct"));
    put("num_prompts", json!(num_prompts));
    put(
        "note",
        json!(format!(
            "SYNTHETIC, not a measurement: servecast simulated this run (a100-80g-sxm, llama-3.1-8b, vllm-0.10, \
             max_model_len 8192, roofline profile, lengths lognormal:512,0.8,16..4096 in and lognormal:200,0.6,16..1024 \
             out, seed {seed}) and tests/import.rs wrote it in vllm bench serve's format; per-request itls and \
             generated_texts are left out"
        )),
    );
    put("request_rate", json!("inf"));
    put("burstiness", json!(1.0));
    put("max_concurrency", json!(concurrency));
    put("duration", json!(duration));
    put("completed", json!(ok.len()));
    put("total_input_tokens", json!(total_input));
    put("total_output_tokens", json!(total_output));
    put("request_throughput", json!(completed / duration));
    put("request_goodput", serde_json::Value::Null);
    put("output_throughput", json!(total_output as f64 / duration));
    put(
        "total_token_throughput",
        json!((total_input + total_output) as f64 / duration),
    );
    put("input_lens", json!(input_lens));
    put("output_lens", json!(output_lens));
    put("ttfts", json!(ttfts));
    put("errors", json!(vec![""; out.records.len()]));
    for (name, values) in [("ttft", &ttfts), ("tpot", &tpots), ("itl", &itls), ("e2el", &e2els)] {
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        put(&format!("mean_{name}_ms"), json!(json_mean(values) * 1000.0));
        put(
            &format!("median_{name}_ms"),
            json!(percentile_linear(&sorted, 50.0) * 1000.0),
        );
        put(&format!("std_{name}_ms"), json!(json_std(values) * 1000.0));
        for p in [50, 90, 95, 99] {
            put(
                &format!("p{p}_{name}_ms"),
                json!(percentile_linear(&sorted, f64::from(p)) * 1000.0),
            );
        }
    }
    let body: Vec<String> = kv
        .iter()
        .map(|(k, v)| format!("  {}: {}", serde_json::to_string(k).unwrap(), v))
        .collect();
    format!("{{\n{}\n}}\n", body.join(",\n"))
}

#[test]
#[ignore = "regenerates tests/data/synthetic-vllm-bench-*.json"]
fn regenerate_synthetic_vllm_bench_fixtures() {
    for (name, concurrency, seed) in [(C16, 16, 16), (C4, 4, 4)] {
        let text = synthetic_vllm_bench_json(concurrency, 200, seed);
        std::fs::write(data_path(name), text).unwrap();
        println!("wrote {}", data_path(name).display());
    }
}

fn json_field(text: &str, key: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    v[key].clone()
}

/// A top-level number of a fixture, read from its text with Rust's correctly rounded parser
/// (serde_json's default float parsing may be one unit in the last place off).
fn json_f64(text: &str, key: &str) -> f64 {
    let pat = format!("\"{key}\": ");
    let i = text.find(&pat).unwrap_or_else(|| panic!("no {key}")) + pat.len();
    let rest = &text[i..];
    let end = rest.find([',', '\n', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().unwrap_or_else(|e| panic!("{key}: {e}"))
}

/// The text without the top-level lines of `keys` (fixtures have one top-level key per line).
fn without_keys(text: &str, keys: &[&str]) -> String {
    text.lines()
        .filter(|l| !keys.iter().any(|k| l.starts_with(&format!("  \"{k}\":"))))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------------------------
// vllm bench serve

#[test]
fn a_vllm_bench_run_against_the_chat_endpoint_imports_as_chat() {
    let text = read_data(C16);
    let plain = from_vllm_bench_json(&text, C16, &fixture_context()).unwrap();
    assert_eq!(plain.workload.endpoint, Endpoint::Completions);
    // `--backend openai-chat` is saved as `backend` (benchmark_serving.py) or `endpoint_type`
    // (vllm bench serve); the fixture carries both keys.
    let chat_text = text
        .replace("\"backend\": \"vllm\"", "\"backend\": \"openai-chat\"")
        .replace("\"endpoint_type\": \"vllm\"", "\"endpoint_type\": \"openai-chat\"");
    assert_ne!(chat_text, text);
    let chat = from_vllm_bench_json(&chat_text, C16, &fixture_context()).unwrap();
    assert_eq!(chat.workload.endpoint, Endpoint::Chat);
    let said = chat
        .assumptions
        .iter()
        .find(|a| a.field == "workload.endpoint")
        .unwrap();
    assert_eq!(said.value, "chat");
    // The template's tokens are the server's: the client's prompt lengths stay as recorded.
    assert_eq!(chat.workload.input_len, plain.workload.input_len);
}

#[test]
fn vllm_bench_fixture_imports_exactly() {
    let text = read_data(C16);
    let r = from_vllm_bench_json(&text, C16, &fixture_context()).unwrap();
    assert_eq!(r.id, "a100-80g-sxm-llama-3.1-8b-vllm-0.10-vllm-bench");
    assert_eq!(r.provenance.file, C16);
    assert_eq!(r.provenance.section, "vllm bench serve result");
    for needle in ["20250101-000000", "backend vllm", "meta-llama/Llama-3.1-8B-Instruct"] {
        assert!(r.provenance.notes.contains(needle), "{needle}: {}", r.provenance.notes);
    }
    assert_eq!(
        r.workload.load,
        LoadSpec::MaxConcurrency {
            levels: vec![ConcurrencyLevel {
                concurrency: 16,
                num_requests: 200
            }]
        }
    );
    let lens = |key: &str| -> Vec<u32> {
        json_field(&text, key)
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect()
    };
    assert_eq!(
        r.workload.input_len,
        LengthDist::Cycle {
            values: lens("input_lens")
        }
    );
    assert_eq!(
        r.workload.output_len,
        LengthDist::Cycle {
            values: lens("output_lens")
        }
    );
    assert!(r.workload.input_len_per_level.is_none());
    assert_eq!(r.levels.len(), 1);
    let l = &r.levels[0];
    assert_eq!(l.concurrency, Some(16));
    assert_eq!(l.qps, None);
    assert_eq!(l.requests, 200);
    assert_eq!(l.total_time_s, Some(json_f64(&text, "duration")));
    assert_eq!(l.output_throughput_tok_s, Some(json_f64(&text, "output_throughput")));
    assert_eq!(l.request_throughput_req_s, Some(json_f64(&text, "request_throughput")));
    let ttft = l.ttft_ms.unwrap();
    assert_eq!(ttft.mean, Some(json_f64(&text, "mean_ttft_ms")));
    assert_eq!(ttft.p50, Some(json_f64(&text, "median_ttft_ms")));
    assert_eq!(ttft.p95, Some(json_f64(&text, "p95_ttft_ms")));
    assert_eq!(ttft.p99, Some(json_f64(&text, "p99_ttft_ms")));
    assert!(ttft.min.unwrap() <= ttft.p50.unwrap() && ttft.p99.unwrap() <= ttft.max.unwrap());
    let tpot = l.tpot_ms.unwrap();
    assert_eq!(tpot.mean, Some(json_f64(&text, "mean_tpot_ms")));
    assert_eq!(tpot.p99, Some(json_f64(&text, "p99_tpot_ms")));
    let e2e = l.e2e_latency_ms.unwrap();
    assert_eq!(e2e.mean, Some(json_f64(&text, "mean_e2el_ms")));
    assert_eq!(e2e.p50, Some(json_f64(&text, "median_e2el_ms")));
    let out = l.output_tokens.unwrap();
    assert_eq!(
        out.mean,
        Some(json_f64(&text, "total_output_tokens") / json_f64(&text, "completed"))
    );
    assert!(
        l.notes.contains("p90_ttft_ms") && l.notes.contains("std_ttft_ms"),
        "{}",
        l.notes
    );
    assert!(l.notes.contains("ITL ms"), "{}", l.notes);
    // Only the prefix-cache assumption: the lengths are recorded.
    assert_eq!(r.assumptions.len(), 1, "{:?}", r.assumptions);
    println!(
        "imported {C16}: c={:?} n={} {:.1} tok/s, TTFT mean {:.1} ms (min {:.1}, max {:.1}), E2E mean {:.0} ms, TPOT mean {:.2} ms",
        l.concurrency,
        l.requests,
        l.output_throughput_tok_s.unwrap(),
        ttft.mean.unwrap(),
        ttft.min.unwrap(),
        ttft.max.unwrap(),
        e2e.mean.unwrap(),
        tpot.mean.unwrap()
    );
    // The imported report simulates.
    let p = Scenario::builder().from_report(&r).build().unwrap().run().unwrap();
    assert_eq!(p.levels[0].requests, 200);
}

/// Fits `report`, simulates it with the fitted profile and returns the output-throughput error
/// (percent) of every level.
fn round_trip_errors(report: &MeasuredReport) -> Vec<f64> {
    let base = Scenario::builder().from_report(report).build().unwrap();
    let fit = fit_report(report, &base, &FitOptions::default()).unwrap();
    let fitted = Scenario::builder()
        .from_report(report)
        .profile(fit.profile.clone())
        .build()
        .unwrap()
        .run()
        .unwrap();
    report
        .levels
        .iter()
        .zip(&fitted.levels)
        .map(|(m, p)| {
            let measured = m.output_throughput_tok_s.unwrap();
            let err = (p.output_throughput_tok_s / measured - 1.0) * 100.0;
            println!(
                "  {}: c={:?} measured {measured:.2} tok/s, fitted simulation {:.2} tok/s, error {err:+.3}% \
                 (fit: {} simulations; step {:.3} ms, per-seq {:.4} ms, front-end {:.3} ms)",
                report.id,
                m.concurrency,
                p.output_throughput_tok_s,
                fit.evaluations,
                fit.profile.cost.step_overhead_s * 1e3,
                fit.profile.cost.per_seq_overhead_s * 1e3,
                fit.profile.cost.frontend_latency_s * 1e3,
            );
            err
        })
        .collect()
}

#[test]
fn round_trip_import_fit_simulate_reproduces_output_throughput() {
    let text = read_data(C16);
    let r = from_vllm_bench_json(&text, C16, &fixture_context()).unwrap();
    println!("one run:");
    for err in round_trip_errors(&r) {
        assert!(err.abs() < 5.0, "output throughput error {err:+.2}% ≥ 5%");
    }
    // Two runs, given out of order: one report, levels sorted by concurrency.
    let files = vec![(C16.to_string(), text), (C4.to_string(), read_data(C4))];
    let r = from_vllm_bench_runs(&files, &fixture_context()).unwrap();
    assert_eq!(r.workload.levels().len(), 2);
    assert_eq!(
        r.levels.iter().map(|l| l.concurrency).collect::<Vec<_>>(),
        vec![Some(4), Some(16)]
    );
    assert_eq!(r.provenance.file, format!("{C4}, {C16}"));
    let per_level = r.workload.output_len_per_level.as_ref().unwrap();
    assert!(matches!(&per_level[0], LengthDist::Cycle { values } if values.len() == 200));
    assert!(matches!(&r.workload.output_len, LengthDist::Empirical { values } if values.len() == 400));
    println!("two runs:");
    for err in round_trip_errors(&r) {
        assert!(err.abs() < 5.0, "output throughput error {err:+.2}% ≥ 5%");
    }
}

/// The fixture with `request_rate` and `max_concurrency` replaced.
fn with_load(text: &str, rate: &str, max_concurrency: &str) -> String {
    let t = text.replace("\"request_rate\": \"inf\"", &format!("\"request_rate\": {rate}"));
    let old = t
        .lines()
        .find(|l| l.trim_start().starts_with("\"max_concurrency\""))
        .unwrap()
        .to_string();
    t.replace(&old, &format!("  \"max_concurrency\": {max_concurrency},"))
}

#[test]
fn request_rate_maps_to_the_load_kind() {
    let ctx = fixture_context();
    let text = read_data(C16);
    let poisson = from_vllm_bench_json(&with_load(&text, "8.0", "16"), "p.json", &ctx).unwrap();
    assert_eq!(
        poisson.workload.load,
        LoadSpec::Poisson {
            qps: vec![8.0],
            num_requests: 200,
            max_concurrency: Some(16),
            burstiness: 1.0,
            num_requests_per_level: None,
            client_draws: None,
        }
    );
    assert_eq!(
        (poisson.levels[0].qps, poisson.levels[0].concurrency),
        (Some(8.0), None)
    );
    // Python's json.dump writes float('inf') as a bare Infinity; no max_concurrency: all at once.
    let all = from_vllm_bench_json(&with_load(&text, "Infinity", "null"), "inf.json", &ctx).unwrap();
    assert_eq!(
        all.workload.load,
        LoadSpec::MaxConcurrency {
            levels: vec![ConcurrencyLevel {
                concurrency: 200,
                num_requests: 200
            }]
        }
    );
    // Two Poisson runs at different rates: sorted by rate.
    let files = vec![
        ("r8.json".to_string(), with_load(&text, "8", "16")),
        ("r2.json".to_string(), with_load(&read_data(C4), "2.5", "16")),
    ];
    let r = from_vllm_bench_runs(&files, &ctx).unwrap();
    assert!(matches!(&r.workload.load, LoadSpec::Poisson { qps, .. } if qps == &vec![2.5, 8.0]));
    // A run with burstiness ≠ 1 keeps its gamma shape.
    let bursty = with_load(&text, "8", "null").replace("\"burstiness\": 1.0", "\"burstiness\": 0.5");
    let r = from_vllm_bench_json(&bursty, "b.json", &ctx).unwrap();
    assert!(matches!(r.workload.load, LoadSpec::Poisson { burstiness, .. } if burstiness == 0.5));
}

#[test]
fn runs_of_different_load_kinds_are_refused() {
    let ctx = fixture_context();
    let files = vec![
        (C4.to_string(), read_data(C4)),
        ("rate8.json".to_string(), with_load(&read_data(C16), "8.0", "16")),
    ];
    let err = from_vllm_bench_runs(&files, &ctx).unwrap_err().to_string();
    println!("{err}");
    assert!(
        err.contains("one load kind") && err.contains(C4) && err.contains("rate8.json"),
        "{err}"
    );
    let files = vec![
        ("a.json".to_string(), with_load(&read_data(C4), "2", "4")),
        ("b.json".to_string(), with_load(&read_data(C16), "8", "16")),
    ];
    let err = from_vllm_bench_runs(&files, &ctx).unwrap_err().to_string();
    assert!(err.contains("max_concurrency"), "{err}");
    assert!(from_vllm_bench_runs(&[], &ctx).is_err());
}

#[test]
fn without_per_request_arrays_lengths_are_fixed_at_the_mean() {
    // vllm bench serve drops the arrays unless --save-detailed.
    let text = read_data(C16);
    let summary = without_keys(
        &text,
        &[
            "input_lens",
            "output_lens",
            "ttfts",
            "errors",
            "mean_e2el_ms",
            "median_e2el_ms",
        ],
    );
    let r = from_vllm_bench_json(&summary, "summary-only.json", &fixture_context()).unwrap();
    let mean_in = json_f64(&text, "total_input_tokens") / 200.0;
    let mean_out = json_f64(&text, "total_output_tokens") / 200.0;
    assert_eq!(
        r.workload.input_len,
        LengthDist::Fixed {
            tokens: mean_in.round() as u32
        }
    );
    assert_eq!(
        r.workload.output_len,
        LengthDist::Fixed {
            tokens: mean_out.round() as u32
        }
    );
    for field in ["workload.input_len", "workload.output_len"] {
        let a = r.assumptions.iter().find(|a| a.field == field).unwrap();
        assert!(a.reason.contains("--save-detailed"), "{}", a.reason);
        println!("{field}: {} — {}", a.value, a.reason);
    }
    let l = &r.levels[0];
    assert_eq!(l.output_tokens.unwrap().mean, Some(mean_out));
    assert_eq!(l.ttft_ms.unwrap().min, None);
    let e2e = l.e2e_latency_ms.unwrap();
    assert_eq!(e2e.mean, None);
    assert_eq!(e2e.p95, Some(json_f64(&text, "p95_e2el_ms")));
}

#[test]
fn e2e_latency_is_derived_from_ttfts_and_itls_when_absent() {
    // A minimal hand-written file (parser test, not a measurement): three requests.
    let text = r#"{
  "date": "x", "backend": "vllm", "model_id": "m", "num_prompts": 3,
  "request_rate": "inf", "burstiness": 1.0, "max_concurrency": 2,
  "duration": 1.0, "completed": 2, "total_input_tokens": 30, "total_output_tokens": 7,
  "input_lens": [10, 20, 5], "output_lens": [3, 4, 0],
  "ttfts": [0.1, 0.2, 0.0], "itls": [[0.05, 0.05], [0.1, 0.1, 0.1], []],
  "errors": ["", "", "Timeout"],
  "mean_ttft_ms": 150.0, "median_ttft_ms": 150.0, "p99_ttft_ms": 199.0, "std_ttft_ms": NaN
}"#;
    let r = from_vllm_bench_json(text, "tiny.json", &fixture_context()).unwrap();
    let e2e = r.levels[0].e2e_latency_ms.unwrap();
    assert_eq!(e2e.min, Some(200.0));
    assert_eq!(e2e.max, Some(500.0));
    assert!((e2e.mean.unwrap() - 350.0).abs() < 1e-9);
    assert!(r.levels[0].notes.contains("ttft + sum(itls)"));
    // The failed request is left out of the workload and said so.
    assert_eq!(r.workload.input_len, LengthDist::Cycle { values: vec![10, 20] });
    assert_eq!(r.workload.output_len, LengthDist::Cycle { values: vec![3, 4] });
    assert!(r
        .assumptions
        .iter()
        .any(|a| a.reason.contains("1 of the run's requests failed")));
    assert_eq!(
        r.workload.load,
        LoadSpec::MaxConcurrency {
            levels: vec![ConcurrencyLevel {
                concurrency: 2,
                num_requests: 2
            }]
        }
    );
    // Found by the fuzz harness: finite times whose sum (or milliseconds) overflows made a
    // successful request's E2E latency infinite; a request longer than 10^6 s is refused.
    for (from, to, field) in [
        ("[0.05, 0.05]", "[0.05, 1e308]", "`itls[0]`"),
        ("\"ttfts\": [0.1,", "\"ttfts\": [1e308,", "`itls[0]`"),
        ("[0.1, 0.1, 0.1]", "[0.1, 6e5, 6e5]", "`itls[1]`"),
    ] {
        let bad = text.replace(from, to);
        let err = from_vllm_bench_json(&bad, "tiny.json", &fixture_context())
            .unwrap_err()
            .to_string();
        assert!(err.contains("tiny.json") && err.contains(field), "{to}: {err}");
    }
    // Found by the long fuzz run: a duration of 5e-324 s imported Ok with infinite throughputs.
    let bad = text.replace("\"duration\": 1.0", "\"duration\": 5e-324");
    let err = from_vllm_bench_json(&bad, "tiny.json", &fixture_context())
        .unwrap_err()
        .to_string();
    assert!(err.contains("`duration`"), "{err}");
    // Found by the fuzz harness: a start time of Infinity imported Ok into the replayed trace.
    let bad = text.replace("\"errors\":", "\"start_times\": [0.0, Infinity, 0.5], \"errors\":");
    let err = from_vllm_bench_json(&bad, "tiny.json", &fixture_context())
        .unwrap_err()
        .to_string();
    assert!(err.contains("`start_times[1]`"), "{err}");
    // `completed` disagreeing with the arrays is an error, not a guess.
    let bad = text.replace("\"completed\": 2", "\"completed\": 3");
    let err = from_vllm_bench_json(&bad, "tiny.json", &fixture_context()).unwrap_err();
    assert!(err.to_string().contains("`completed`"), "{err}");
}

#[test]
fn malformed_json_is_a_parse_error_with_line_and_column() {
    let text = read_data(C16).replacen("\"completed\":", "\"completed\"", 1);
    let err = from_vllm_bench_json(&text, "broken.json", &fixture_context()).unwrap_err();
    println!("{err}");
    let want_line = text.lines().position(|l| l.contains("\"completed\"")).unwrap() + 1;
    match &err {
        Error::Parse {
            origin, line, column, ..
        } => {
            assert_eq!(origin, "broken.json");
            assert_eq!(*line, want_line);
            assert!(*column > 0);
        }
        other => panic!("{other:?}"),
    }
    let err = level_from_summary_json("{\n  \"concurrency\": 100,\n  \"total_time\": }", "s.json").unwrap_err();
    assert!(matches!(err, Error::Parse { line: 3, .. }), "{err:?}");
    let err = from_vllm_bench_json("[1, 2]", "array.json", &fixture_context()).unwrap_err();
    assert!(err.to_string().contains("expected a JSON object"), "{err}");
}

#[test]
fn missing_required_key_is_named() {
    let text = read_data(C16);
    for key in ["duration", "completed", "request_rate", "total_output_tokens"] {
        let err = from_vllm_bench_json(&without_keys(&text, &[key]), "partial.json", &fixture_context()).unwrap_err();
        println!("{err}");
        match &err {
            Error::InvalidField { origin, field, message } => {
                assert_eq!(origin, "partial.json");
                assert_eq!(field, key);
                assert!(message.contains(&format!("`{key}`")), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
    let err = from_vllm_bench_json(
        &text.replace("\"duration\": ", "\"duration\": \"soon\", \"x\": "),
        "typed.json",
        &fixture_context(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("duration") && err.contains("expected a number"), "{err}");
    for key in ["total_time", "concurrency", "total_output_tokens"] {
        let err = level_from_summary_json(&without_keys(SEED004_BLOCK_972, &[key]), "summary.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("`{key}`")), "{err}");
    }
}

// ---------------------------------------------------------------------------------------------
// Seed 004

/// The block printed right after `vllm serve … --max-num-seqs 972 …` in seed 004, verbatim.
const SEED004_BLOCK_972: &str = r#"{
  "total_requests": 300,
  "successful_requests": 300,
  "concurrency": 100,
  "request_timeout": 30,
  "max_output_tokens": 200,
  "use_long_context": false,
  "total_time": 15.336662769317627,
  "requests_per_second": 19.560969978434745,
  "total_output_tokens": 56040,
  "latency": {
    "average": 4.697544280687968,
    "p50": 5.457625150680542,
    "p95": 5.66543790102005,
    "p99": 5.676970517635345
  },
  "tokens_per_second": {
    "average": 41.51688705412398,
    "p50": 36.44548158359845,
    "p95": 33.90223973704697,
    "p99": 28.44204439362624
  },
  "time_to_first_token(ttft)": {
    "average": 0.5016749437650044,
    "p50": 0.49723684787750244,
    "p95": 0.8220201253890992,
    "p99": 0.8459971141815186
  },
  "time-per-output-token(tpot)": {
    "average": 0.025552019591572526,
    "p50": 0.025552019591572526,
    "p95": 0.025552019591572526,
    "p99": 0.025552019591572526
  }
}"#;

#[test]
fn seed004_summary_block_gives_the_printed_numbers() {
    let l = level_from_summary_json(SEED004_BLOCK_972, "seed004").unwrap();
    println!("{l:#?}");
    assert_eq!(l.concurrency, Some(100));
    assert_eq!(l.qps, None);
    assert_eq!(l.requests, 300);
    assert_eq!(l.total_time_s, Some(15.336662769317627));
    assert_eq!(l.request_throughput_req_s, Some(19.560969978434745));
    assert_eq!(l.output_throughput_tok_s, Some(56040.0 / 15.336662769317627));
    assert!((l.output_throughput_tok_s.unwrap() - 3653.99).abs() < 0.01);
    let e2e = l.e2e_latency_ms.unwrap();
    assert_eq!(e2e.mean, Some(4697.544280687968));
    assert_eq!(e2e.p50, Some(5457.625150680542));
    assert_eq!(e2e.p95, Some(5665.43790102005));
    assert_eq!(e2e.p99, Some(5676.970517635345));
    assert_eq!((e2e.min, e2e.max), (None, None));
    let ttft = l.ttft_ms.unwrap();
    assert_eq!(ttft.mean, Some(501.6749437650044));
    assert_eq!(ttft.p50, Some(497.23684787750244));
    assert_eq!(ttft.p95, Some(822.0201253890992));
    assert_eq!(ttft.p99, Some(845.9971141815186));
    let tpot = l.tpot_ms.unwrap();
    assert_eq!(tpot.mean, Some(25.552019591572526));
    assert_eq!((tpot.p50, tpot.p95, tpot.p99), (None, None, None));
    assert_eq!(l.output_tokens.unwrap().mean, Some(186.8));
    assert_eq!(l.request_output_rate_tok_s, None);
    assert!(l.notes.contains("copies of its average"), "{}", l.notes);
}

/// One JSON block of the seed 004 log.
#[derive(Debug)]
struct Block {
    /// 1-based line of its opening brace.
    line: usize,
    text: String,
    /// The `vllm serve` line it directly follows (possibly after one nvidia-smi line).
    tied_to: Option<String>,
}

fn is_nvidia_smi_memory(line: &str) -> bool {
    let t = line.trim();
    t.contains("MiB /") && t.ends_with("MiB")
}

/// Splits the seed 004 log into JSON blocks and ties each to the command it directly follows.
fn seed004_blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let stripped = lines[i].trim_start_matches('-');
        if stripped.starts_with('{') {
            let dashes = stripped.len() != lines[i].len();
            let start = i;
            let mut body = vec![stripped];
            while i + 1 < lines.len() && lines[i].trim_end() != "}" {
                i += 1;
                body.push(lines[i]);
            }
            let prev = |k: usize| start.checked_sub(k).map(|j| lines[j]);
            let is_cmd = |l: Option<&str>| l.is_some_and(|l| l.starts_with("vllm serve "));
            let tied_to = if dashes {
                None
            } else if is_cmd(prev(1)) {
                prev(1).map(str::to_string)
            } else if prev(1).is_some_and(is_nvidia_smi_memory) && is_cmd(prev(2)) {
                prev(2).map(str::to_string)
            } else {
                None
            };
            blocks.push(Block {
                line: start + 1,
                text: body.join("\n"),
                tied_to,
            });
        }
        i += 1;
    }
    blocks
}

/// The seed 004 reports, in file order, read from data/measured (validated as every report is);
/// where the built-in list embeds them, the embedded copy must be the same.
fn seed004_reports() -> Vec<MeasuredReport> {
    let builtin = builtin_reports().unwrap();
    ["seqs3563", "seqs972", "seqs1723"]
        .iter()
        .map(|name| {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join(format!("data/measured/l40s-qwen2-0.5b-vllm0.6-{name}.yaml"));
            let r = MeasuredReport::from_path(&path).unwrap();
            assert_eq!(r.id, format!("l40s-qwen2-0.5b-vllm0.6-{name}"), "id = file name");
            if let Some(embedded) = builtin.iter().find(|b| b.id == r.id) {
                assert_eq!(embedded, &r, "{}: embedded copy differs", r.id);
            }
            r
        })
        .collect()
}

fn without_notes(l: &MeasuredLevel) -> MeasuredLevel {
    MeasuredLevel {
        notes: String::new(),
        ..l.clone()
    }
}

#[test]
fn seed004_reports_and_untied_runs_are_the_seed_blocks() {
    let seed = read_data(SEED004);
    let blocks = seed004_blocks(&seed);
    assert_eq!(blocks.len(), 12, "JSON blocks in seed 004");
    let tied: Vec<&Block> = blocks.iter().filter(|b| b.tied_to.is_some()).collect();
    let untied: Vec<&Block> = blocks.iter().filter(|b| b.tied_to.is_none()).collect();
    assert_eq!(tied.len(), 3);
    assert_eq!(
        SEED004_BLOCK_972, tied[1].text,
        "the verbatim block above is the seed's"
    );
    let reports = seed004_reports();
    assert_eq!(reports.len(), 3, "one report per tied command");
    let recorded = builtin_recorded_configs().unwrap();
    let started: Vec<&str> = recorded
        .configs
        .iter()
        .filter(|c| c.outcome == StartupOutcome::Started)
        .map(|c| c.command.as_str())
        .collect();
    for (block, report) in tied.iter().zip(&reports) {
        let command = block.tied_to.as_deref().unwrap();
        assert!(started.contains(&command), "{command}");
        assert_eq!(report.flags, parse_vllm_serve(command).unwrap().flags, "{}", report.id);
        assert_eq!(
            (report.gpu.as_str(), report.model.as_str()),
            ("l40s", "qwen2-0.5b-instruct")
        );
        assert_eq!(report.engine, EngineVersion::Vllm06);
        assert!(
            report.provenance.section.contains(&format!("line {}", block.line)),
            "{}",
            report.id
        );
        assert_eq!(report.levels.len(), 1);
        let from_block = level_from_summary_json(&block.text, "seed004").unwrap();
        assert_eq!(
            without_notes(&report.levels[0]),
            without_notes(&from_block),
            "{}",
            report.id
        );
        assert_eq!(
            report.workload.load,
            LoadSpec::MaxConcurrency {
                levels: vec![ConcurrencyLevel {
                    concurrency: 100,
                    num_requests: 300
                }]
            }
        );
        let mean_out = from_block.output_tokens.unwrap().mean.unwrap();
        assert_eq!(
            report.workload.output_len,
            LengthDist::Fixed {
                tokens: mean_out.round() as u32
            }
        );
        let p = Scenario::builder().from_report(report).build().unwrap().run().unwrap();
        let m = &report.levels[0];
        let s = &p.levels[0];
        let err = |pred: f64, meas: f64| (pred / meas - 1.0) * 100.0;
        println!(
            "{} (line {}): measured {:.1} tok/s, E2E {:.0} ms, TTFT {:.0} ms; roofline-only simulation {:.1} tok/s ({:+.1}%), E2E {:.0} ms ({:+.1}%), TTFT {:.0} ms ({:+.1}%), profile {}",
            report.id,
            block.line,
            m.output_throughput_tok_s.unwrap(),
            m.e2e_latency_ms.unwrap().mean.unwrap(),
            m.ttft_ms.unwrap().mean.unwrap(),
            s.output_throughput_tok_s,
            err(s.output_throughput_tok_s, m.output_throughput_tok_s.unwrap()),
            s.e2e_latency_ms.mean,
            err(s.e2e_latency_ms.mean, m.e2e_latency_ms.unwrap().mean.unwrap()),
            s.ttft_ms.mean,
            err(s.ttft_ms.mean, m.ttft_ms.unwrap().mean.unwrap()),
            p.scenario.profile.id,
        );
    }
    assert_eq!(recorded.untied_runs.len(), untied.len());
    for (i, (block, level)) in untied.iter().zip(&recorded.untied_runs).enumerate() {
        let from_block = level_from_summary_json(&block.text, "seed004").unwrap();
        assert_eq!(without_notes(level), without_notes(&from_block), "untied_runs[{i}]");
        assert!(
            level.notes.starts_with(&format!("Line {}. ", block.line)),
            "untied_runs[{i}] names its line {}: {}",
            block.line,
            level.notes
        );
    }
}

#[test]
fn seed004_single_level_fits() {
    // What a fit makes of each one-level seed-004 report (three figures, three parameters).
    for report in seed004_reports() {
        let base = Scenario::builder().from_report(&report).build().unwrap();
        let fit = fit_report(&report, &base, &FitOptions::default()).unwrap();
        let figures: Vec<String> = fit.levels[0]
            .comparison
            .figures
            .iter()
            .filter(|f| f.name.ends_with("mean") || f.name.contains("throughput"))
            .map(|f| format!("{} {:+.1}%", f.name, f.error_pct))
            .collect();
        println!(
            "{}: fitted step {:.3} ms, per-seq {:.4} ms, front-end {:.1} ms → {}",
            report.id,
            fit.profile.cost.step_overhead_s * 1e3,
            fit.profile.cost.per_seq_overhead_s * 1e3,
            fit.profile.cost.frontend_latency_s * 1e3,
            figures.join(", ")
        );
        let thr = fit.levels[0].comparison.figure("output_throughput_tok_s").unwrap();
        assert!(thr.error_pct.abs() < 10.0, "{}: {:+.1}%", report.id, thr.error_pct);
    }
}

#[test]
#[ignore = "one-off: prints seed 004's blocks as YAML levels (how the data files were written)"]
fn print_seed004_levels_as_yaml() {
    for b in seed004_blocks(&read_data(SEED004)) {
        let l = level_from_summary_json(&b.text, "seed004").unwrap();
        // Rust's `{}` prints the shortest decimal that reads back to the same f64: the digits as printed.
        let stats = |s: Option<servecast::measured::MetricStats>| -> String {
            let s = s.unwrap_or_default();
            let parts: Vec<String> = [("mean", s.mean), ("p50", s.p50), ("p95", s.p95), ("p99", s.p99)]
                .iter()
                .filter_map(|(k, v)| v.map(|v| format!("{k}: {v}")))
                .collect();
            format!("{{{}}}", parts.join(", "))
        };
        println!(
            "# line {} tied to: {}",
            b.line,
            b.tied_to.as_deref().unwrap_or("(untied)")
        );
        println!("  - concurrency: {}", l.concurrency.unwrap_or(0));
        println!("    requests: {}", l.requests);
        println!("    total_time_s: {}", l.total_time_s.unwrap_or(0.0));
        println!(
            "    request_throughput_req_s: {}",
            l.request_throughput_req_s.unwrap_or(0.0)
        );
        println!(
            "    output_throughput_tok_s: {}",
            l.output_throughput_tok_s.unwrap_or(0.0)
        );
        println!("    e2e_latency_ms: {}", stats(l.e2e_latency_ms));
        println!("    ttft_ms: {}", stats(l.ttft_ms));
        println!("    tpot_ms: {}", stats(l.tpot_ms));
        println!("    output_tokens: {}", stats(l.output_tokens));
    }
}
