//! Tests of the AIPerf importer: the fixtures in tests/data/import/aiperf (invented numbers in the
//! layout of AIPerf's profile_export.jsonl and profile_export_aiperf.json), detected, imported with
//! the figures worked out by hand from them, turned into reports, and refused when malformed.
//!
//! The run: 8 requests at concurrency 4, one failed (HTTP 500). The 7 successful ones have TTFT
//! 100, 120, 90, 110, 100, 130, 80 ms, latency 1000, 1200, 900, 1100, 1000, 1300, 800 ms, prompts
//! 500, 520, 480, 500, 510, 490, 500 and outputs 91, 109, 82, 100, 91, 118, 73 tokens (an
//! inter-token latency of 10 ms each); the first send is at 0 s and the last answer at 2.2 s.

use servecast::error::Error;
use servecast::measured::import::{
    build_report, detect, import_file, importers, ImportContext, ImportedRun, Importer, RunLengths, RunLoad, Source,
};
use servecast::spec::engine::{EngineFlags, EngineVersion};

fn path(name: &str) -> String {
    format!("{}/tests/data/import/aiperf/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> (String, String) {
    let p = path(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
    (p, text)
}

fn ctx() -> ImportContext {
    ImportContext {
        gpu: "a100-80g-sxm".into(),
        model: "llama-3.1-8b".into(),
        engine: EngineVersion::Vllm010,
        flags: EngineFlags::default(),
    }
}

#[track_caller]
fn assert_close(a: Option<f64>, b: f64) {
    let a = a.unwrap_or_else(|| panic!("expected {b}, got none"));
    assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "expected {b}, got {a}");
}

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

const OK_TTFT: [f64; 7] = [100.0, 120.0, 90.0, 110.0, 100.0, 130.0, 80.0];

#[test]
fn fixtures_are_detected_as_aiperf_only() {
    for name in ["profile_export.jsonl", "profile_export_aiperf.json"] {
        let (origin, text) = fixture(name);
        assert_eq!(detect(&origin, &text).expect(name).name(), "AIPerf profile export");
        let claim: Vec<&str> = importers()
            .iter()
            .filter(|i| i.detect(&origin, &text))
            .map(|i| i.name())
            .collect();
        assert_eq!(claim, vec!["AIPerf profile export"], "{name}");
    }
    // And the GuideLLM fixtures are not AIPerf's.
    let g = format!(
        "{}/tests/data/import/guidellm/v0.5-benchmarks.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&g).expect("guidellm fixture");
    assert!(!servecast::measured::import::aiperf::AiPerf.detect(&g, &text));
}

fn check_records_run(r: &ImportedRun) {
    assert_eq!(r.format, "AIPerf profile_export.jsonl");
    assert_eq!((r.num_requests, r.failed), (7, 1));
    assert_eq!(r.level.requests, 8);
    assert_eq!(r.level.successful_requests, Some(7));
    // Sorted by send time: the four at 0 s, then 0.9 s, 1.0 s, 1.1 s.
    assert_eq!(r.input, RunLengths::Recorded(vec![500, 520, 480, 500, 490, 510, 500]));
    assert_eq!(r.output, RunLengths::Recorded(vec![91, 109, 82, 100, 118, 91, 73]));
    assert_eq!(r.total_input, 3500.0);
    assert_eq!(r.total_output, 664.0);
    let ttft = r.level.ttft_ms.expect("ttft");
    assert_close(ttft.mean, OK_TTFT.iter().sum::<f64>() / 7.0);
    assert_close(ttft.p50, 100.0);
    assert_close(ttft.min, 80.0);
    assert_close(ttft.max, 130.0);
    assert_close(r.level.e2e_latency_ms.expect("e2e").mean, 7300.0 / 7.0);
    let tpot = r.level.tpot_ms.expect("tpot");
    assert_close(tpot.mean, 10.0);
    assert_close(tpot.p99, 10.0);
    assert_close(r.level.total_time_s, 2.2);
    assert_eq!(r.requests.len(), 8);
    let bad: Vec<_> = r.requests.iter().filter(|q| q.error.is_some()).collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].input_tokens, 505);
    assert!(bad[0].error.as_deref().is_some_and(|e| e.contains("500")));
    assert_close(r.requests[0].start_s, 0.0);
    assert_close(r.requests[4].start_s, 0.9);
}

