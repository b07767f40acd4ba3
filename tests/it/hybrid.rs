//! Hybrid models (attention beside mamba / linear-attention layers) on vLLM V1: the state page,
//! the attention block vLLM raises to hold it, the KV-cache groups and the lines vLLM logs, each
//! checked against a public log or vLLM's own numbers where one exists.

use servecast::memory::{plan_memory, MemoryCalibration};
use servecast::scenario::Scenario;
use servecast::spec::engine::{EngineFlags, EngineVersion, KvCacheDtype};
use servecast::spec::{Catalog, ModelSpec};
use servecast::workload::arrivals::WorkloadSpec;
use servecast::workload::lengths::LengthDist;

fn config(file: &str) -> ModelSpec {
    let path = format!("{}/data/hf-configs/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    ModelSpec::from_hf_config_json(&text, &path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const QWEN3_NEXT: &str = "Qwen--Qwen3-Next-80B-A3B-Instruct.json";

/// nvidia/NVIDIA-Nemotron-Nano-9B-v2 (no vendored config.json; the repository is not reachable
/// from here): its shape as several independent transcriptions agree (a TensorRT build module
/// pinned to revision 6533e8de2c68e4536bf7c411d7a3ce5734111476, AgileRL's `NEMOTRON_H` test,
/// Megatron-Bridge's "Match Nemotron Nano v2" toy test; jetson-ai-lab's model page: "56 layers
/// total: 27 Mamba layers, 25 MLP layers, 4 attention layers") — hidden 4480, 40 heads / 8 KV
/// heads of 128, 128 mamba heads of 80, d_state 128, 8 groups, conv 4.
const NEMOTRON_NANO_9B_V2: &str = r#"{"architectures": ["NemotronHForCausalLM"], "model_type": "nemotron_h",
  "hidden_size": 4480, "num_hidden_layers": 56, "num_attention_heads": 40, "num_key_value_heads": 8,
  "head_dim": 128, "intermediate_size": 15680, "vocab_size": 131072, "max_position_embeddings": 131072,
  "hybrid_override_pattern": "M-M-M-MM-M-M-M*-M-M-M*-M-M-M-M*-M-M-M-M*-M-MM-M-M-M-M-M-",
  "mamba_num_heads": 128, "mamba_head_dim": 80, "ssm_state_size": 128, "n_groups": 8, "conv_kernel": 4,
  "torch_dtype": "bfloat16"}"#;

/// vllm-project/vllm issue #26646 (2025-10-11): Qwen3-Next-80B-A3B (an int4 AutoRound checkpoint
/// of it: the KV and state shapes are the model's) at `--tensor-parallel-size 2
/// --max-model-len 215040 --max-num-seqs 2 --kv-cache-dtype fp8_e5m2` logged
/// "GPU KV cache size: 90,048 tokens" and "Maximum concurrency for 215,040 tokens per request:
/// 1.66x". Its state page per layer and rank is 548,864 bytes, exactly 1,072 tokens of fp8
/// attention (so no padding line), and 4 groups (12 attention, 3 × 12 Gated DeltaNet layers);
/// the log does not print the available memory, so the test gives the 339 blocks both lines
/// imply as the budget (339 × 548,864 × 12 bytes) and checks every line follows.
#[test]
fn qwen3_next_reproduces_vllm_26646() {
    let model = config(QWEN3_NEXT);
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu("a100-80g-sxm").unwrap();
    let cfg = EngineFlags {
        tensor_parallel_size: Some(2),
        max_model_len: Some(215_040),
        max_num_seqs: Some(2),
        gpu_memory_utilization: Some(0.95),
        kv_cache_dtype: Some(KvCacheDtype::parse("fp8_e5m2", "test").unwrap()),
        kv_cache_memory_bytes: Some(339 * 548_864 * 12),
        ..EngineFlags::default()
    }
    .resolve_release(EngineVersion::Vllm010, Some("0.11.0"), &model, gpu, "test")
    .unwrap();
    assert_eq!(cfg.block_size, 1072);
    assert!(!cfg.enable_prefix_caching, "0.11 turns prefix caching off for hybrids");
    let plan = plan_memory(&model, gpu, &cfg, &MemoryCalibration::default(), "test").unwrap();
    assert_eq!(plan.num_gpu_blocks, 339);
    assert_eq!(plan.kv_cache_size_line(), "GPU KV cache size: 90,048 tokens");
    assert_eq!(
        plan.max_concurrency_line(),
        "Maximum concurrency for 215,040 tokens per request: 1.66x"
    );
    assert_eq!(
        plan.hybrid_lines,
        vec!["Setting attention block size to 1072 tokens to ensure that attention page size is >= mamba page size."]
    );
}

/// vllm-project/vllm issue #24280 (a vLLM maintainer, 2025-09-04): hybrid models get "large
/// attention page sizes (672 tokens for nvidia/NVIDIA-Nemotron-Nano-9B-v2)". Its state page:
/// convolution 3 × (128 × 80 + 2 × 8 × 128) and SSM 128 × 80 × 128, two bytes each,
/// 2,695,168 bytes, over 4,096 bytes per attention token → 16 × ⌈2,695,168 / 65,536⌉ = 672,
/// padded by 2.13%.
#[test]
fn nemotron_nano_9b_v2_block_is_672_tokens() {
    let model = ModelSpec::from_hf_config_json(NEMOTRON_NANO_9B_V2, "nemotron-nano-9b-v2/config.json").unwrap();
    assert_eq!(model.kv_layers(), 4);
    assert_eq!(model.recurrent_layers(), 27);
    assert_eq!(model.mlp_layers(), 25);
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu("h100-sxm").unwrap();
    let cfg = EngineFlags::default()
        .resolve_release(EngineVersion::Vllm010, Some("0.11.0"), &model, gpu, "test")
        .unwrap();
    assert_eq!(cfg.block_size, 672);
    let plan = plan_memory(&model, gpu, &cfg, &MemoryCalibration::default(), "test").unwrap();
    assert_eq!(
        plan.hybrid_lines[1],
        "Padding mamba page size by 2.13% to ensure that mamba page size and attention page size are exactly equal."
    );
    // Groups of 4 layers: 1 attention + 7 mamba groups (27 mamba layers, one padding layer).
    let counts = servecast::spec::engine::kv_group_counts(&model, EngineVersion::Vllm010, Some("0.11.0"));
    assert_eq!((counts.group_size, counts.full, counts.recurrent), (4, 1, 7));
}

/// The parameter counts the configs give: Qwen3-Next "80B-A3B" (79.7 B from its shapes, about
/// 3 B active), Jamba 1.5 Mini (AI21: 52 B total, 12 B active) and Nemotron-H-56B.
#[test]
fn hybrid_parameter_counts_match_their_names() {
    let next = config(QWEN3_NEXT);
    assert!(
        (79.0e9..81.0e9).contains(&(next.params_total() as f64)),
        "{}",
        next.params_total()
    );
    assert!(
        (2.8e9..4.0e9).contains(&(next.params_active() as f64)),
        "{}",
        next.params_active()
    );
    let jamba = config("ai21labs--AI21-Jamba-1.5-Mini.json");
    assert!(
        (51.0e9..53.0e9).contains(&(jamba.params_total() as f64)),
        "{}",
        jamba.params_total()
    );
    assert!(
        (11.0e9..13.0e9).contains(&(jamba.params_active() as f64)),
        "{}",
        jamba.params_active()
    );
    let nemo = config("nvidia--Nemotron-H-56B-Base-8K.json");
    assert!(
        (55.0e9..57.5e9).contains(&(nemo.params_total() as f64)),
        "{}",
        nemo.params_total()
    );
}

/// The state a request holds: one block per recurrent group with prefix caching off (0.11),
/// two in mode "align" (Qwen3-Next with prefix caching, on by default from 0.26), a block per
/// block of tokens in mode "all" (Nemotron-H from 0.26).
#[test]
fn state_blocks_per_request_follow_the_mamba_cache_mode() {
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu("h200").unwrap();
    let next = config(QWEN3_NEXT);
    let resolve = |m: &ModelSpec, release: &str| {
        EngineFlags {
            tensor_parallel_size: Some(2),
            max_model_len: Some(8192),
            ..EngineFlags::default()
        }
        .resolve_release(EngineVersion::Vllm010, Some(release), m, gpu, "test")
        .unwrap()
    };
    let off = resolve(&next, "0.11.0");
    let align = resolve(&next, "0.31.0");
    assert!(align.enable_prefix_caching);
    // 2,000 tokens at 544 per block: 4 attention blocks, plus 3 groups × 1 or × 2 state blocks.
    assert_eq!(off.block_size, 544);
    assert_eq!(off.kv_groups.blocks_for(2000, off.block_size), 4 + 3);
    assert_eq!(align.kv_groups.blocks_for(2000, align.block_size), 4 + 6);
    let nemo = config("nvidia--Nemotron-H-56B-Base-8K.json");
    let all = resolve(&nemo, "0.31.0");
    // From 0.20 Nemotron-H's temporal state is float32: at TP 2 the page is 3 × 10,240 × 2 +
    // 128 × 64 × 256 × 4 = 8,450,048 bytes, 4,126 tokens of 2,048-byte attention, rounded in mode
    // "all" to the scan's 128-token chunk: 4,224. 10 attention + 54 mamba layers in groups of 10:
    // 1 + 6 groups, each a block per 4,224 tokens.
    assert_eq!(all.block_size, 4224);
    assert_eq!(all.kv_groups.blocks_for(2000, all.block_size), 7);
    assert_eq!(all.kv_groups.blocks_for(4300, all.block_size), 14);
    // Without prefix caching (the default until 0.26) and before 0.20's float32 state: one state
    // block per group, the block 16-aligned (2 bytes per state element: 4,255,744 / 2,048 = 2,078
    // tokens → 2,080).
    let none = resolve(&nemo, "0.19.0");
    assert!(!none.enable_prefix_caching);
    assert_eq!(none.block_size, 2080);
    assert_eq!(none.kv_groups.blocks_for(4300, none.block_size), 3 + 6);
}

/// Where servecast does not model a hybrid, it says so: V0 engines and releases before 0.10.2
/// (the hybrid KV cache manager), and the families whose state it does not know yet.
#[test]
fn hybrids_are_refused_where_not_modelled() {
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu("h200").unwrap();
    // Nemotron-H is in vLLM's registry from 0.9.1, but servecast models its state only with V1's
    // hybrid KV cache manager (0.10.2+).
    let nemo = config("nvidia--Nemotron-H-56B-Base-8K.json");
    for (version, release) in [
        (EngineVersion::Vllm010, Some("0.9.2")),
        (EngineVersion::Vllm010, Some("0.10.1")),
    ] {
        let err = EngineFlags::default()
            .resolve_release(version, release, &nemo, gpu, "test")
            .unwrap_err()
            .to_string();
        assert!(err.contains("from 0.10.2"), "{err}");
    }
    // Qwen3-Next arrived in 0.10.2: earlier releases and the V0 line refuse it as vLLM does.
    let next = config(QWEN3_NEXT);
    for (version, release) in [(EngineVersion::Vllm06, None), (EngineVersion::Vllm010, Some("0.10.1"))] {
        let err = EngineFlags::default()
            .resolve_release(version, release, &next, gpu, "test")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Model architectures ['Qwen3NextForCausalLM'] are not supported for now")
                && err.contains("arrived in 0.10.2"),
            "{err}"
        );
    }
    let zamba = r#"{"architectures": ["Zamba2ForCausalLM"], "model_type": "zamba2"}"#;
    let err = ModelSpec::from_hf_config_json(zamba, "zamba2-7b/config.json")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("architectures") && err.contains("recurrent state"),
        "{err}"
    );
}

