//! Tests of the GuideLLM importer: the fixtures in tests/data/import/guidellm (invented numbers in
//! the layouts of GuideLLM v0.3 and report schema v1 / guidellm 0.5), detected, imported with the
//! figures worked out by hand from them, turned into reports, and refused when malformed.

use servecast::error::Error;
use servecast::measured::import::{
    build_report, detect, importers, replay_workload, ImportContext, ImportedRun, Importer, RunLengths, RunLoad, Source,
};
use servecast::spec::engine::{EngineFlags, EngineVersion};
use servecast::workload::arrivals::LoadSpec;

fn fixture(name: &str) -> (String, String) {
    let path = format!("{}/tests/data/import/guidellm/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    (path, text)
}

fn import(name: &str) -> Vec<ImportedRun> {
    let (origin, text) = fixture(name);
    let importer = detect(&origin, &text).expect("detected");
    importer.import(&Source::alone(&origin, &text)).expect("imported")
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
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

#[track_caller]
fn assert_close(a: Option<f64>, b: f64) {
    let a = a.unwrap_or_else(|| panic!("expected {b}, got none"));
    assert!(close(a, b), "expected {b}, got {a}");
}

/// The error's field, or a panic naming what came instead.
#[track_caller]
fn field_of(err: Error, origin: &str) -> String {
    match err {
        Error::InvalidField {
            origin: o,
            field,
            message,
            ..
        } => {
            assert!(o.starts_with(origin), "origin {o} does not name {origin}");
            assert!(!message.is_empty());
            field
        }
        other => panic!("expected an invalid-field error, got {other}"),
    }
}

#[test]
fn fixtures_are_detected_as_guidellm_only() {
    for name in ["v0.3-benchmarks.json", "v0.5-benchmarks.json", "v0.7-benchmarks.json"] {
        let (origin, text) = fixture(name);
        assert_eq!(detect(&origin, &text).expect(name).name(), "GuideLLM benchmarks.json");
        let claim: Vec<&str> = importers()
            .iter()
            .filter(|i| i.detect(&origin, &text))
            .map(|i| i.name())
            .collect();
        assert_eq!(claim, vec!["GuideLLM benchmarks.json"], "{name}");
    }
}

#[test]
fn v03_synchronous_run_has_the_hand_computed_figures() {
    let runs = import("v0.3-benchmarks.json");
    assert_eq!(runs.len(), 3);
    let r = &runs[0];
    assert!(r.origin.ends_with("v0.3-benchmarks.json#1"));
    assert!(r.format.contains("v0.2/v0.3"));
    assert_eq!(r.model_id.as_deref(), Some("meta-llama/Llama-3.1-8B-Instruct"));
    assert_eq!(r.load, RunLoad::Queue { concurrency: 1 });
    assert_eq!(r.num_requests, 4);
    assert_eq!(r.failed, 1);
    assert_eq!(r.level.concurrency, Some(1));
    assert_eq!(r.level.qps, None);
    assert_eq!(r.level.requests, 5);
    assert_eq!(r.level.successful_requests, Some(4));
    assert_eq!(r.input, RunLengths::Recorded(vec![100, 120, 80, 100]));
    assert_eq!(r.output, RunLengths::Recorded(vec![50, 40, 60, 50]));
    assert_eq!(r.total_input, 400.0);
    assert_eq!(r.total_output, 200.0);
    assert_eq!(r.level.total_input_tokens, Some(400));
    assert_eq!(r.level.total_output_tokens, Some(200));
    // TTFTs 20, 30, 25, 25 ms.
    let ttft = r.level.ttft_ms.expect("ttft");
    assert_close(ttft.mean, 25.0);
    assert_close(ttft.p50, 25.0);
    assert_close(ttft.min, 20.0);
    assert_close(ttft.max, 30.0);
    // Latencies 1.0, 0.81, 0.91, 1.25 s.
    let e2e = r.level.e2e_latency_ms.expect("e2e");
    assert_close(e2e.mean, 992.5);
    assert_close(e2e.max, 1250.0);
    // vLLM's TPOT per request: (1000−20)/49, (810−30)/39, (910−25)/59, (1250−25)/49 = 20, 20, 15, 25.
    let tpot = r.level.tpot_ms.expect("tpot");
    assert_close(tpot.mean, 20.0);
    assert_close(tpot.p50, 20.0);
    assert_close(tpot.min, 15.0);
    // GuideLLM's ITL weighs each request by its output − 1 tokens: 3870 / 196.
    assert_close(r.level.itl_ms.expect("itl").mean, 3870.0 / 196.0);
    // From the first send (t0) to the end of the errored request (3.97 + 0.03 s).
    assert_close(r.level.total_time_s, 4.0);
    assert_close(r.level.request_throughput_req_s, 1.0);
    assert_close(r.level.output_throughput_tok_s, 50.0);
    assert_close(r.level.total_token_throughput_tok_s, 150.0);
    // Every request kept, in send order, the errored one last with its message.
    assert_eq!(r.requests.len(), 5);
    assert!(r.requests[..4].iter().all(|q| q.error.is_none()));
    let bad = &r.requests[4];
    assert!(bad.error.as_deref().is_some_and(|e| e.contains("500")));
    assert_eq!(bad.input_tokens, 90);
    let starts: Vec<f64> = r.requests.iter().map(|q| q.start_s.expect("start")).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]));
    assert_close(Some(starts[1] - starts[0]), 1.0);
    assert_close(r.requests[2].ttft_ms, 25.0);
    assert_close(r.requests[1].e2e_ms, 810.0);
}