#[test]
fn jsonl_with_its_aggregate_beside_it() {
    let runs = import_file(std::path::Path::new(&path("profile_export.jsonl"))).expect("imported");
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    check_records_run(r);
    // From profile_export_aiperf.json: --concurrency 4, the model, the run's own throughputs.
    assert_eq!(r.load, RunLoad::Queue { concurrency: 4 });
    assert_eq!(r.level.concurrency, Some(4));
    assert_eq!(r.model_id.as_deref(), Some("meta-llama/Llama-3.1-8B-Instruct"));
    assert_close(r.level.request_throughput_req_s, 7.0 / 2.2);
    assert_close(r.level.output_throughput_tok_s, 664.0 / 2.2);
    assert!(r.assumptions.is_empty());
    let report = build_report(runs, &ctx()).expect("report");
    assert_eq!(report.levels.len(), 1);
    assert!(report.id.ends_with("-aiperf"), "{}", report.id);
}

#[test]
fn jsonl_alone_infers_the_concurrency_from_the_records() {
    let (origin, text) = fixture("profile_export.jsonl");
    let runs = detect(&origin, &text)
        .expect("detected")
        .import(&Source::alone(&origin, &text))
        .expect("imported");
    let r = &runs[0];
    check_records_run(r);
    // At most 4 requests overlap (the four sent at 0 s).
    assert_eq!(r.load, RunLoad::Queue { concurrency: 4 });
    assert!(r.assumptions.iter().any(|a| a.field == "workload.load"));
    assert_eq!(r.model_id, None);
    assert_close(r.level.request_throughput_req_s, 7.0 / 2.2);
    build_report(runs, &ctx()).expect("report");
}

#[test]
fn aggregate_alone_gives_means() {
    let (origin, text) = fixture("profile_export_aiperf.json");
    let runs = detect(&origin, &text)
        .expect("detected")
        .import(&Source::alone(&origin, &text))
        .expect("imported");
    let r = &runs[0];
    assert_eq!(r.format, "AIPerf aggregate JSON");
    assert_eq!(r.load, RunLoad::Queue { concurrency: 4 });
    assert_eq!((r.num_requests, r.failed), (7, 1));
    assert_eq!(r.input, RunLengths::Mean(500.0));
    assert_eq!(r.output, RunLengths::Mean(664.0 / 7.0));
    assert!(r.requests.is_empty());
    assert!(r.lengths_hint.contains("profile_export.jsonl"));
    let ttft = r.level.ttft_ms.expect("ttft");
    assert_close(ttft.mean, OK_TTFT.iter().sum::<f64>() / 7.0);
    assert_close(ttft.p50, 100.0);
    // numpy's linear p90 of 80, 90, 100, 100, 110, 120, 130: 120 + 0.4 × 10.
    assert_close(ttft.p90, 124.0);
    assert_close(r.level.e2e_latency_ms.expect("e2e").max, 1300.0);
    assert_close(r.level.total_time_s, 2.2);
    assert_close(r.level.request_throughput_req_s, 7.0 / 2.2);
    let report = build_report(runs, &ctx()).expect("report");
    assert!(report
        .assumptions
        .iter()
        .any(|a| a.field == "workload.output_len" && a.value.starts_with("95 tokens")));
}

#[test]
fn aggregate_with_a_request_rate() {
    let (origin, text) = fixture("profile_export_aiperf.json");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["input_config"]["loadgen"] = serde_json::json!({"request_rate": 5.0, "request_rate_mode": "constant"});
    let edited = serde_json::to_string_pretty(&v).expect("json");
    let r = servecast::measured::import::aiperf::AiPerf
        .import(&Source::alone(&origin, &edited))
        .expect("imported");
    assert_eq!(
        r[0].load,
        RunLoad::Poisson {
            rate: 5.0,
            max_concurrency: None,
            burstiness: 100.0
        }
    );
    assert_eq!(r[0].level.qps, Some(5.0));
    build_report(r, &ctx()).expect("report");
}

