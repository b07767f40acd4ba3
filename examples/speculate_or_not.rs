//! Does EAGLE-3 pay at my load? Llama-3.1-8B-Instruct on one H100 SXM under vLLM 0.14, with the
//! prompts of `vllm bench serve --dataset-name sonnet` (1,024 tokens, their first lines shared),
//! from 1 to 128 concurrent users, with and without an EAGLE-3 head drafting 3 tokens a step.
//!
//! ```text
//!  users ──► [ vLLM 0.14 · H100 ] ──► TPOT, output tokens/s      (plain vs EAGLE-3, K = 3)
//! ```
//! Nobody measured the acceptance on these prompts, so servecast takes EAGLE-3's published
//! acceptance for this model on chat prompts (`data/speculative-acceptance.yaml`) and says where
//! it came from. A step then verifies 4 tokens per request for about the price of one while the
//! GPU waits on its weights, which pays at a few users; as the batch grows the step becomes
//! compute-bound and the drafts' extra tokens cost what they save.

use servecast::scenario::Scenario;
use servecast::spec::engine::EngineFlags;
use servecast::spec::speculative::SpeculativeConfig;
use servecast::workload::arrivals::WorkloadSpec;
use servecast::workload::client_command::ClientCommand;
use servecast::workload::datasets::RandomRangeEra;

fn main() -> Result<(), servecast::Error> {
    let client = ClientCommand::parse(
        "vllm bench serve --model meta-llama/Llama-3.1-8B-Instruct --dataset-name sonnet \
         --sonnet-input-len 1024 --sonnet-output-len 256",
    )?;
    let (input, output) = client.lengths(RandomRangeEra::Current)?;
    let output = output.ok_or_else(|| servecast::Error::invalid("example", "output_len", "sonnet sets one"))?;
    let users = vec![1, 4, 16, 64, 128];
    let run = |speculative: Option<SpeculativeConfig>| {
        let mut workload = WorkloadSpec::closed_loop(users.clone(), 8, input.clone(), output.clone());
        if let Some((groups, tokens)) = client.shared_prefix {
            workload.prefix_groups = groups;
            workload.shared_prefix_tokens = tokens;
        }
        let s = Scenario::builder()
            .gpu("h100-sxm")
            .model("llama-3.1-8b")
            .release("0.14.0")
            .flags(EngineFlags {
                speculative_config: speculative,
                ..EngineFlags::default()
            })
            .workload(workload)
            .build()?;
        let source = s.engine.speculative.as_ref().map(|sd| sd.acceptance_source.clone());
        Ok::<_, servecast::Error>((s.run()?, source))
    };
    let (plain, _) = run(None)?;
    let eagle3 = SpeculativeConfig::parse(
        r#"{"model": "yuhuili/EAGLE3-LLaMA3.1-Instruct-8B", "num_speculative_tokens": 3}"#,
        "example",
    )?;
    let (drafted, source) = run(Some(eagle3))?;
    println!("EAGLE-3 acceptance: {}", source.unwrap_or_default());
    println!("users  TPOT plain → EAGLE-3 (ms)   output tok/s plain → EAGLE-3");
    let mut speedups = Vec::new();
    for (p, d) in plain.levels.iter().zip(&drafted.levels) {
        let speedup = d.output_throughput_tok_s / p.output_throughput_tok_s;
        speedups.push(speedup);
        println!(
            "{:>5}  {:>6.2} → {:>6.2}              {:>7.0} → {:>7.0}  (×{speedup:.2})",
            p.concurrency.unwrap_or(0),
            p.tpot_ms.mean,
            d.tpot_ms.mean,
            p.output_throughput_tok_s,
            d.output_throughput_tok_s
        );
    }
    // The gain is largest where the step waits on its weights (one user) and shrinks with the batch.
    assert!(speedups[0] > 1.5, "one user: ×{:.2}", speedups[0]);
    assert!(speedups.windows(2).all(|w| w[1] <= w[0] + 0.02), "{speedups:?}");
    Ok(())
}
