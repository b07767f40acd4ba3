//! Measured runs of hybrid (Mamba-2 / linear-attention + attention) models, predicted with the
//! learned prior as a planner would: no fit on the run itself.

use servecast::scenario::Scenario;

fn report(file: &str) -> servecast::measured::MeasuredReport {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/measured/corpus")
        .join(file);
    servecast::measured::MeasuredReport::from_path(&path).unwrap()
}

/// vLLM's Nemotron-3-Nano recipe (FP8 on one H200, 0.12.0, random 1024 / 1024, 1024 in flight)
/// predicted with the shipped prior, which pooled it with the corpus but fitted nothing to it
/// alone (its unseen-setup figures, the prior learned without it, are in docs/validation.md:
/// throughput −19.7%, mean TTFT +79%), as predicted ÷ measured − 1 of output throughput, mean
/// TTFT and mean TPOT. The step comes out slow: the routed experts' FP8 GEMMs at the Hopper
/// prior's expert efficiency, learned from Triton fused-MoE runs, where this one ran FlashInfer's
/// CUTLASS FP8 MoE (`VLLM_USE_FLASHINFER_MOE_FP8=1`).
#[test]
fn nemotron_3_nano_on_an_h200_from_the_prior() {
    let report = report("h200-nemotron-3-nano-30b-a3b-fp8-vllm0.12.0-recipes.yaml");
    let scenario = Scenario::builder().from_report(&report).build().unwrap();
    let memory = scenario.memory().unwrap();
    let run = scenario.run().unwrap();
    let c = servecast::report::compare::compare_level(&report.levels[0], &run.levels[0]);
    let e = |n: &str| c.figure(n).unwrap().error_pct;
    println!(
        "Nemotron-3-Nano FP8 on H200 ({}): KV {} tokens; [throughput, mean TTFT, mean TPOT] %: [{:+.1}, {:+.1}, {:+.1}]",
        scenario.profile.id,
        memory.kv_cache_tokens,
        e("output_throughput_tok_s"),
        e("ttft_ms.mean"),
        e("tpot_ms.mean")
    );
    // 1024 sequences' Mamba-2 state in bfloat16 at 0.12 (23 layers × 1 MiB each), the fp8 KV
    // cache of 6 attention layers in the rest: millions of tokens of KV room.
    assert!(memory.kv_cache_tokens > 5_000_000, "{}", memory.kv_cache_tokens);
    assert!(e("output_throughput_tok_s").abs() <= 20.0);
    assert!(e("ttft_ms.mean").abs() <= 77.0);
    assert!(e("tpot_ms.mean").abs() <= 21.0);
}

/// Nemotron-H's temporal state per release (vLLM's `NemotronHForCausalLMConfig`, read in the
/// 0.12.0 / 0.13.0 / 0.20.0 wheels): 0.12 keeps `auto` (the model's bfloat16, as the recipe above
/// says of "until (and including) vLLM release 0.12.0"), 0.13 on takes the config's
/// `mamba_ssm_cache_dtype` (float32 for Nemotron 3 Nano), else float16, float32 from 0.20.
#[test]
fn nemotron_h_state_dtype_follows_the_release() {
    use servecast::spec::engine::ssm_state_dtype;
    use servecast::spec::model::Dtype;
    let catalog = servecast::spec::Catalog::builtin().unwrap();
    let nano = catalog.model("nemotron-3-nano-30b-a3b").unwrap();
    let h56 = catalog.model("nemotron-h-56b").unwrap();
    assert_eq!(ssm_state_dtype(nano, Some("0.12.0")), Dtype::Bf16);
    assert_eq!(ssm_state_dtype(nano, Some("0.13.0")), Dtype::F32);
    assert_eq!(ssm_state_dtype(h56, Some("0.11.2")), Dtype::Bf16);
    assert_eq!(ssm_state_dtype(h56, Some("0.19.0")), Dtype::F16);
    assert_eq!(ssm_state_dtype(h56, Some("0.20.0")), Dtype::F32);
    assert_eq!(ssm_state_dtype(h56, None), Dtype::F32);
}
