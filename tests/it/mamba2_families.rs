//! Granite 4.0-H, Bamba and Falcon-H1: Mamba-2 hybrids read from config.json as vLLM's
//! `granitemoehybrid.py`, `bamba.py` and `falcon_h1.py` read them (state shapes from
//! `MambaStateShapeCalculator.mamba2_state_shape`), and the releases whose registry lacks a
//! class refusing it in that release's words.
//!
//! The config files and their provenance: data/hf-configs (SOURCES.md). No public vLLM V1
//! start-up log of these families was found (docs/research/vllm-hybrid.md), so the block sizes
//! are vLLM's rule applied to the shapes, with the one public statement there is (vllm-gaudi
//! PR #1564: granite-4.0-h-small's block "inflated to 528").

use servecast::memory::{plan_memory, MemoryCalibration};
use servecast::spec::engine::{EngineFlags, EngineVersion};
use servecast::spec::{Catalog, ModelSpec};
use servecast::Error;

fn config(file: &str) -> ModelSpec {
    let path = format!("{}/data/hf-configs/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    ModelSpec::from_hf_config_json(&text, &path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const H_TINY: &str = "ibm-granite--granite-4.0-h-tiny.json";
const MICRO_BASE: &str = "ibm-granite--granite-4.0-micro-base.json";
const BAMBA: &str = "ibm-fms--Bamba-9B.json";

/// ibm-granite/granite-4.0-h-small (no verbatim config.json here): the fields a code-index
/// transcription "fetched live" gives (hidden 4096, 40 layers, 32 / 8 heads, 72 experts × 768,
/// top-10, shared 1536, d_state 128, conv 4, expand 2, tied, vocab 100,352; 36 mamba + 4
/// attention layers), with the mamba heads IBM's own GGUF build records (`ssm.time_step_rank`
/// 128, `ssm.inner_size` 8192, `ssm.group_count` 1: head size 64). The attention positions are
/// h-tiny's (5, 15, 25, 35); only their count matters here.
fn h_small() -> ModelSpec {
    let types: Vec<String> = (0..40)
        .map(|i| {
            if [5, 15, 25, 35].contains(&i) {
                "\"attention\"".to_string()
            } else {
                "\"mamba\"".to_string()
            }
        })
        .collect();
    let text = format!(
        r#"{{"architectures": ["GraniteMoeHybridForCausalLM"], "model_type": "granitemoehybrid",
        "hidden_size": 4096, "num_hidden_layers": 40, "num_attention_heads": 32, "num_key_value_heads": 8,
        "num_local_experts": 72, "num_experts_per_tok": 10, "shared_intermediate_size": 1536,
        "intermediate_size": 768, "mamba_d_state": 128, "mamba_d_conv": 4, "mamba_expand": 2,
        "mamba_n_heads": 128, "mamba_d_head": 64, "mamba_n_groups": 1, "mamba_chunk_size": 256,
        "tie_word_embeddings": true, "vocab_size": 100352, "max_position_embeddings": 131072,
        "torch_dtype": "bfloat16", "layer_types": [{}]}}"#,
        types.join(", ")
    );
    ModelSpec::from_hf_config_json(&text, "granite-4.0-h-small/config.json").unwrap()
}

/// tiiuae/Falcon-H1-7B-Instruct (no verbatim config.json here): the shape two test fixtures
/// transcribe (a Python `FALCON_H1_7B_HF` dict and a Swift test quoting mlx-community's copy of
/// the file) and the transformers docs' size table agree on — 44 layers of 3,072, 12 / 2 heads of
/// 128, MLP 12,288, 24 mamba heads of 128, d_state 256, `mamba_d_ssm` 3,072 (not expand ×
/// hidden = 6,144), one group, conv 4, chunk 128, vocab 130,048.
const FALCON_H1_7B: &str = r#"{"architectures": ["FalconH1ForCausalLM"], "model_type": "falcon_h1",
  "hidden_size": 3072, "num_hidden_layers": 44, "num_attention_heads": 12, "num_key_value_heads": 2,
  "head_dim": 128, "intermediate_size": 12288, "vocab_size": 130048, "tie_word_embeddings": false,
  "mamba_d_state": 256, "mamba_n_groups": 1, "mamba_n_heads": 24, "mamba_d_head": 128,
  "mamba_d_ssm": 3072, "mamba_expand": 2, "mamba_d_conv": 4, "mamba_chunk_size": 128,
  "max_position_embeddings": 262144, "attn_layer_indices": null, "torch_dtype": "bfloat16"}"#;