#[test]
fn v03_concurrent_and_constant_runs() {
    let runs = import("v0.3-benchmarks.json");
    let c = &runs[1];
    assert_eq!(c.load, RunLoad::Queue { concurrency: 4 });
    assert_eq!((c.num_requests, c.failed), (6, 0));
    // TTFTs 40, 50, …, 90: mean 65; GuideLLM's median is the first value whose CDF reaches 0.5.
    let ttft = c.level.ttft_ms.expect("ttft");
    assert_close(ttft.mean, 65.0);
    assert_close(ttft.p50, 60.0);
    assert_eq!(c.input, RunLengths::Recorded(vec![100, 110, 120, 130, 140, 150]));
    assert_eq!(c.total_input, 750.0);
    assert_close(c.level.total_time_s, 3.0);

    let k = &runs[2];
    match k.load {
        RunLoad::Poisson {
            rate,
            max_concurrency,
            burstiness,
        } => {
            assert_eq!(rate, 2.0);
            assert_eq!(max_concurrency, None);
            assert_eq!(burstiness, 100.0, "constant rate is evenly spaced, got {burstiness}");
        }
        other => panic!("constant strategy read as {other:?}"),
    }
    assert_eq!(k.level.qps, Some(2.0));
    assert_eq!(k.level.concurrency, None);
    assert_eq!((k.num_requests, k.failed), (5, 1));
    assert_eq!(k.level.requests, 6);
    assert_eq!(k.output, RunLengths::Recorded(vec![40, 50, 60, 70, 80]));
    assert!(k.assumptions.iter().any(|a| a.field.contains("burstiness")));
    assert!(k
        .requests
        .iter()
        .any(|q| q.error.as_deref().is_some_and(|e| e.contains("incomplete"))));
    // Replayed from the recorded sends: 5 successful requests 0.5 s apart.
    let w = replay_workload(k);
    match &w.load {
        LoadSpec::Trace { requests } => {
            assert_eq!(requests.len(), 5);
            assert_close(Some(requests[4].arrival_s), 2.0);
            assert_eq!(requests[3].output_tokens, 70);
        }
        other => panic!("expected a trace, got {other:?}"),
    }
}

