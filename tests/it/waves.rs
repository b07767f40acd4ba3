//! llmperf before its commit f1d6bed (2024-12-09) sent waves: N requests together, the next N
//! when the whole last wave had ended. When answer lengths differ, every wave waits for its
//! longest answer, so fewer requests are in flight on average and each wave's N prompts queue
//! for prefill together.

use servecast::scenario::{Prediction, Scenario};
use servecast::workload::arrivals::{LoadSpec, WorkloadSpec};
use servecast::workload::lengths::LengthDist;

const USERS: u32 = 16;

fn run(waves: bool, output: LengthDist) -> Prediction {
    let mut w = WorkloadSpec::closed_loop(vec![USERS], 10, LengthDist::Fixed { tokens: 500 }, output);
    if let LoadSpec::ClosedLoop { waves: w_, .. } = &mut w.load {
        *w_ = waves;
    }
    Scenario::builder()
        .gpu("a10g")
        .model("llama-3-8b")
        .workload(w)
        .build()
        .unwrap()
        .run()
        .unwrap()
}

#[test]
fn waves_wait_for_their_longest_answer() {
    let spread = LengthDist::Uniform { min: 20, max: 400 };
    let (free, waves) = (run(false, spread.clone()), run(true, spread));
    let (a, b) = (&free.levels[0], &waves.levels[0]);
    assert_eq!((a.requests, b.requests), (160, 160));
    // Answers of 20–400 tokens: a wave lasts its longest (~400 tokens) while the mean is ~210,
    // so throughput falls by about a quarter (less than half: prefills and the tail overlap).
    let ratio = b.output_throughput_tok_s / a.output_throughput_tok_s;
    assert!((0.6..0.9).contains(&ratio), "waves ÷ closed loop throughput {ratio}");
    // Each wave's 16 prompts arrive together: the mean TTFT is several prefills long.
    assert!(
        b.ttft_ms.mean > 2.0 * a.ttft_ms.mean,
        "{} vs {} ms",
        b.ttft_ms.mean,
        a.ttft_ms.mean
    );
    // With one answer length, users stay in step anyway: waves change little.
    let fixed = LengthDist::Fixed { tokens: 200 };
    let (free, waves) = (run(false, fixed.clone()), run(true, fixed));
    let ratio = waves.levels[0].output_throughput_tok_s / free.levels[0].output_throughput_tok_s;
    assert!((0.97..=1.0 + 1e-9).contains(&ratio), "{ratio}");
}
