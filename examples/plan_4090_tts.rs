//! Planning from code: should the RTX 4090 IndexTTS-2 deployment raise max_num_seqs from 50 to 64?
//!
//! ```text
//!  64 users ──► [ vLLM 0.10 · max_num_seqs 50 | 64 ] ──► TTFT, latency, tokens/s
//!                 RTX 4090, util 0.5, KV for 51.2 full-length requests
//! ```
//! The measured report shows 14 of 64 users queueing at max_num_seqs 50. The example simulates the
//! measured setup and the alternative, prints both, and checks what a planner would conclude.

use servecast::scenario::Scenario;
use servecast::spec::engine::EngineFlags;

fn main() -> Result<(), servecast::Error> {
    let at_64_users = |seqs: u32| -> Result<_, servecast::Error> {
        let scenario = Scenario::builder()
            .gpu("RTX 4090")
            .flags(EngineFlags {
                max_num_seqs: Some(seqs),
                ..Default::default()
            })
            .from_builtin_report()?
            // Keep the report's 64-user level: its lengths and its deal of requests to users.
            .edit_workload(|w| w.set_concurrency(vec![64], None))
            .build()?;
        let prediction = scenario.run()?;
        Ok((prediction.memory.clone(), prediction.levels[0].clone()))
    };
    let (memory, now) = at_64_users(50)?;
    let (_, raised) = at_64_users(64)?;
    println!("{}", memory.max_concurrency_line());
    println!("max_num_seqs | output tok/s | mean TTFT ms | mean E2E ms | P99 E2E ms");
    for (seqs, l) in [(50, &now), (64, &raised)] {
        println!(
            "{seqs:>12} | {:>12.0} | {:>11.1} | {:>11.1} | {:>10.1}",
            l.output_throughput_tok_s, l.ttft_ms.mean, l.e2e_latency_ms.mean, l.e2e_latency_ms.p99
        );
    }
    // What the planner concludes, checked: with room for every user, nobody queues for a slot, so
    // mean TTFT drops from seconds to milliseconds, and the KV cache (51.2 full-length requests,
    // far more at the real 100 + ≤1200 tokens) never forces a preemption.
    assert!(
        now.ttft_ms.mean > 500.0,
        "at 50 slots, 14 users queue: {:.1} ms",
        now.ttft_ms.mean
    );
    assert!(
        raised.ttft_ms.mean < 100.0,
        "at 64 slots nobody queues: {:.1} ms",
        raised.ttft_ms.mean
    );
    assert_eq!(raised.engine.preemptions, 0);
    assert!(raised.output_throughput_tok_s > now.output_throughput_tok_s);
    Ok(())
}
