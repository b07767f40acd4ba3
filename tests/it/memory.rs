//! The memory model against vLLM's own numbers (vllm-semantics.md §2 and §5).

use servecast::cost::Profile;
use servecast::memory::thousands;
use servecast::scenario::Scenario;
use servecast::spec::engine::EngineVersion;

fn seed000(profile: Option<Profile>) -> Scenario {
    let mut b = Scenario::builder().gpu("4090").from_builtin_report().unwrap();
    if let Some(p) = profile {
        b = b.profile(p);
    }
    b.build().unwrap()
}

#[test]
fn first_principles_concurrency_is_within_two_percent_of_the_log() {
    let s = seed000(Some(Profile::roofline(EngineVersion::Vllm010)));
    let m = s.memory().unwrap();
    let err = (m.max_concurrency / 51.20 - 1.0) * 100.0;
    println!(
        "uncalibrated: {} ({} blocks), error {err:+.2}% vs logged 51.20x",
        m.max_concurrency_line(),
        m.num_gpu_blocks
    );
    assert!(
        err.abs() <= 2.0,
        "max concurrency {:.2}x is {err:+.2}% from 51.20x",
        m.max_concurrency
    );
}

#[test]
fn calibrated_profile_prints_the_logged_line_exactly() {
    let s = seed000(None);
    let m = s.memory().unwrap();
    assert_eq!(
        m.max_concurrency_line(),
        "Maximum concurrency for 1,818 tokens per request: 51.20x"
    );
    // 51.20 × 114 blocks per request = 5836.8: 5837 is the only block count that prints 51.20.
    assert_eq!(m.num_gpu_blocks, 5837);
    assert_eq!(m.kv_cache_size_line(), "GPU KV cache size: 93,392 tokens");
    assert_eq!(m.usable_blocks, 5836, "V1 reserves one null block");
}

#[test]
fn block_bytes_follow_vllm_page_size() {
    let s = seed000(None);
    let m = s.memory().unwrap();
    // 2 × 24 layers × 20 KV heads × 64 × 2 bytes × 16 tokens = 1.875 MiB.
    assert_eq!(m.block_bytes, 1_966_080);
    assert_eq!(m.kv_cache_tokens, m.num_gpu_blocks * 16);
    assert_eq!(m.num_gpu_blocks, m.kv_cache_bytes / m.block_bytes);
}

#[test]
fn llama_8b_block_and_concurrency_arithmetic() {
    let s = Scenario::builder()
        .gpu("a100-80g")
        .model("llama-3.1-8b")
        .flags(servecast::spec::engine::EngineFlags {
            max_model_len: Some(8192),
            ..Default::default()
        })
        .workload(servecast::workload::arrivals::WorkloadSpec::closed_loop(
            vec![1],
            1,
            servecast::workload::lengths::LengthDist::Fixed { tokens: 10 },
            servecast::workload::lengths::LengthDist::Fixed { tokens: 10 },
        ))
        .build()
        .unwrap();
    let m = s.memory().unwrap();
    // 2 × 32 layers × 8 KV heads × 128 × 2 bytes = 128 KiB per token; 2 MiB per 16-token block.
    assert_eq!(m.block_bytes, 2 * 1024 * 1024);
    let per_request = 8192 / 16;
    assert!((m.max_concurrency - m.num_gpu_blocks as f64 / per_request as f64).abs() < 1e-12);
    // Weights of 16.06 GB leave roughly 55-57 GiB of KV at util 0.9 on an 80 GB A100.
    let kv_gib = m.kv_cache_bytes as f64 / (1u64 << 30) as f64;
    assert!((50.0..60.0).contains(&kv_gib), "KV {kv_gib:.2} GiB");
}

#[test]
fn thousands_separators_match_python() {
    assert_eq!(thousands(1818), "1,818");
    assert_eq!(thousands(93392), "93,392");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1_000_000), "1,000,000");
}

#[test]
fn fp8_kv_cache_halves_the_block_and_doubles_the_blocks() {
    // vLLM `--kv-cache-dtype fp8`: one byte per element, so a block of the same 16 tokens takes
    // half the bytes and the same KV budget holds twice the blocks (floor of the division).
    let auto = seed000(None);
    let fp8 = Scenario::builder()
        .gpu("4090")
        .from_builtin_report()
        .unwrap()
        .edit_flags(|f| f.kv_cache_dtype = Some(servecast::spec::engine::KvCacheDtype::Fp8))
        .build()
        .unwrap();
    let (a, f) = (auto.memory().unwrap(), fp8.memory().unwrap());
    assert_eq!(f.block_bytes * 2, a.block_bytes);
    assert_eq!(
        f.kv_cache_bytes, a.kv_cache_bytes,
        "the budget does not depend on the KV dtype"
    );
    assert_eq!(f.num_gpu_blocks, f.kv_cache_bytes / f.block_bytes);
    assert!(f.num_gpu_blocks == 2 * a.num_gpu_blocks || f.num_gpu_blocks == 2 * a.num_gpu_blocks + 1);
    println!("{} → {}", a.max_concurrency_line(), f.max_concurrency_line());
    // Decode reads half the KV bytes: at 64 users the fp8 run is never slower.
    let (pa, pf) = (auto.run().unwrap(), fp8.run().unwrap());
    let last = |p: &servecast::scenario::Prediction| p.levels.last().unwrap().output_throughput_tok_s;
    assert!(last(&pf) >= last(&pa), "{} vs {}", last(&pf), last(&pa));
    // nano-vllm has no such flag.
    let nano = Scenario::builder()
        .gpu("4090")
        .model("voxcpm")
        .engine(EngineVersion::NanoVllm)
        .edit_flags(|f| f.kv_cache_dtype = Some(servecast::spec::engine::KvCacheDtype::Fp8))
        .text_chars(29)
        .build();
    assert!(nano.is_err_and(|e| e.to_string().contains("nano-vllm has no --kv-cache-dtype")));
}

