//! A sweep that sends one sample of prompts at every level to one long-lived server with prefix
//! caching on (`vllm bench serve`'s fixed `--seed`): from the second level on, a prompt finds the
//! blocks its twin (the same request of the level before) left in the cache, as far as the cache
//! kept them (`workload.warm_prefix_cache`).

use servecast::scenario::{Prediction, Scenario};
use servecast::spec::engine::{EngineFlags, EngineVersion};
use servecast::workload::arrivals::{LoadSpec, WorkloadSpec};
use servecast::workload::lengths::LengthDist;

const PROMPT: u32 = 512;
const REQUESTS: u32 = 64;

fn try_run(warm: bool, prefix_caching: bool, util: f64) -> Result<Prediction, servecast::error::Error> {
    let mut workload = WorkloadSpec::new(
        LoadSpec::Poisson {
            qps: vec![f64::INFINITY, f64::INFINITY],
            num_requests: REQUESTS,
            max_concurrency: None,
            burstiness: 1.0,
            num_requests_per_level: None,
            client_draws: None,
        },
        LengthDist::Fixed { tokens: PROMPT },
        LengthDist::Fixed { tokens: 64 },
    );
    workload.warm_prefix_cache = warm;
    Scenario::builder()
        .gpu("a10")
        .model("qwen2.5-7b-instruct")
        .engine(EngineVersion::parse("0.11.0", "test").unwrap())
        .release("0.11.0")
        .flags(EngineFlags {
            gpu_memory_utilization: Some(util),
            max_model_len: Some(2048),
            enable_prefix_caching: Some(prefix_caching),
            ..EngineFlags::default()
        })
        .workload(workload)
        .build()?
        .run()
}

fn run(warm: bool, prefix_caching: bool, util: f64) -> Prediction {
    try_run(warm, prefix_caching, util).unwrap()
}

#[test]
fn the_second_level_finds_every_prompt_of_the_first_in_a_cache_that_holds_them() {
    let warm = run(true, true, 0.9);
    let blocks = warm.levels[1].engine.capacity_blocks;
    // 64 requests × (512 + 64) tokens = 2,304 blocks of 16 tokens: the cache holds them all.
    assert!(blocks > 2_304, "{blocks} blocks");
    assert_eq!(
        warm.levels[0].engine.prefix_hit_tokens, 0,
        "the first level starts cold"
    );
    // Full blocks of each prompt, and vLLM recomputes the last prompt token: 511 → 496 tokens.
    assert_eq!(warm.levels[1].engine.prefix_hit_tokens, u64::from(REQUESTS) * 496);
    let cold = run(false, true, 0.9);
    assert_eq!(cold.levels[1].engine.prefix_hit_tokens, 0);
    // A burst's first tokens wait for the prefill of the prompts before them: the warm level
    // prefills 16 tokens a prompt instead of 512, and a 7B model's prefill, not the API server's
    // intake, is most of a cold burst's TTFT.
    let (t_warm, t_cold) = (warm.levels[1].ttft_ms.mean, cold.levels[1].ttft_ms.mean);
    println!("TTFT {t_warm} ms warm vs {t_cold} ms cold");
    assert!(t_warm < 0.7 * t_cold, "TTFT {t_warm} ms warm vs {t_cold} ms cold");
    // Without prefix caching nothing is kept.
    assert_eq!(run(true, false, 0.9).levels[1].engine.prefix_hit_tokens, 0);
}

#[test]
fn a_cache_smaller_than_a_level_keeps_only_the_latest_prompts() {
    // Find a budget whose cache holds fewer blocks than the first level wrote (2,304).
    let small = (0..=60)
        .map(|i| 0.70 + 0.0025 * i as f64)
        .filter_map(|u| try_run(true, true, u).ok())
        .find(|p| (800..2_000).contains(&p.levels[1].engine.capacity_blocks))
        .expect("a budget with 800–2,000 KV blocks");
    let blocks = small.levels[1].engine.capacity_blocks;
    let hits = small.levels[1].engine.prefix_hit_tokens;
    let all = u64::from(REQUESTS) * 496;
    // The earliest prompts were evicted by the later ones before the level ended, and the level's
    // own allocations evict more: some hit, not all, and no more than the cache could hold.
    println!("{hits} of {all} prompt tokens hit with {blocks} blocks");
    assert!(
        hits > 0 && hits < all,
        "{hits} of {all} tokens hit with {blocks} blocks"
    );
    assert!(hits / 16 <= blocks, "{hits} tokens hit with {blocks} blocks");
}