#[test]
fn v05_poisson_run_and_sampled_throughput_run() {
    let runs = import("v0.5-benchmarks.json");
    assert_eq!(runs.len(), 2);
    let p = &runs[0];
    assert!(
        p.format.contains("schema v1") && p.format.contains("0.5.0"),
        "{}",
        p.format
    );
    assert_eq!(p.model_id.as_deref(), Some("meta-llama/Llama-3.1-8B-Instruct"));
    assert_eq!(
        p.load,
        RunLoad::Poisson {
            rate: 4.0,
            max_concurrency: None,
            burstiness: 1.0
        }
    );
    assert_eq!((p.num_requests, p.failed), (5, 1));
    assert_eq!(p.level.qps, Some(4.0));
    assert_eq!(p.input, RunLengths::Recorded(vec![200, 220, 240, 260, 280]));
    assert_eq!(p.total_output, 500.0);
    let ttft = p.level.ttft_ms.expect("ttft");
    assert_close(ttft.mean, 60.0);
    assert_close(ttft.p50, 60.0);
    assert_close(p.level.e2e_latency_ms.expect("e2e").mean, 1500.0);
    // First send at 0.1 s, last end at 1.1 + 1.5 s.
    assert_close(p.level.total_time_s, 2.5);
    assert_close(p.level.request_throughput_req_s, 2.0);
    assert_close(p.level.output_throughput_tok_s, 200.0);
    assert!(p
        .requests
        .iter()
        .any(|q| q.error.as_deref() == Some("ReadTimeout: timed out")));

    let t = &runs[1];
    assert_eq!(t.load, RunLoad::Queue { concurrency: 8 });
    assert_eq!((t.num_requests, t.failed), (8, 0));
    // Only 3 of 8 requests kept: lengths are the distributions' totals ÷ 8.
    assert_eq!(t.input, RunLengths::Mean(300.0));
    assert_eq!(t.output, RunLengths::Mean(80.0));
    assert!(t.lengths_hint.contains("sample-requests"));
    assert_eq!(t.requests.len(), 3);
    let ttft = t.level.ttft_ms.expect("ttft");
    assert_close(ttft.mean, 170.0);
    assert_close(ttft.p50, 160.0);
    assert!(t.level.tpot_ms.is_none(), "TPOT needs every request");
    // A sample of 3 sends is no trace: the replay is the queue of 8 with the mean lengths.
    assert!(t.requests.iter().all(|q| q.start_s.is_none()));
    match replay_workload(t).load {
        LoadSpec::MaxConcurrency { levels } => {
            assert_eq!(levels[0].concurrency, 8);
            assert_eq!(levels[0].num_requests, 8);
        }
        other => panic!("expected a queue, got {other:?}"),
    }
}

#[test]
fn reports_build() {
    let runs = import("v0.3-benchmarks.json");
    let queue: Vec<ImportedRun> = runs[..2].to_vec();
    let report = build_report(queue, &ctx()).expect("queue runs");
    assert_eq!(report.levels.len(), 2);
    assert_eq!(report.levels[0].concurrency, Some(1));
    assert_eq!(report.levels[1].concurrency, Some(4));
    assert!(report.id.ends_with("-guidellm"), "{}", report.id);
    assert!(report
        .assumptions
        .iter()
        .any(|a| a.reason.contains("1 of the run's requests failed")));
    let constant = build_report(vec![runs[2].clone()], &ctx()).expect("constant run");
    assert_eq!(constant.levels[0].qps, Some(2.0));

    let v05 = import("v0.5-benchmarks.json");
    for r in &v05 {
        build_report(vec![r.clone()], &ctx()).expect("v0.5 run");
    }
    let sampled = build_report(vec![v05[1].clone()], &ctx()).expect("sampled");
    assert!(sampled
        .assumptions
        .iter()
        .any(|a| a.field == "workload.input_len" && a.value.starts_with("300 tokens")));
    // A rate and a queue do not make one report.
    let err = build_report(v05, &ctx()).expect_err("mixed loads");
    assert!(matches!(err, Error::InvalidField { .. }));
}