/// Per-release memory rules (docs/research/vllm-memory-current.md, read from each release's
/// wheel): the seed-000 engine's 5,837 blocks print 93,392 tokens up to 0.20 and
/// `int(5837 / 114 × 1818)` = int(93,084.79) = 93,084 from 0.21; util defaults to 0.92 from 0.20; the lines
/// merge into one from 0.28; "Available KV cache memory" loses its fixed two decimals in 0.14.
#[test]
fn each_release_prints_its_own_kv_cache_lines() {
    let plan_at = |release: &str, kv_bytes: Option<u64>| {
        Scenario::builder()
            .gpu("4090")
            .from_builtin_report()
            .unwrap()
            .release(release)
            .edit_flags(|f| f.kv_cache_memory_bytes = kv_bytes)
            .build()
            .unwrap()
            .memory()
            .unwrap()
    };
    let exact = 5837 * 1_966_080;
    let old = plan_at("0.20.1", Some(exact));
    assert_eq!(old.num_gpu_blocks, 5837);
    assert_eq!(old.kv_cache_size_line(), "GPU KV cache size: 93,392 tokens");
    let new = plan_at("0.21.0", Some(exact));
    assert_eq!(new.kv_cache_size_line(), "GPU KV cache size: 93,084 tokens");
    assert_eq!(
        new.kv_cache_lines(),
        vec![
            "GPU KV cache size: 93,084 tokens".to_string(),
            "Maximum concurrency for 1,818 tokens per request: 51.20x".to_string()
        ]
    );
    assert_eq!(
        plan_at("0.28.0", Some(exact)).kv_cache_lines(),
        vec!["GPU KV cache size: 93,084 tokens, Maximum concurrency for 1,818 tokens per request: 51.20x".to_string()]
    );
    let gib12 = (12.5 * 1024.0 * 1024.0 * 1024.0) as u64;
    assert_eq!(
        plan_at("0.14.0", Some(gib12)).available_kv_cache_line(Some("0.14.0")),
        "Available KV cache memory: 12.5 GiB"
    );
    assert_eq!(
        plan_at("0.13.0", Some(gib12)).available_kv_cache_line(Some("0.13.0")),
        "Available KV cache memory: 12.50 GiB"
    );
}

/// CUDA-graph memory moves inside the KV budget by release (docs/research/vllm-memory-current.md
/// §1): not before 0.20; from 0.20 on CUDA (0.42 GiB without a calibrated profile); not for a
/// dense model on Model Runner V2 in 0.25–0.28 (its estimate is 0); on ROCm only from 0.26.
#[test]
fn cuda_graph_memory_enters_the_budget_by_release() {
    let graphs = |gpu: &str, model: &str, release: &str| {
        Scenario::builder()
            .gpu(gpu)
            .model(model)
            .release(release)
            .edit_flags(|f| f.max_model_len = Some(8192))
            .workload(servecast::workload::arrivals::WorkloadSpec::closed_loop(
                vec![1],
                1,
                servecast::workload::lengths::LengthDist::Fixed { tokens: 64 },
                servecast::workload::lengths::LengthDist::Fixed { tokens: 8 },
            ))
            .build()
            .unwrap()
            .memory()
            .unwrap()
            .cuda_graph_in_budget_bytes
    };
    let prior = servecast::memory::CUDA_GRAPH_PRIOR_BYTES;
    assert_eq!(graphs("h100-sxm", "llama-3.1-8b", "0.19.0"), 0);
    assert_eq!(graphs("h100-sxm", "llama-3.1-8b", "0.20.0"), prior);
    assert_eq!(
        graphs("h100-sxm", "llama-3.1-8b", "0.26.0"),
        0,
        "MRV2 reports no graph memory"
    );
    assert_eq!(
        graphs("h100-sxm", "qwen3-30b-a3b", "0.26.0"),
        prior,
        "MoE stays on the V1 runner"
    );
    assert_eq!(graphs("h100-sxm", "llama-3.1-8b", "0.29.0"), prior);
    assert_eq!(graphs("mi300x", "llama-3.1-8b", "0.24.0"), 0, "ROCm: not before 0.26");
    assert_eq!(graphs("mi300x", "qwen3-30b-a3b", "0.26.0"), prior);
}