#[test]
fn malformed_files_fail_naming_file_and_field() {
    let (origin, text) = fixture("profile_export.jsonl");
    let alone = |t: &str| {
        servecast::measured::import::aiperf::AiPerf
            .import(&Source::alone(&origin, t))
            .expect_err("malformed input must fail")
    };
    let lines: Vec<&str> = text.lines().collect();
    let edit_line = |n: usize, f: &dyn Fn(&mut serde_json::Value)| -> String {
        let mut out = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            if i + 1 == n {
                let mut v: serde_json::Value = serde_json::from_str(l).expect("line");
                f(&mut v);
                out.push(serde_json::to_string(&v).expect("json"));
            } else {
                out.push(l.to_string());
            }
        }
        out.join("\n")
    };
    // Missing required key.
    let t = edit_line(3, &|v| {
        v["metadata"].as_object_mut().expect("obj").remove("request_start_ns");
    });
    assert_eq!(field_of(alone(&t), &origin), "line 3.metadata.request_start_ns");
    // Wrong type.
    let t = edit_line(2, &|v| v["metrics"]["time_to_first_token"]["value"] = "fast".into());
    assert_eq!(field_of(alone(&t), &origin), "line 2.metrics.time_to_first_token.value");
    let t = edit_line(5, &|v| v["metadata"]["request_start_ns"] = "soon".into());
    assert_eq!(field_of(alone(&t), &origin), "line 5.metadata.request_start_ns");
    // Negative latency.
    let t = edit_line(4, &|v| v["metrics"]["request_latency"]["value"] = (-3.0).into());
    assert_eq!(field_of(alone(&t), &origin), "line 4.metrics.request_latency.value");

    let (agg_origin, agg) = fixture("profile_export_aiperf.json");
    let agg_err = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value = serde_json::from_str(&agg).expect("json");
        f(&mut v);
        servecast::measured::import::aiperf::AiPerf
            .import(&Source::alone(&agg_origin, &v.to_string()))
            .expect_err("malformed aggregate must fail")
    };
    let e = agg_err(&|v| {
        v.as_object_mut().expect("obj").remove("request_count");
    });
    assert_eq!(field_of(e, &agg_origin), "request_count.avg");
    let e = agg_err(&|v| {
        v["time_to_first_token"].as_object_mut().expect("obj").remove("unit");
    });
    assert_eq!(field_of(e, &agg_origin), "time_to_first_token.unit");
    let e = agg_err(&|v| v["request_latency"]["min"] = (-1.0).into());
    assert_eq!(field_of(e, &agg_origin), "request_latency");
    // Found by the fuzz harness: output_sequence_length.avg -1 imported Ok as a negative
    // output_tokens.mean.
    let e = agg_err(&|v| v["output_sequence_length"]["p90"] = (-1.0).into());
    assert_eq!(field_of(e, &agg_origin), "output_sequence_length.p90");
    // Found by the fuzz harness: a benchmark_duration of 5e-324 s imported Ok with an infinite
    // total_token_throughput_tok_s.
    let e = agg_err(&|v| v["benchmark_duration"]["avg"] = 5e-324.into());
    assert_eq!(field_of(e, &agg_origin), "benchmark_duration.avg");
    // Found by the long fuzz run: 1e308 s is infinite in ms, and imported as total_time_s inf.
    let e = agg_err(&|v| v["benchmark_duration"]["avg"] = 1e308.into());
    assert_eq!(field_of(e, &agg_origin), "benchmark_duration.avg");
    let e = agg_err(&|v| v["input_config"]["loadgen"]["concurrency"] = "four".into());
    assert_eq!(field_of(e, &agg_origin), "input_config.loadgen.concurrency");
}

// ---------------------------------------------------------------------------------------------
// profile_export_aiperf.csv: the aggregate figures of the same run, two decimals, as AIPerf's
// CsvExporter writes them; the load and model come from profile_export_aiperf.json beside it.

#[test]
fn aggregate_csv_is_detected_by_its_header_row() {
    let (origin, text) = fixture("profile_export_aiperf.csv");
    let claim: Vec<&str> = importers()
        .iter()
        .filter(|i| i.detect(&origin, &text))
        .map(|i| i.name())
        .collect();
    assert_eq!(claim, vec!["AIPerf profile export"]);
    // The content decides, not the name: the same table under another name is still detected,
    // and other text under the CSV's name is not.
    assert!(detect("results.csv", &text).is_ok());
    assert!(detect("profile_export_aiperf.csv", "name,value\na,1\n").is_err());
}

