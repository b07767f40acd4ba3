//! Tests of the SGLang bench_serving importer. Fixtures: tests/data/import/sglang (invented
//! numbers in the schemas of sgl-project/sglang's bench_serving; see the README there). Every
//! expected figure below is worked out by hand from the fixture's per-request values.

use std::path::Path;

use servecast::error::Error;
use servecast::measured::import::sglang::SglangBench;
use servecast::measured::import::{
    build_report, detect, import_file, replay_workload, ImportContext, Importer, RunLengths, RunLoad, Source,
};
use servecast::spec::engine::{EngineFlags, EngineVersion};
use servecast::workload::arrivals::LoadSpec;

fn path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/import/sglang")
        .join(name)
}

fn text(name: &str) -> String {
    std::fs::read_to_string(path(name)).unwrap()
}

fn ctx() -> ImportContext {
    ImportContext {
        gpu: "a100-80g-sxm".into(),
        model: "llama-3.1-8b".into(),
        engine: EngineVersion::Vllm010,
        flags: EngineFlags::default(),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// The field an import error names (and that the origin is the file).
fn field_of(e: &Error, origin: &str) -> String {
    match e {
        Error::InvalidField { origin: o, field, .. } => {
            assert!(o.starts_with(origin), "error names {o}, not {origin}");
            field.clone()
        }
        other => panic!("expected an InvalidField error, got {other:?}"),
    }
}

#[test]
fn every_fixture_is_detected_as_sglang() {
    for name in [
        "v0.3-short.jsonl",
        "v0.4-run.jsonl",
        "main-details.jsonl",
        "metrics-dump.jsonl",
    ] {
        let t = text(name);
        assert!(SglangBench.detect(name, &t), "{name}");
        let found = detect(name, &t).unwrap();
        assert_eq!(found.name(), SglangBench.name(), "{name} detected as {}", found.name());
    }
    // Not an SGLang line: a vllm bench result (`mean_e2el_ms`) and an llmperf summary.
    let vllm = r#"{"backend": "vllm", "completed": 3, "request_rate": "inf", "duration": 2.0,
        "total_input_tokens": 30, "total_output_tokens": 30, "mean_e2el_ms": 5.0}"#;
    assert!(!SglangBench.detect("v.json", vllm));
    let llmperf = r#"{"version": "2023-08-31", "num_concurrent_requests": 2, "results_num_completed_requests": 4}"#;
    assert!(!SglangBench.detect("s_summary.json", llmperf));
}

#[test]
fn a_line_that_measured_a_vllm_server_is_claimed_by_sglang() {
    let t = text("vllm-backend.jsonl");
    assert!(SglangBench.detect("vllm-backend.jsonl", &t));
}

#[test]
fn a_line_that_measured_a_vllm_server_is_not_a_vllm_bench_result() {
    let t = text("vllm-backend.jsonl");
    assert_eq!(detect("vllm-backend.jsonl", &t).unwrap().name(), SglangBench.name());
}

#[test]
fn details_line_counts_lengths_and_latencies_of_the_successful_requests() {
    let runs = import_file(&path("main-details.jsonl")).unwrap();
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    assert!(r.format.starts_with("SGLang bench_serving JSONL"));
    assert_eq!(r.model_id.as_deref(), Some("meta-llama/Llama-3.1-8B-Instruct"));
    // 6 sent, request 2 failed (HTTP 500, 0 tokens).
    assert_eq!(r.num_requests, 5);
    assert_eq!(r.failed, 1);
    assert_eq!(
        r.load,
        RunLoad::Poisson {
            rate: 2.0,
            max_concurrency: None,
            burstiness: 1.0
        }
    );
    assert_eq!(r.input, RunLengths::Recorded(vec![100, 120, 150, 90, 110]));
    assert_eq!(r.output, RunLengths::Recorded(vec![50, 40, 60, 30, 20]));
    assert_eq!(r.total_input, 570.0);
    assert_eq!(r.total_output, 200.0);
    assert_eq!(r.requests.len(), 6);
    let bad = &r.requests[2];
    assert!(bad.error.as_deref().unwrap().contains("500"), "{:?}", bad.error);
    assert_eq!(bad.ttft_ms, None);
    assert!(r
        .requests
        .iter()
        .enumerate()
        .all(|(i, q)| (i == 2) == q.error.is_some()));
    // Request 3: ttft 0.1 s, gaps 0.03 + 0.03 + 0.04 s → 200 ms end to end.
    assert!(close(r.requests[3].ttft_ms.unwrap(), 100.0));
    assert!((r.requests[3].e2e_ms.unwrap() - 200.0).abs() < 1e-9);

    let l = &r.level;
    assert_eq!(l.qps, Some(2.0));
    assert_eq!(l.concurrency, None);
    assert_eq!(l.requests, 6);
    assert_eq!(l.successful_requests, Some(5));
    assert_eq!(l.total_input_tokens, Some(570));
    assert_eq!(l.total_output_tokens, Some(200));
    assert_eq!(l.total_time_s, Some(4.0));
    // 5 requests / 4 s; 200 tokens / 4 s; (570 + 200) / 4 s.
    assert_eq!(l.request_throughput_req_s, Some(1.25));
    assert_eq!(l.output_throughput_tok_s, Some(50.0));
    assert_eq!(l.total_token_throughput_tok_s, Some(192.5));
    // TTFTs of the successes: 50, 70, 100, 60, 80 ms → mean 72, median 70, p99 99.2 (numpy
    // linear: 80 + 0.96 × 20), min 50, max 100.
    let ttft = l.ttft_ms.unwrap();
    assert!(close(ttft.mean.unwrap(), 72.0));
    assert!(close(ttft.p50.unwrap(), 70.0));
    assert!(close(ttft.p99.unwrap(), 99.2));
    assert!(close(ttft.min.unwrap(), 50.0));
    assert!(close(ttft.max.unwrap(), 100.0));
    // Latencies 90, 95, 200, 80, 120 ms → mean 117, median 95.
    let e2e = l.e2e_latency_ms.unwrap();
    assert!(close(e2e.mean.unwrap(), 117.0));
    assert!(close(e2e.p50.unwrap(), 95.0));
    // Gaps (ms) 20 20 25 30 30 40 20 20 20 → mean 25, median 20, p95 36, max 40.
    let itl = l.itl_ms.unwrap();
    assert!(close(itl.mean.unwrap(), 25.0));
    assert!(close(itl.p50.unwrap(), 20.0));
    assert!(close(itl.p95.unwrap(), 36.0));
    assert!(close(itl.max.unwrap(), 40.0));
    // Output tokens of the successes: 20 30 40 50 60 → mean 40, median 40.
    let out = l.output_tokens.unwrap();
    assert_eq!(out.mean, Some(40.0));
    assert_eq!(out.p50, Some(40.0));
    assert!(l.tpot_ms.unwrap().mean.unwrap() > 0.0);

    let report = build_report(runs.clone(), &ctx()).unwrap();
    assert_eq!(report.levels.len(), 1);
    assert_eq!(report.levels[0].qps, Some(2.0));
    assert!(report
        .assumptions
        .iter()
        .any(|a| a.reason.contains("1 of the run's requests failed")));
    let w = replay_workload(&runs[0]);
    assert!(matches!(w.load, LoadSpec::Poisson { .. }), "{:?}", w.load);
}

#[test]
fn two_full_lines_are_two_queue_levels_with_mean_lengths() {
    let runs = import_file(&path("v0.4-run.jsonl")).unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs[0].origin.ends_with("v0.4-run.jsonl#1"));
    assert!(runs[1].origin.ends_with("v0.4-run.jsonl#2"));
    assert_eq!(runs[0].load, RunLoad::Queue { concurrency: 4 });
    assert_eq!(runs[1].load, RunLoad::Queue { concurrency: 8 });
    for r in &runs {
        assert_eq!(r.num_requests, 20);
        assert_eq!(r.failed, 0);
        assert!(r.requests.is_empty());
        // 5120 / 20 and 2560 / 20 tokens.
        assert_eq!(r.input, RunLengths::Mean(256.0));
        assert_eq!(r.output, RunLengths::Mean(128.0));
        assert!(r.lengths_hint.contains("--output-details"));
    }
    let (a, b) = (&runs[0].level, &runs[1].level);
    assert_eq!(a.concurrency, Some(4));
    assert_eq!(a.qps, None);
    assert_eq!(a.requests, 20);
    assert_eq!(a.total_time_s, Some(10.0));
    assert_eq!(a.request_throughput_req_s, Some(2.0));
    assert_eq!(a.output_throughput_tok_s, Some(256.0));
    // No total_throughput key in v0.4: (5120 + 2560) / 10 s.
    assert_eq!(a.total_token_throughput_tok_s, Some(768.0));
    let t = a.ttft_ms.unwrap();
    assert_eq!(
        (t.mean, t.p50, t.std, t.p99),
        (Some(40.0), Some(38.0), Some(6.25), Some(70.0))
    );
    assert_eq!(t.min, None);
    assert_eq!(b.ttft_ms.unwrap().mean, Some(55.0));
    assert_eq!(b.e2e_latency_ms.unwrap().p99, Some(2390.0));
    assert_eq!(b.tpot_ms.unwrap().p50, Some(14.25));
    assert_eq!(b.itl_ms.unwrap().p95, Some(18.0));
    // `concurrency` in the line (mean in flight: 20 × 2.3 s / 6 s) is not the load level.
    assert_eq!(b.concurrency, Some(8));
    assert!(b.notes.contains("7.667"), "{}", b.notes);

    let report = build_report(runs, &ctx()).unwrap();
    assert_eq!(report.levels.len(), 2);
    assert_eq!(report.levels[0].concurrency, Some(4));
    assert_eq!(report.levels[1].concurrency, Some(8));
    assert!(report.id.ends_with("-sglang"), "{}", report.id);
    assert!(report
        .assumptions
        .iter()
        .any(|a| a.field.starts_with("workload.input_len")));
}