/// A hybrid deployment runs end to end: every request completes and the state traffic makes a
/// decode step of many sequences slower than of one (Qwen3-Next at TP 4 on H100s).
#[test]
fn qwen3_next_simulates() {
    let model = config(QWEN3_NEXT);
    let run = Scenario::builder()
        .gpu("h100-sxm")
        .model_spec(model)
        .release("0.11.0")
        .edit_flags(|f| f.tensor_parallel_size = Some(4))
        .workload(WorkloadSpec::closed_loop(
            vec![1, 64],
            4,
            LengthDist::Fixed { tokens: 1000 },
            LengthDist::Fixed { tokens: 200 },
        ))
        .build()
        .unwrap()
        .run()
        .unwrap();
    for level in &run.levels {
        assert_eq!(level.failed, 0);
        assert!(level.output_throughput_tok_s.is_finite() && level.output_throughput_tok_s > 0.0);
    }
    let first = &run.levels[0];
    let last = run.levels.last().unwrap();
    assert!(last.output_throughput_tok_s > 5.0 * first.output_throughput_tok_s);
}

/// The catalog's hybrid entries are their config.json files as the hybrid room reads them.
#[test]
fn catalog_hybrids_match_their_configs() {
    let catalog = Catalog::builtin().unwrap();
    for (id, file) in [
        ("qwen3-next-80b-a3b", QWEN3_NEXT),
        ("qwen3.5-35b-a3b", "Qwen--Qwen3.5-35B-A3B.json"),
        (
            "nemotron-3-nano-30b-a3b",
            "nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16.json",
        ),
        ("nemotron-h-56b", "nvidia--Nemotron-H-56B-Base-8K.json"),
        ("jamba-1.5-mini", "ai21labs--AI21-Jamba-1.5-Mini.json"),
        ("granite-4.0-h-tiny", "ibm-granite--granite-4.0-h-tiny.json"),
        ("granite-4.0-micro-base", "ibm-granite--granite-4.0-micro-base.json"),
        ("bamba-9b", "ibm-fms--Bamba-9B.json"),
    ] {
        let entry = catalog.model(id).unwrap();
        let parsed = config(file);
        assert_eq!(entry.recurrent, parsed.recurrent, "{id}");
        assert_eq!(entry.moe, parsed.moe, "{id}");
        assert_eq!(entry.vllm_architecture, parsed.vllm_architecture, "{id}");
        assert_eq!(
            (entry.kv_layers(), entry.mlp_layers(), entry.params_total()),
            (parsed.kv_layers(), parsed.mlp_layers(), parsed.params_total()),
            "{id}"
        );
    }
}

