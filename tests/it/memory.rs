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