#[test]
fn short_line_of_2024_gives_medians_and_a_burst() {
    let runs = import_file(&path("v0.3-short.jsonl")).unwrap();
    let r = &runs[0];
    // request_rate Infinity, no max_concurrency, no num_prompts: all 10 completed at once.
    assert_eq!(r.load, RunLoad::Queue { concurrency: 10 });
    assert!(r.assumptions.iter().any(|a| a.field == "workload.load"));
    assert_eq!(r.input, RunLengths::Mean(234.5));
    assert_eq!(r.output, RunLengths::Mean(187.0));
    let l = &r.level;
    // No request_throughput key: 10 / 25 s.
    assert_eq!(l.request_throughput_req_s, Some(0.4));
    assert_eq!(l.output_throughput_tok_s, Some(74.8));
    let t = l.ttft_ms.unwrap();
    assert_eq!((t.mean, t.p50), (None, Some(300.0)));
    let e = l.e2e_latency_ms.unwrap();
    assert_eq!((e.mean, e.p50), (Some(5000.0), Some(4800.0)));
    assert_eq!(l.tpot_ms, None);
    build_report(runs, &ctx()).unwrap();
}

#[test]
fn metrics_dump_reads_renamed_totals_and_nested_details() {
    let runs = import_file(&path("metrics-dump.jsonl")).unwrap();
    let r = &runs[0];
    assert!(r.format.contains("metrics dump"), "{}", r.format);
    assert_eq!(r.load, RunLoad::Queue { concurrency: 2 });
    // total_input 128 + 100 + 128 + 64, total_output 32 + 32 + 16 + 32.
    assert_eq!(r.total_input, 420.0);
    assert_eq!(r.total_output, 112.0);
    assert_eq!(r.input, RunLengths::Recorded(vec![128, 100, 128, 64]));
    assert_eq!(r.output, RunLengths::Recorded(vec![32, 32, 16, 32]));
    assert_eq!(r.requests.len(), 4);
    assert_eq!(r.failed, 0);
    // TTFTs 20, 30, 25, 45 ms: mean 30, median 27.5.
    let t = r.level.ttft_ms.unwrap();
    assert!(close(t.mean.unwrap(), 30.0));
    assert!(close(t.p50.unwrap(), 27.5));
    assert!(close(t.max.unwrap(), 45.0));
    // (420 + 112) / 2.5 s.
    assert!(close(r.level.total_token_throughput_tok_s.unwrap(), 212.8));
    build_report(runs, &ctx()).unwrap();
}