/// The fixture with one edit, imported.
fn import_edited(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Error {
    let (origin, text) = fixture(name);
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("fixture json");
    edit(&mut v);
    let edited = serde_json::to_string_pretty(&v).expect("json");
    let importer = detect(&origin, &edited).expect("still detected");
    importer
        .import(&Source::alone(&origin, &edited))
        .expect_err("malformed input must fail")
}

#[test]
fn malformed_files_fail_naming_file_and_field() {
    let (origin, _) = fixture("v0.3-benchmarks.json");
    let err = import_edited("v0.3-benchmarks.json", |v| {
        v["benchmarks"][1]
            .as_object_mut()
            .expect("obj")
            .remove("request_totals");
    });
    assert_eq!(field_of(err, &origin), "benchmarks[1].request_totals");

    let err = import_edited("v0.3-benchmarks.json", |v| {
        v["benchmarks"][1]["requests"]["successful"][2]["prompt_tokens"] = "many".into();
    });
    assert_eq!(
        field_of(err, &origin),
        "benchmarks[1].requests.successful[2].prompt_tokens"
    );

    let err = import_edited("v0.3-benchmarks.json", |v| {
        v["benchmarks"][0]["requests"]["successful"][1]["time_to_first_token_ms"] = (-5.0).into();
    });
    assert_eq!(
        field_of(err, &origin),
        "benchmarks[0].requests.successful[1].time_to_first_token_ms"
    );

    // Found by the fuzz harness: a successful request whose request_latency (0.001 s) was
    // shorter than its TTFT (20 ms) imported Ok with a negative TPOT; a percentile of Infinity,
    // and a latency of 1e308 s (infinite in ms), imported Ok too.
    let err = import_edited("v0.3-benchmarks.json", |v| {
        v["benchmarks"][0]["requests"]["successful"][0]["request_latency"] = 0.001.into();
    });
    assert_eq!(
        field_of(err, &origin),
        "benchmarks[0].requests.successful[0].request_latency"
    );
    let err = import_edited("v0.3-benchmarks.json", |v| {
        v["benchmarks"][0]["requests"]["successful"][0]["request_latency"] = 1e308.into();
    });
    assert_eq!(
        field_of(err, &origin),
        "benchmarks[0].requests.successful[0].request_latency"
    );
    let err = import_edited("v0.3-benchmarks.json", |v| {
        v["benchmarks"][0]["metrics"]["time_to_first_token_ms"]["successful"]["percentiles"]["p50"] = 1e300.into();
    });
    assert_eq!(
        field_of(err, &origin),
        "benchmarks[0].metrics.time_to_first_token_ms.successful.percentiles.p50"
    );

    let err = import_edited("v0.3-benchmarks.json", |v| {
        v["benchmarks"][2]["args"]["strategy"]["rate"] = (-2.0).into();
    });
    assert_eq!(field_of(err, &origin), "benchmarks[2].args.strategy.rate");

    let (origin5, _) = fixture("v0.5-benchmarks.json");
    let err = import_edited("v0.5-benchmarks.json", |v| {
        v["benchmarks"][0]["requests"]["successful"][3]["request_latency"] = (-1.5).into();
    });
    assert_eq!(
        field_of(err, &origin5),
        "benchmarks[0].requests.successful[3].request_latency"
    );

    let err = import_edited("v0.5-benchmarks.json", |v| {
        v["benchmarks"][1]["scheduler_metrics"]
            .as_object_mut()
            .expect("obj")
            .remove("measure_end_time");
    });
    assert_eq!(
        field_of(err, &origin5),
        "benchmarks[1].scheduler_metrics.measure_end_time"
    );

    let err = import_edited("v0.5-benchmarks.json", |v| {
        v["benchmarks"][0]["config"]["strategy"]["type_"] = "bursty".into();
    });
    assert_eq!(field_of(err, &origin5), "benchmarks[0].config.strategy.type_");
}

#[test]
fn python_non_finite_values_are_read() {
    let (origin, text) = fixture("v0.3-benchmarks.json");
    // GuideLLM writes a distribution's figures as floats; NaN for an empty distribution.
    let edited = text.replacen("\"mode\": ", "\"mode\": NaN, \"unused\": ", 1);
    let runs = servecast::measured::import::guidellm::GuideLlm
        .import(&Source::alone(&origin, &edited))
        .expect("NaN tolerated");
    assert_eq!(runs.len(), 3);
}

#[test]
fn v07_report_schema_v2_concurrent_and_sampled_constant_runs() {
    let runs = import("v0.7-benchmarks.json");
    assert_eq!(runs.len(), 2);
    let c = &runs[0];
    assert!(
        c.format.contains("schema v2") && c.format.contains("0.7.3"),
        "{}",
        c.format
    );
    assert!(c.origin.ends_with("v0.7-benchmarks.json#1"));
    assert_eq!(c.model_id.as_deref(), Some("Qwen/Qwen3-8B"));
    assert_eq!(c.load, RunLoad::Queue { concurrency: 2 });
    assert_eq!(c.level.concurrency, Some(2));
    assert_eq!(c.level.qps, None);
    assert_eq!((c.num_requests, c.failed), (4, 1));
    assert_eq!(c.level.requests, 5);
    assert_eq!(c.level.successful_requests, Some(4));
    assert_eq!(c.input, RunLengths::Recorded(vec![128, 256, 128, 192]));
    assert_eq!(c.output, RunLengths::Recorded(vec![32, 64, 32, 48]));
    assert_eq!((c.total_input, c.total_output), (704.0, 176.0));
    // TTFTs 40, 60, 50, 70 ms.
    let ttft = c.level.ttft_ms.expect("ttft");
    assert_close(ttft.mean, 55.0);
    assert_close(ttft.min, 40.0);
    assert_close(ttft.max, 70.0);
    // Latencies 0.71, 1.32, 0.67, 0.94 s: mean 3.64 / 4.
    assert_close(c.level.e2e_latency_ms.expect("e2e").mean, 910.0);
    // From the first sends at 0 s to the end of c3 (1.32 + 0.94 s).
    assert_close(c.level.total_time_s, 2.26);
    assert_close(c.level.request_throughput_req_s, 4.0 / 2.26);
    assert_close(c.level.success_rate, 0.8);
    assert!(c
        .requests
        .iter()
        .any(|q| q.error.as_deref().is_some_and(|e| e.contains("503"))));

    let k = &runs[1];
    assert_eq!(
        k.load,
        RunLoad::Poisson {
            rate: 2.0,
            max_concurrency: None,
            burstiness: 100.0
        }
    );
    assert_eq!(k.level.qps, Some(2.0));
    assert_eq!((k.num_requests, k.failed), (4, 0));
    // sample_size 2: two of four requests kept, so lengths are totals ÷ 4 = 800 / 4 and 200 / 4.
    assert_eq!(k.requests.len(), 2);
    assert_eq!(k.input, RunLengths::Mean(200.0));
    assert_eq!(k.output, RunLengths::Mean(50.0));
    assert!(k.lengths_hint.contains("sample_size 2"), "{}", k.lengths_hint);
    // TTFTs 30, 50, 40, 60 ms (the distribution covers all four, not the two kept).
    assert_close(k.level.ttft_ms.expect("ttft").mean, 45.0);
    // Sends at 5.0 … 6.5 s, last end 6.5 + 1.4 s.
    assert_close(k.level.total_time_s, 2.9);
    build_report(vec![c.clone()], &ctx()).expect("v0.7 concurrent run");
    build_report(vec![k.clone()], &ctx()).expect("v0.7 constant run");
}