/// The derived rows docs/research/vllm-hybrid.md quotes (vLLM's rule, not a log): attention block
/// and state padding at 0.19 (prefix caching off, 16-token alignment).
#[test]
fn derived_block_sizes_follow_vllms_rule() {
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu("h200").unwrap();
    for (file, tp, block, padding) in [
        (QWEN3_NEXT, 4, 272, "1.49%"),
        ("nvidia--Nemotron-H-56B-Base-8K.json", 4, 2080, "0.10%"),
        ("ai21labs--AI21-Jamba-1.5-Mini.json", 2, 80, "5.26%"),
        ("Qwen--Qwen3.5-35B-A3B.json", 4, 528, "0.76%"),
    ] {
        let model = config(file);
        let cfg = EngineFlags {
            tensor_parallel_size: Some(tp),
            max_model_len: Some(8192),
            ..EngineFlags::default()
        }
        .resolve_release(EngineVersion::Vllm010, Some("0.19.0"), &model, gpu, "test")
        .unwrap();
        assert_eq!(cfg.block_size, block, "{file}");
        let plan = plan_memory(&model, gpu, &cfg, &MemoryCalibration::default(), "test").unwrap();
        assert!(
            plan.hybrid_lines
                .last()
                .is_some_and(|l| l.contains(&format!("by {padding} "))),
            "{file}: {:?}",
            plan.hybrid_lines
        );
    }
}
