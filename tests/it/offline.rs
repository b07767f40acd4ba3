//! vLLM's offline benchmarks (`benchmark_throughput.py`, `vllm bench throughput`): the LLM class,
//! every prompt at once, no API server. Checked against the public runs in
//! `data/measured/{corpus,staged}/*offline*`.

use servecast::measured::MeasuredReport;
use servecast::scenario::Scenario;

/// The setups of a measured file, in the corpus or staged to join it.
fn measured(name: &str) -> Vec<MeasuredReport> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/measured");
    let path = ["corpus", "staged"]
        .iter()
        .map(|d| root.join(d).join(name))
        .find(|p| p.is_file())
        .unwrap();
    MeasuredReport::all_from_path(&path).unwrap()
}

/// vLLM issue #12315: Llama-3.3-70B on four A100s under 0.6.6, 200 ShareGPT prompts offline
/// (staged, in no fit). With one scheduler step the learned prior predicts +3.0% in requests/s
/// and −7.0% in output tokens/s (servecast's ShareGPT sample averages 197 answer tokens, the
/// run's 218): `cargo test --release --test it offline -- --nocapture`.
#[test]
fn a_70b_on_four_a100s_offline_is_predicted_from_the_prior() {
    let reports = measured("a100-80g-sxm-llama-3.3-70b-tp4-offline-vllm0.6.6-vllm12315.yaml");
    assert_eq!(reports.len(), 2);
    let mut rates = Vec::new();
    for r in &reports {
        let s = Scenario::builder().from_report(r).build().unwrap();
        assert_eq!(s.engine.usage_context, servecast::spec::engine::UsageContext::LlmClass);
        let p = s.run().unwrap();
        let (l, m) = (&p.levels[0], &r.levels[0]);
        let req = l.request_throughput_req_s / m.request_throughput_req_s.unwrap() - 1.0;
        let out = l.output_throughput_tok_s / m.output_throughput_tok_s.unwrap() - 1.0;
        println!(
            "{}: requests/s {:+.1}%, output tokens/s {:+.1}%",
            r.id,
            100.0 * req,
            100.0 * out
        );
        rates.push((req, out, l.request_throughput_req_s));
    }
    let (req, out, single) = rates[0];
    assert!(req.abs() <= 0.05 && out.abs() <= 0.10, "{rates:?}");
    // Ten scheduler steps per pass are faster, as measured (3.47 against 3.28 requests/s);
    // servecast's gain is larger (+32% against +6%; data/measured/staged/README.md).
    assert!(rates[1].2 > single, "{rates:?}");
}

/// No offline run beats the ideal GPU: every roofline efficiency at 100% and no host time. The
/// LLM class adds nothing a server would (no HTTP, no streaming), so a measured figure above the
/// bound would mean a workload or memory misread, not a slow host.
#[test]
fn no_offline_run_beats_the_ideal_gpu() {
    let mut checked = 0;
    for name in [
        "h100-sxm-llama-3-8b-offline-vllm0.5.3.post1-vllm-pr7117.yaml",
        "h100-sxm-llama-3.1-8b-offline-vllm0.5.4-vllm-pr7162.yaml",
        "h100-sxm-llama-2-7b-tp8-offline-vllm0.5.0.post1-vllm-pr5882.yaml",
        "rtx-a6000-llama-3-8b-offline-vllm0.4.2-vllm4702.yaml",
        "a100-80g-sxm-llama-3.3-70b-tp4-offline-vllm0.6.6-vllm12315.yaml",
    ] {
        for r in measured(name) {
            let s = Scenario::builder().from_report(&r).ideal_profile().build().unwrap();
            let p = s.run().unwrap();
            for (l, m) in p.levels.iter().zip(&r.levels) {
                let measured = m.request_throughput_req_s.unwrap();
                assert!(
                    l.request_throughput_req_s > measured,
                    "{}: ideal {:.2} requests/s, measured {measured}",
                    r.id,
                    l.request_throughput_req_s
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 8);
}