#[test]
fn aggregate_csv_imports_with_the_load_of_the_json_beside_it() {
    let runs = import_file(std::path::Path::new(&path("profile_export_aiperf.csv"))).expect("imported");
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    assert_eq!(r.format, "AIPerf aggregate CSV");
    assert_eq!(r.model_id.as_deref(), Some("meta-llama/Llama-3.1-8B-Instruct"));
    assert_eq!(r.load, RunLoad::Queue { concurrency: 4 });
    assert_eq!(r.level.concurrency, Some(4));
    assert_eq!((r.num_requests, r.failed), (7, 1));
    assert_eq!(r.level.requests, 8);
    assert_close(r.level.success_rate, 7.0 / 8.0);
    // Total ISL 3500 and OSL 664 over 7 requests: means 500 and 664 / 7.
    assert_eq!(r.input, RunLengths::Mean(500.0));
    assert_eq!(r.output, RunLengths::Mean(664.0 / 7.0));
    assert_eq!((r.total_input, r.total_output), (3500.0, 664.0));
    assert!(r.requests.is_empty());
    // TTFT: 730 / 7 = 104.2857… written as 104.29; sorted 80, 90, 100, 100, 110, 120, 130: median
    // 100, numpy's p90 at rank 5.4 = 124, p99 at rank 5.94 = 129.4.
    let ttft = r.level.ttft_ms.expect("ttft");
    assert_close(ttft.mean, 104.29);
    assert_close(ttft.min, 80.0);
    assert_close(ttft.max, 130.0);
    assert_close(ttft.p50, 100.0);
    assert_close(ttft.p90, 124.0);
    assert_close(ttft.p99, 129.4);
    // Latency 7300 / 7 = 1042.857… → 1042.86.
    assert_close(r.level.e2e_latency_ms.expect("e2e").mean, 1042.86);
    assert_close(r.level.tpot_ms.expect("itl").mean, 10.0);
    // 2.2 s; 7 / 2.2 = 3.1818… → 3.18 req/s; 664 / 2.2 = 301.818… → 301.82 tok/s.
    assert_close(r.level.total_time_s, 2.2);
    assert_close(r.level.request_throughput_req_s, 3.18);
    assert_close(r.level.output_throughput_tok_s, 301.82);
    assert_eq!(r.level.total_input_tokens, Some(3500));
    assert_eq!(r.level.total_output_tokens, Some(664));
    let report = build_report(runs, &ctx()).expect("report");
    assert_eq!(report.levels[0].concurrency, Some(4));
}

/// The CSV fixture with `from` replaced by `to`, imported with the JSON fixture beside it.
fn import_csv_edited(from: &str, to: &str) -> Error {
    let (origin, text) = fixture("profile_export_aiperf.csv");
    assert!(text.contains(from), "{from}");
    let edited = text.replacen(from, to, 1);
    let sibling = |name: &str| (name == "profile_export_aiperf.json").then(|| fixture(name));
    let importer = detect(&origin, &edited).expect("still detected");
    importer
        .import(&Source {
            origin: &origin,
            text: &edited,
            sibling: &sibling,
        })
        .expect_err("malformed input must fail")
}

#[test]
fn malformed_csv_fails_naming_file_row_and_column() {
    let (origin, text) = fixture("profile_export_aiperf.csv");
    // Line 7 is Time to First Token (header, 6 percentile rows sorted by tag before it).
    let err = import_csv_edited("Time to First Token (ms),104.29,", "Time to First Token (ms),fast,");
    assert_eq!(field_of(err, &origin), "line 7 `Time to First Token (ms)`, column avg");
    let err = import_csv_edited("129.40,15.91", "129.40,NaN");
    assert_eq!(field_of(err, &origin), "line 7 `Time to First Token (ms)`, column std");
    // Line 13, in the Metric,Value section.
    let err = import_csv_edited("Request Count,7", "Request Count,7.5");
    assert_eq!(field_of(err, &origin), "line 13 `Request Count`, column Value");
    let err = import_csv_edited("Request Count,7\r\n", "");
    assert_eq!(field_of(err, &origin), "row `Request Count`");
    let err = import_csv_edited(
        "Total Input Sequence Length (tokens),3500",
        "Total Input Sequence Length (tokens),0",
    );
    assert_eq!(
        field_of(err, &origin),
        "line 15 `Total Input Sequence Length (tokens)`, column Value"
    );
    let err = import_csv_edited("Request Latency (ms),1042.86,800.00,", "Request Latency (ms),1042.86,");
    assert_eq!(field_of(err, &origin), "line 6");
    let err = import_csv_edited("Time to First Token (ms)", "Time to First Token (kg)");
    assert!(field_of(err, &origin).starts_with("line 7 `Time to First Token (kg)`"));

    // Without the JSON beside it the load is unknown, and the error says which file is missing.
    let err = servecast::measured::import::aiperf::AiPerf
        .import(&Source::alone(&origin, &text))
        .expect_err("no JSON beside the CSV");
    match err {
        Error::InvalidField { origin: o, message, .. } => {
            assert_eq!(o, origin);
            assert!(message.contains("profile_export_aiperf.json"), "{message}");
        }
        other => panic!("expected an invalid-field error, got {other}"),
    }
}