#[test]
fn malformed_lines_name_the_file_and_the_field() {
    let good = text("v0.4-run.jsonl");
    let first = good.lines().next().unwrap();
    let cases = [
        (first.replace("\"completed\": 20, ", ""), "completed"),
        (first.replace("\"duration\": 10.0", "\"duration\": \"ten\""), "duration"),
        (
            first.replace("\"mean_ttft_ms\": 40.0", "\"mean_ttft_ms\": -40.0"),
            "mean_ttft_ms",
        ),
        (
            first.replace("\"request_rate\": Infinity", "\"request_rate\": \"trace\""),
            "request_rate",
        ),
        (
            first.replace("\"request_rate\": Infinity", "\"request_rate\": 0"),
            "request_rate",
        ),
        (
            first.replace("\"max_concurrency\": 4", "\"max_concurrency\": 2.5"),
            "max_concurrency",
        ),
        (first.replace("\"completed\": 20", "\"completed\": 0"), "completed"),
        // Found by the fuzz harness: a duration of 5e-324 s imported Ok with infinite throughputs.
        (first.replace("\"duration\": 10.0", "\"duration\": 5e-324"), "duration"),
    ];
    for (t, field) in cases {
        assert_ne!(t, first, "the case for {field} changed nothing");
        let e = SglangBench.import(&Source::alone("bad.jsonl", &t)).unwrap_err();
        assert_eq!(field_of(&e, "bad.jsonl"), field, "{e}");
    }
    // A negative per-request TTFT, and arrays of different lengths, inside `details`.
    let dump = text("metrics-dump.jsonl");
    let t = dump.replace("\"ttfts\": [0.02,", "\"ttfts\": [-0.02,");
    let e = SglangBench.import(&Source::alone("d.jsonl", &t)).unwrap_err();
    assert_eq!(field_of(&e, "d.jsonl"), "details.ttfts[0]", "{e}");
    // Found by the fuzz harness: a finite TTFT of 1e308 s made the request's E2E latency infinite.
    let t = dump.replace("\"ttfts\": [0.02,", "\"ttfts\": [1e308,");
    let e = SglangBench.import(&Source::alone("d.jsonl", &t)).unwrap_err();
    assert_eq!(field_of(&e, "d.jsonl"), "details.itls[0]", "{e}");
    let t = dump.replace("\"input_lens\": [128, 100, 128, 64]", "\"input_lens\": [128, 100, 128]");
    let e = SglangBench.import(&Source::alone("d.jsonl", &t)).unwrap_err();
    assert!(field_of(&e, "d.jsonl").starts_with("details."), "{e}");
    // The error of the second line names the line.
    let two: Vec<&str> = good.lines().collect();
    let t = format!(
        "{}\n{}\n",
        two[0],
        two[1].replace("\"duration\": 6.0", "\"duration\": -6.0")
    );
    let e = SglangBench.import(&Source::alone("two.jsonl", &t)).unwrap_err();
    assert!(e.to_string().contains("two.jsonl#2"), "{e}");
    assert_eq!(field_of(&e, "two.jsonl#2"), "duration");
}