/// The shapes as vLLM reads them: which layers attend, the mixer's state (conv channels, state
/// heads × head size × d_state), the MLPs and experts; parameter counts where a public figure
/// exists.
#[test]
fn configs_read_as_vllm_reads_them() {
    let tiny = config(H_TINY);
    assert_eq!(
        (tiny.kv_layers(), tiny.recurrent_layers(), tiny.mlp_layers()),
        (4, 36, 40)
    );
    let r = tiny.recurrent.unwrap();
    // mamba_expand × hidden = 3,072 = 48 heads × 64; conv 3,072 + 2 × 1 × 128.
    assert_eq!(
        (r.conv_dim, r.state_heads, r.state_rows, r.state_cols),
        (3328, 48, 64, 128)
    );
    assert!(!r.nemotron_h_state_rule && !r.parallel);
    let moe = tiny.moe.unwrap();
    assert_eq!(
        (
            moe.num_experts,
            moe.num_experts_per_tok,
            moe.moe_intermediate_size,
            moe.shared_expert_intermediate_size,
            moe.moe_layers
        ),
        (64, 6, 512, 1024, 40)
    );
    // IBM: "7B total"; the shapes give 6.94 B.
    assert!(
        (6.9e9..7.0e9).contains(&(tiny.params_total() as f64)),
        "{}",
        tiny.params_total()
    );

    // granite-4.0-micro(-base): the hybrid class with attention in every layer is a dense model
    // (vLLM's `is_hybrid` says so from 0.11.2). A public note that matched it to Ollama's
    // granite4:3b byte for byte counts 3,402,836,480 parameters.
    let micro = config(MICRO_BASE);
    assert!(micro.recurrent.is_none() && micro.moe.is_none());
    assert_eq!(micro.intermediate_size, 8192);
    assert_eq!(micro.params_total(), 3_402_836_480);

    let bamba = config(BAMBA);
    assert_eq!((bamba.kv_layers(), bamba.recurrent_layers()), (3, 29));
    assert_eq!(bamba.max_position_embeddings, 262_144, "BambaConfig's default");
    assert!(!bamba.tie_word_embeddings);

    let falcon = ModelSpec::from_hf_config_json(FALCON_H1_7B, "falcon-h1-7b/config.json").unwrap();
    // Every layer attends and scans: 44 KV layers and 44 mamba layers, one MLP each.
    assert_eq!(
        (falcon.kv_layers(), falcon.recurrent_layers(), falcon.mlp_layers()),
        (44, 44, 44)
    );
    let r = falcon.recurrent.unwrap();
    assert!(r.parallel);
    assert_eq!(
        (r.conv_dim, r.state_heads, r.state_rows, r.state_cols),
        (3072 + 512, 24, 128, 256)
    );
    // Falcon-H1-7B: about 7.6 B.
    assert!(
        (7.0e9..8.0e9).contains(&(falcon.params_total() as f64)),
        "{}",
        falcon.params_total()
    );
}

/// vLLM's block rule (`16 · ⌈state page / (16 · attention bytes per token)⌉`, bf16 state, prefix
/// caching off as 0.19 defaults) on these shapes, with the padding line it logs.
#[test]
fn attention_blocks_hold_one_mamba_page() {
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu("h100-sxm").unwrap();
    let falcon = ModelSpec::from_hf_config_json(FALCON_H1_7B, "falcon-h1-7b/config.json").unwrap();
    for (name, model, tp, block, padding) in [
        // 2 × (3 × 8,448 + 128 × 64 × 128) = 2,147,840 bytes over 4,096 per token: 528.
        ("granite-4.0-h-small", h_small(), 1, 528, "0.69%"),
        ("granite-4.0-h-small", h_small(), 4, 528, "0.48%"),
        ("granite-4.0-h-tiny", config(H_TINY), 1, 400, "1.59%"),
        ("granite-4.0-h-tiny", config(H_TINY), 2, 400, "1.39%"),
        ("Bamba-9B", config(BAMBA), 1, 528, "0.69%"),
        // 2 × (3 × 3,584 + 24 × 128 × 256) = 1,594,368 bytes over 1,024 per token: 1,568.
        ("Falcon-H1-7B", falcon.clone(), 1, 1568, "0.71%"),
        // 2 KV heads on 4 ranks: one replicated head, 512 bytes per token.
        ("Falcon-H1-7B", falcon, 4, 784, "0.13%"),
    ] {
        let cfg = EngineFlags {
            tensor_parallel_size: Some(tp),
            max_model_len: Some(8192),
            ..EngineFlags::default()
        }
        .resolve_release(EngineVersion::Vllm010, Some("0.19.0"), &model, gpu, "test")
        .unwrap();
        assert_eq!(cfg.block_size, block, "{name} TP {tp}");
        let plan = plan_memory(&model, gpu, &cfg, &MemoryCalibration::default(), "test").unwrap();
        assert_eq!(
            plan.hybrid_lines,
            vec![
                format!("Setting attention block size to {block} tokens to ensure that attention page size is >= mamba page size."),
                format!("Padding mamba page size by {padding} to ensure that mamba page size and attention page size are exactly equal."),
            ],
            "{name} TP {tp}"
        );
    }
    // Granite 4.0-H's state stays in the model's dtype at 0.20+ (only Nemotron-H's hook picks
    // float32): the block does not double.
    let cfg = EngineFlags {
        max_model_len: Some(8192),
        enable_prefix_caching: Some(false),
        ..EngineFlags::default()
    }
    .resolve_release(EngineVersion::Vllm010, Some("0.31.0"), &h_small(), gpu, "test")
    .unwrap();
    assert_eq!(cfg.block_size, 528);
    // A dense Granite (micro) keeps vLLM's 16-token block.
    let cfg = EngineFlags::default()
        .resolve_release(EngineVersion::Vllm010, Some("0.19.0"), &config(MICRO_BASE), gpu, "test")
        .unwrap();
    assert_eq!(cfg.block_size, 16);
}

