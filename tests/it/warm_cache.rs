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

/// `levels` all-at-once bursts of `n` prompts of PROMPT tokens on an A10 under vLLM 0.11.0.
fn bursts(levels: usize, n: u32) -> WorkloadSpec {
    WorkloadSpec::new(
        LoadSpec::Poisson {
            qps: vec![f64::INFINITY; levels],
            num_requests: n,
            max_concurrency: None,
            burstiness: 1.0,
            num_requests_per_level: None,
            client_draws: None,
        },
        LengthDist::Fixed { tokens: PROMPT },
        LengthDist::Fixed { tokens: 64 },
    )
}

fn simulate(workload: WorkloadSpec, prefix_caching: bool, util: f64) -> Result<Prediction, servecast::error::Error> {
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

fn try_run(warm: bool, prefix_caching: bool, util: f64) -> Result<Prediction, servecast::error::Error> {
    let mut workload = bursts(2, REQUESTS);
    workload.warm_prefix_cache = warm;
    simulate(workload, prefix_caching, util)
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

/// One level of `n` prompts of PROMPT tokens sent at once, the client's test run of the first
/// prompt before it or not.
fn one_burst(n: u32, test_run: bool, prefix_caching: bool) -> Prediction {
    let mut workload = bursts(1, n);
    workload.initial_test_run = Some(test_run);
    simulate(workload, prefix_caching, 0.9).unwrap()
}

#[test]
fn the_clients_test_run_leaves_the_first_prompt_in_the_cache() {
    // vllm bench serve sends the first prompt once before the level: that request alone then
    // finds its full blocks cached (511 tokens → 31 blocks of 16 = 496), the others nothing.
    for n in [1, 8] {
        let warm = one_burst(n, true, true);
        assert_eq!(warm.levels[0].engine.prefix_hit_tokens, 496, "{n} prompts");
        assert_eq!(one_burst(n, false, true).levels[0].engine.prefix_hit_tokens, 0);
        assert_eq!(one_burst(n, true, false).levels[0].engine.prefix_hit_tokens, 0);
    }
    // One prompt: its TTFT is a 16-token prefill instead of a 512-token one. A 7B model's
    // 512-token prefill on an A10 takes tens of milliseconds (≈ 6.7 TFLOP at 125 TFLOP/s peak).
    let (hit, cold) = (
        one_burst(1, true, true).levels[0].ttft_ms.mean,
        one_burst(1, false, true).levels[0].ttft_ms.mean,
    );
    println!("TTFT {hit} ms after the test run vs {cold} ms cold");
    assert!(cold - hit > 30.0, "TTFT {hit} ms after the test run vs {cold} ms cold");
}

#[test]
fn a_one_prompt_burst_after_the_test_run_is_faster_than_a_cold_prefill_could_be() {
    // dennislee22/vLLM-benchmarking: Qwen2-7B-Instruct on an A100 80GB under vLLM 0.10.1.1, one
    // random 1,024-token prompt sent by benchmark_serving.py: mean TTFT 36.46 ms measured. A
    // cold prefill of it needs ≥ 1,024 × 2 × 6.5e9 FLOP ÷ 312 TFLOP/s ≈ 43 ms at the A100's
    // peak, so the measured prompt was served from the cache the client's test run filled.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/measured");
    let report = servecast::measured::corpus_reports(&dir)
        .unwrap()
        .into_iter()
        .find(|r| r.id == "a100-qwen2-7b-vllm0.10.1.1-dennislee22-util0.25-bursts")
        .unwrap();
    assert_eq!(
        report.workload.initial_test_run,
        Some(true),
        "read from its client command"
    );
    let measured = report.levels[0].ttft_ms.as_ref().and_then(|s| s.mean).unwrap();
    assert!((measured - 36.46).abs() < 1e-9);
    let ttft = |report: &servecast::measured::MeasuredReport| {
        let s = Scenario::builder().from_report(report).build().unwrap();
        let memory = s.memory().unwrap();
        let level = s.simulate_level(0, &memory, &s.cost_model());
        level.records.iter().map(|r| r.ttft_ns() as f64 / 1e6).sum::<f64>() / level.records.len() as f64
    };
    let after_test_run = ttft(&report);
    let mut cold = report.clone();
    cold.workload.initial_test_run = Some(false);
    let cold = ttft(&cold);
    println!("TTFT {after_test_run} ms after the test run, {cold} ms cold, {measured} ms measured");
    assert!(
        (after_test_run / measured - 1.0).abs() < 0.35,
        "{after_test_run} ms vs {measured} ms"
    );
    assert!(cold > 1.2 * measured, "{cold} ms cold vs {measured} ms");
}
