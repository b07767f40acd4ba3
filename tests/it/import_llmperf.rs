//! Tests of the llmperf importer. Fixtures: tests/data/import/llmperf (invented numbers in the
//! schema of ray-project/llmperf's token_benchmark_ray.py; see the README there). Expected
//! figures are worked out by hand from the eight individual responses (one failed).

use std::path::Path;

use servecast::error::Error;
use servecast::measured::import::llmperf::LlmPerf;
use servecast::measured::import::{
    build_report, detect, import_file, ImportContext, Importer, RunLengths, RunLoad, Source,
};
use servecast::spec::engine::{EngineFlags, EngineVersion};

const STEM: &str = "meta-llama-Llama-3-1-8B-Instruct_128_64";

fn path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/import/llmperf")
        .join(name)
}

fn summary_name() -> String {
    format!("{STEM}_summary.json")
}

fn responses_name() -> String {
    format!("{STEM}_individual_responses.json")
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

fn field_of(e: &Error, origin: &str) -> String {
    match e {
        Error::InvalidField { origin: o, field, .. } => {
            assert_eq!(o, origin, "{e}");
            field.clone()
        }
        other => panic!("expected an InvalidField error, got {other:?}"),
    }
}

#[test]
fn both_files_are_detected_as_llmperf_and_nothing_else_is() {
    for name in [summary_name(), responses_name()] {
        let t = text(&name);
        assert!(LlmPerf.detect(&name, &t), "{name}");
        assert_eq!(detect(&name, &t).unwrap().name(), LlmPerf.name(), "{name}");
    }
    let sglang =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/import/sglang/v0.4-run.jsonl"))
            .unwrap();
    assert!(!LlmPerf.detect("x.jsonl", &sglang));
    assert!(!LlmPerf.detect("x.json", r#"[{"ttft": 1.0}]"#));
}

#[test]
fn individual_responses_give_per_request_lengths_and_their_summary_the_load() {
    let runs = import_file(&path(&responses_name())).unwrap();
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    assert!(r.origin.ends_with(&responses_name()));
    assert_eq!(r.format, "llmperf individual responses");
    assert_eq!(r.model_id.as_deref(), Some("meta-llama/Llama-3.1-8B-Instruct"));
    // The summary's timestamp 1718000000 (2024-06-10) predates llmperf's closed loop: waves.
    assert_eq!(r.load, RunLoad::Waves { concurrency: 2 });
    // Response 2 failed (error_code 500).
    assert_eq!(r.num_requests, 7);
    assert_eq!(r.failed, 1);
    assert_eq!(r.requests.len(), 8);
    assert!(r.requests[2].error.as_deref().unwrap().contains("500"));
    assert_eq!(r.requests[2].ttft_ms, None);
    assert_eq!(r.input, RunLengths::Recorded(vec![120, 130, 140, 110, 125, 135, 130]));
    assert_eq!(r.output, RunLengths::Recorded(vec![64, 60, 64, 58, 64, 62, 64]));
    assert_eq!(r.total_input, 890.0);
    assert_eq!(r.total_output, 436.0);
    assert!(close(r.requests[3].ttft_ms.unwrap(), 150.0));
    assert!(close(r.requests[3].e2e_ms.unwrap(), 1200.0));

    let l = &r.level;
    assert_eq!(l.concurrency, Some(2));
    assert_eq!(l.qps, None);
    assert_eq!(l.requests, 8);
    assert_eq!(l.successful_requests, Some(7));
    assert_eq!(l.total_input_tokens, Some(890));
    assert_eq!(l.total_output_tokens, Some(436));
    // 7 completed at 105 per minute → 4 s; 436 tokens / 4 s = 109; (890 + 436) / 4 = 331.5.
    assert!(close(l.total_time_s.unwrap(), 4.0));
    assert!(close(l.request_throughput_req_s.unwrap(), 1.75));
    assert_eq!(l.output_throughput_tok_s, Some(109.0));
    assert!(close(l.total_token_throughput_tok_s.unwrap(), 331.5));
    // TTFTs 100 120 150 110 130 140 160 ms: mean 130, median 130, p95 157 (150 + 0.7 × 10).
    let t = l.ttft_ms.unwrap();
    assert!(close(t.mean.unwrap(), 130.0));
    assert!(close(t.p50.unwrap(), 130.0));
    assert!(close(t.p95.unwrap(), 157.0));
    assert!(close(t.min.unwrap(), 100.0));
    assert!(close(t.max.unwrap(), 160.0));
    // Latencies 1.0 0.9 1.2 0.95 1.05 1.1 1.3 s: mean 7.5 / 7 s, median 1.05 s.
    let e = l.e2e_latency_ms.unwrap();
    assert!(close(e.mean.unwrap(), 7500.0 / 7.0));
    assert!(close(e.p50.unwrap(), 1050.0));
    // Output tokens 58 60 62 64 64 64 64: median 64, mean 436 / 7.
    let o = l.output_tokens.unwrap();
    assert!(close(o.mean.unwrap(), 436.0 / 7.0));
    assert_eq!(o.p50, Some(64.0));
    // TPOT (latency − TTFT) ÷ (tokens − 1): the smallest is request 1's, (900 − 120) ms ÷ 59;
    // the largest request 7's, (1300 − 160) ÷ 63.
    let tpot = l.tpot_ms.unwrap();
    assert!(close(tpot.min.unwrap(), 780.0 / 59.0));
    assert!(close(tpot.max.unwrap(), 1140.0 / 63.0));
    assert!(l.itl_ms.is_none(), "llmperf's inter_token_latency_s is not an ITL");
    // Per-request output rate: 64 / 1.3 s is the smallest.
    assert!(close(l.request_output_rate_tok_s.unwrap().min.unwrap(), 64.0 / 1.3));

    let report = build_report(runs, &ctx()).unwrap();
    assert_eq!(report.levels.len(), 1);
    assert_eq!(report.levels[0].concurrency, Some(2));
    assert!(report.id.ends_with("-llmperf"), "{}", report.id);
}

#[test]
fn the_summary_beside_its_responses_reads_the_same_run() {
    let from_summary = import_file(&path(&summary_name())).unwrap();
    let from_responses = import_file(&path(&responses_name())).unwrap();
    assert_eq!(from_summary[0].input, from_responses[0].input);
    assert_eq!(from_summary[0].level, from_responses[0].level);
}

#[test]
fn the_summary_alone_gives_means_and_its_own_quantiles() {
    let t = text(&summary_name());
    let runs = LlmPerf.import(&Source::alone(&summary_name(), &t)).unwrap();
    let r = &runs[0];
    assert_eq!(r.format, "llmperf summary");
    assert_eq!(r.load, RunLoad::Waves { concurrency: 2 });
    // The same run dated after llmperf's commit f1d6bed (2024-12-09 01:52 UTC) kept 2 in flight.
    let later = t.replace("\"timestamp\": 1718000000", "\"timestamp\": 1733709148");
    assert_ne!(later, t);
    let queue = LlmPerf.import(&Source::alone(&summary_name(), &later)).unwrap();
    assert_eq!(queue[0].load, RunLoad::Queue { concurrency: 2 });
    let before = t.replace("\"timestamp\": 1718000000", "\"timestamp\": 1733709147");
    let waves = LlmPerf.import(&Source::alone(&summary_name(), &before)).unwrap();
    assert_eq!(waves[0].load, RunLoad::Waves { concurrency: 2 });
    assert_eq!(r.num_requests, 7);
    assert_eq!(r.failed, 1);
    assert!(r.requests.is_empty());
    match (&r.input, &r.output) {
        (RunLengths::Mean(i), RunLengths::Mean(o)) => {
            assert!(close(*i, 890.0 / 7.0));
            assert!(close(*o, 436.0 / 7.0));
        }
        other => panic!("expected means, got {other:?}"),
    }
    assert!(r.lengths_hint.contains("_individual_responses.json"));
    let l = &r.level;
    assert_eq!(l.requests, 8);
    // results_ttft_s_quantiles_p90 0.154 s, mean 0.13 s, stddev (sample) 0.0216… s.
    let t = l.ttft_ms.unwrap();
    assert!(close(t.p90.unwrap(), 154.0));
    assert!(close(t.mean.unwrap(), 130.0));
    assert!(close(t.std.unwrap(), 21.60246899469287));
    // results_number_output_tokens_min is written as the text "58" (numpy int64 via default=str).
    assert_eq!(l.output_tokens.unwrap().min, Some(58.0));
    assert!(close(l.total_time_s.unwrap(), 4.0));
    assert_eq!(l.total_input_tokens, None);
    let report = build_report(runs, &ctx()).unwrap();
    assert!(report
        .assumptions
        .iter()
        .any(|a| a.field == "workload.input_len" && a.value == "127 tokens, fixed"));
    // 8 requests sent (7 completed, 1 failed) in waves of 2: 2 users, 4 requests each.
    assert_eq!(
        report.workload.load,
        servecast::workload::arrivals::LoadSpec::ClosedLoop {
            concurrency: vec![2],
            requests_per_user: 4,
            think_time_s: 0.0,
            waves: true
        }
    );
    // Its timestamp 1718000000 (2024-06-10) predates llmperf's closed loop (2024-12-09): said.
    assert!(
        report.assumptions.iter().any(|a| a.field == "workload.load"
            && a.reason.contains("timestamp 1718000000")
            && a.reason.contains("waves")),
        "{:?}",
        report.assumptions
    );
}

#[test]
fn responses_without_their_summary_are_refused_naming_it() {
    let t = text(&responses_name());
    let e = LlmPerf.import(&Source::alone(&responses_name(), &t)).unwrap_err();
    assert_eq!(field_of(&e, &responses_name()), "num_concurrent_requests");
    assert!(e.to_string().contains(&summary_name()), "{e}");
}

#[test]
fn malformed_files_name_the_file_and_the_field() {
    let s = text(&summary_name());
    let cases = [
        (
            s.replace("\"num_concurrent_requests\": 2,", ""),
            "num_concurrent_requests",
        ),
        (
            s.replace(
                "\"results_num_completed_requests\": 7,",
                "\"results_num_completed_requests\": \"seven\",",
            ),
            "results_num_completed_requests",
        ),
        (
            s.replace("\"results_ttft_s_mean\": 0.13,", "\"results_ttft_s_mean\": -0.13,"),
            "results_ttft_s_mean",
        ),
        (
            s.replace("\"results_ttft_s_mean\": 0.13,", "\"results_ttft_s_mean\": true,"),
            "results_ttft_s_mean",
        ),
    ];
    for (t, field) in cases {
        assert_ne!(t, s, "the case for {field} changed nothing");
        let e = LlmPerf.import(&Source::alone("s_summary.json", &t)).unwrap_err();
        assert_eq!(field_of(&e, "s_summary.json"), field, "{e}");
    }
    // A negative TTFT in response 3, with the summary as its sibling.
    let responses = |r: String| -> Error {
        let summary = text(&summary_name());
        let sibling = move |name: &str| -> Option<(String, String)> {
            (name == format!("{STEM}_summary.json")).then(|| (name.to_string(), summary.clone()))
        };
        LlmPerf
            .import(&Source {
                origin: &responses_name(),
                text: &r,
                sibling: &sibling,
            })
            .unwrap_err()
    };
    let origin = responses_name();
    let r = text(&responses_name()).replacen("\"ttft_s\": 0.15,", "\"ttft_s\": -0.15,", 1);
    assert_eq!(field_of(&responses(r), &origin), "[3].ttft_s");
    // Found by the fuzz harness: a latency of 0 s after a 0.1 s TTFT imported Ok with a negative
    // TPOT; a latency of 1e308 s, with an infinite one in ms.
    let r = text(&responses_name()).replacen("\"end_to_end_latency_s\": 1.0,", "\"end_to_end_latency_s\": 0,", 1);
    assert_eq!(field_of(&responses(r), &origin), "[0].end_to_end_latency_s");
    let r = text(&responses_name()).replacen("\"end_to_end_latency_s\": 1.0,", "\"end_to_end_latency_s\": 1e308,", 1);
    assert_eq!(field_of(&responses(r), &origin), "[0].end_to_end_latency_s");
    // Found by the fuzz harness: 5e-324 completed requests per minute gave an infinite wall time.
    let t = s.replace(
        "\"results_num_completed_requests_per_min\": 105.0",
        "\"results_num_completed_requests_per_min\": 5e-324",
    );
    let e = LlmPerf.import(&Source::alone("s_summary.json", &t)).unwrap_err();
    assert_eq!(
        field_of(&e, "s_summary.json"),
        "results_num_completed_requests_per_min",
        "{e}"
    );
    // Found by the long fuzz run: 1e308 completed requests per minute made the wall time so short
    // that the token throughput of the individual responses was infinite.
    let r = text(&responses_name());
    let summary = text(&summary_name()).replace(
        "\"results_num_completed_requests_per_min\": 105.0",
        "\"results_num_completed_requests_per_min\": 1e308",
    );
    let sibling = move |name: &str| -> Option<(String, String)> {
        (name == format!("{STEM}_summary.json")).then(|| (name.to_string(), summary.clone()))
    };
    let e = LlmPerf
        .import(&Source {
            origin: &responses_name(),
            text: &r,
            sibling: &sibling,
        })
        .unwrap_err();
    assert!(e.to_string().contains("results_num_completed_requests_per_min"), "{e}");
    // Found by the long fuzz run: a mean output length of 1e308 tokens gave infinite totals.
    let t = s.replace(
        "\"results_number_output_tokens_mean\": 62.285714285714285",
        "\"results_number_output_tokens_mean\": 1e308",
    );
    let e = LlmPerf.import(&Source::alone("s_summary.json", &t)).unwrap_err();
    assert_eq!(
        field_of(&e, "s_summary.json"),
        "results_number_output_tokens_mean",
        "{e}"
    );
    let t = s.replace("\"results_ttft_s_mean\": 0.13,", "\"results_ttft_s_mean\": 1e308,");
    let e = LlmPerf.import(&Source::alone("s_summary.json", &t)).unwrap_err();
    assert_eq!(field_of(&e, "s_summary.json"), "results_ttft_s_mean", "{e}");
}