/// Falcon-H1's KV-cache groups: 44 attention and 44 mamba layers make one group of each.
#[test]
fn falcon_h1_groups_pair_attention_with_mamba() {
    let falcon = ModelSpec::from_hf_config_json(FALCON_H1_7B, "falcon-h1-7b/config.json").unwrap();
    let counts = servecast::spec::engine::kv_group_counts(&falcon, EngineVersion::Vllm010, Some("0.19.0"));
    assert_eq!((counts.group_size, counts.full, counts.recurrent), (44, 1, 1));
    // Bamba: 3 attention, 29 mamba layers in groups of 3 (one padding layer).
    let counts = servecast::spec::engine::kv_group_counts(&config(BAMBA), EngineVersion::Vllm010, Some("0.19.0"));
    assert_eq!((counts.group_size, counts.full, counts.recurrent), (3, 1, 10));
}

fn refusal(model: &ModelSpec, version: EngineVersion, release: Option<&str>) -> String {
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu("h100-sxm").unwrap();
    match EngineFlags::default().resolve_release(version, release, model, gpu, "test") {
        Err(Error::EngineRefused { message, .. }) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A release whose model registry lacks the checkpoint's class refuses it in its words (read
/// from each release's `registry.py` on PyPI): Bamba left after 0.23, Qwen3-MoE arrived in
/// 0.8.4, gpt-oss in 0.10.1, Granite 4.0-H in 0.9.0; the V0 line refuses a class none of its
/// releases had.
#[test]
fn releases_refuse_classes_their_registry_lacks() {
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu("h100-sxm").unwrap();
    let bamba = config(BAMBA);
    assert_eq!(
        refusal(&bamba, EngineVersion::Vllm010, Some("0.24.0")),
        "ValueError: Model architecture BambaForCausalLM was supported in vLLM until v0.23.0, and is not \
         supported anymore. Please use an older version of vLLM if you want to use this model architecture."
    );
    assert!(EngineFlags::default()
        .resolve_release(EngineVersion::Vllm010, Some("0.23.0"), &bamba, gpu, "test")
        .is_ok());
    let qwen3_moe = catalog.model("qwen3-30b-a3b").unwrap();
    let message = refusal(qwen3_moe, EngineVersion::Vllm010, Some("0.8.3"));
    assert!(
        message.starts_with(
            "ValueError: Model architectures ['Qwen3MoeForCausalLM'] are not supported for now. Supported architectures: dict_keys(["
        ),
        "{message}"
    );
    assert!(message.contains("arrived in 0.8.4"), "{message}");
    assert!(EngineFlags::default()
        .resolve_release(EngineVersion::Vllm010, Some("0.8.4"), qwen3_moe, gpu, "test")
        .is_ok());
    let gpt_oss = catalog.model("gpt-oss-20b").unwrap();
    assert!(refusal(gpt_oss, EngineVersion::Vllm010, Some("0.10.0")).contains("['GptOssForCausalLM']"));
    // The V0 line without a release: 0.6.6, the last of it, never had Qwen3. Up to 0.6.3 vLLM
    // printed the supported classes as a list.
    let qwen3 = catalog.model("qwen3-8b").unwrap();
    assert!(refusal(qwen3, EngineVersion::Vllm06, None).contains("Supported architectures: dict_keys(["));
    assert!(refusal(qwen3, EngineVersion::Vllm05, None).contains("Supported architectures: […]"));
    // Classes every release had pass; so do V1 runs without a stated release.
    let llama = catalog.model("llama-3.1-8b").unwrap();
    assert!(EngineFlags::default()
        .resolve_release(EngineVersion::Vllm05, None, llama, gpu, "test")
        .is_ok());
    assert!(EngineFlags::default()
        .resolve_release(EngineVersion::Vllm010, None, &bamba, gpu, "test")
        .is_ok());
}

/// Nemotron 3 (Nemotron-H with MoE layers) needs 0.11.2: before, vLLM's `nemotron_h.py` has no
/// layer kind `E` and stops with `KeyError: 'E'`; Nemotron-H without MoE layers runs from 0.10.2.
#[test]
fn nemotron_3_needs_the_moe_layer_kind() {
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu("h100-sxm").unwrap();
    let nano = catalog.model("nemotron-3-nano-30b-a3b").unwrap();
    assert!(refusal(nano, EngineVersion::Vllm010, Some("0.11.0")).starts_with("KeyError: 'E'"));
    assert!(EngineFlags::default()
        .resolve_release(EngineVersion::Vllm010, Some("0.11.2"), nano, gpu, "test")
        .is_ok());
    let dense = catalog.model("nemotron-h-56b").unwrap();
    assert!(EngineFlags {
        tensor_parallel_size: Some(2),
        ..EngineFlags::default()
    }
    .resolve_release(EngineVersion::Vllm010, Some("0.10.2"), dense, gpu, "test")
    .is_ok());
}
