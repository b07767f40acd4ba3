//! vLLM start-up logs of releases ≥ 0.11 (data/startup-logs, one YAML per log with its source):
//! from the logged "Available KV cache memory", servecast's KV layout for that release, model
//! family, tensor parallelism and KV dtype must print the logged "GPU KV cache size: N tokens"
//! and "Maximum concurrency … : X.XXx" within 0.1% (the issue asks 1%; the logged GiB has two decimals; the test
//! enters it through `--kv-cache-memory`, which vLLM also takes as the budget as is).

use servecast::memory::{plan_memory, MemoryCalibration};
use servecast::spec::engine::{EngineFlags, EngineVersion, KvCacheDtype};
use servecast::spec::{Catalog, ModelSpec};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

fn yaml(file: &str) -> serde_yaml_value::Value {
    let path = format!("{}/data/startup-logs/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

mod serde_yaml_value {
    pub type Value = serde_json::Value;
}

fn config(file: &str) -> ModelSpec {
    if file == GEMMA3_1B {
        return ModelSpec::from_hf_config_json(GEMMA3_1B_CONFIG, "gemma-3-1b-it/config.json").unwrap();
    }
    let path = format!("{}/data/hf-configs/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    ModelSpec::from_hf_config_json(&text, &path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// google/gemma-3-1b-it has no vendored config.json here (a gated repository); its shape is
/// the model card's (26 layers, 4 query heads, 1 KV head of 256, window 512 on five of every
/// six layers). The log itself confirms the layer split: vLLM warns "Add 2 padding layers",
/// which only 22 sliding + 4 full layers in groups of 4 give.
const GEMMA3_1B: &str = "gemma-3-1b-it (inline)";
const GEMMA3_1B_CONFIG: &str = r#"{"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text",
  "hidden_size": 1152, "intermediate_size": 6912, "num_hidden_layers": 26, "num_attention_heads": 4,
  "num_key_value_heads": 1, "head_dim": 256, "vocab_size": 262144, "sliding_window": 512,
  "sliding_window_pattern": 6, "max_position_embeddings": 32768, "torch_dtype": "bfloat16"}"#;

/// Reproduces one log: `config` is the checkpoint's config.json (or one of the same shape, as the
/// log's note says), `gpu` the catalog id of the logged device.
fn reproduce(file: &str, config_file: &str, gpu: &str) {
    let log = yaml(file);
    let url = log["provenance"]["url"].as_str().unwrap_or("?").to_string();
    let release = log["release"]
        .as_str()
        .filter(|r| !r.is_empty())
        .unwrap_or("0.11.0")
        .to_string();
    let logged = &log["logged"];
    let available_gib = logged["available_kv_cache_gib"]
        .as_f64()
        .expect("available_kv_cache_gib");
    let tokens = logged["gpu_kv_cache_size_tokens"]
        .as_f64()
        .expect("gpu_kv_cache_size_tokens");
    let flags = &log["flags"];
    let kv_dtype = log["engine_config"]["kv_cache_dtype"]
        .as_str()
        .or(flags["kv_cache_dtype"].as_str())
        .map(|t| KvCacheDtype::parse(t, file).unwrap());
    let u32_of = |v: &serde_json::Value| v.as_u64().map(|n| n as u32);
    let model = config(config_file);
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu(gpu).unwrap();
    let engine_flags = EngineFlags {
        tensor_parallel_size: u32_of(&flags["tensor_parallel_size"]),
        max_model_len: u32_of(&flags["max_model_len"]).or(u32_of(&log["engine_config"]["max_seq_len"])),
        max_num_batched_tokens: u32_of(&flags["max_num_batched_tokens"])
            .or(u32_of(&log["engine_config"]["max_num_batched_tokens"])),
        max_num_seqs: u32_of(&flags["max_num_seqs"]),
        block_size: u32_of(&flags["block_size"]),
        kv_cache_dtype: kv_dtype,
        kv_cache_memory_bytes: Some((available_gib * GIB) as u64),
        ..EngineFlags::default()
    };
    let cfg = engine_flags
        .resolve_release(EngineVersion::Vllm010, Some(&release), &model, gpu, file)
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let plan =
        plan_memory(&model, gpu, &cfg, &MemoryCalibration::default(), "test").unwrap_or_else(|e| panic!("{file}: {e}"));
    let got = plan.kv_cache_tokens as f64;
    println!(
        "{file}: {} tokens vs logged {tokens} ({:+.3}%), {:.2}x vs {}",
        plan.kv_cache_tokens,
        (got / tokens - 1.0) * 100.0,
        plan.max_concurrency,
        logged["max_concurrency"]["x"]
            .as_f64()
            .map_or("-".to_string(), |x| format!("{x:.2}x"))
    );
    assert!(
        (got / tokens - 1.0).abs() <= 0.001,
        "{file} ({url}): servecast {} vs logged GPU KV cache size {tokens} tokens",
        plan.kv_cache_size_line()
    );
    if let (Some(x), Some(per_request)) = (
        logged["max_concurrency"]["x"].as_f64(),
        logged["max_concurrency"]["tokens_per_request"].as_u64(),
    ) {
        assert_eq!(u64::from(cfg.max_model_len), per_request, "{file}: max_model_len");
        assert!(
            (plan.max_concurrency / x - 1.0).abs() <= 0.001,
            "{file} ({url}): servecast {} vs logged {x:.2}x",
            plan.max_concurrency_line()
        );
    }
}

macro_rules! startup_log {
    ($name:ident, $file:literal, $config:literal, $gpu:literal) => {
        #[test]
        fn $name() {
            reproduce($file, $config, $gpu);
        }
    };
}

// MLA: DeepSeek-R1-0528 (the R1 config), Kimi K2 (its text model).
startup_log!(
    mla_deepseek_r1_h200_tp8_v0110,
    "mla-deepseek-r1-0528-h200x8-vllm0.11.0.yaml",
    "deepseek-ai--DeepSeek-R1.json",
    "h200"
);
startup_log!(
    mla_deepseek_r1_h200_tp8_v0112,
    "mla-deepseek-r1-0528-h200x8-vllm0.11.2.yaml",
    "deepseek-ai--DeepSeek-R1.json",
    "h200"
);
startup_log!(
    mla_deepseek_r1_h200_tp8_v0130,
    "mla-deepseek-r1-0528-h200x8-vllm0.13.0.yaml",
    "deepseek-ai--DeepSeek-R1.json",
    "h200"
);
startup_log!(
    mla_deepseek_r1_h200_tp8_v0141,
    "mla-deepseek-r1-0528-h200x8-vllm0.14.1.yaml",
    "deepseek-ai--DeepSeek-R1.json",
    "h200"
);
startup_log!(
    mla_deepseek_r1_b200_tp8_v0180,
    "mla-deepseek-r1-0528-b200x8-vllm0.18.0.yaml",
    "deepseek-ai--DeepSeek-R1.json",
    "b200"
);
startup_log!(
    mla_kimi_k25_h200_tp8_v0180,
    "mla-kimi-k2.5-h200x8-vllm0.18.0.yaml",
    "moonshotai--Kimi-K2-Instruct.json",
    "h200"
);
startup_log!(
    mla_kimi_k2_thinking_h200_tp8,
    "mla-kimi-k2-thinking-h200x8-tp8-recipe-pr115.yaml",
    "moonshotai--Kimi-K2-Instruct.json",
    "h200"
);
// MoE with GQA: Qwen3-235B-A22B (BF16 and FP8), Llama 4 Maverick (BF16; FP8 with an FP8 KV cache),
// Qwen3-VL-30B-A3B (its language model has Qwen3-30B-A3B's shape).
startup_log!(
    moe_qwen3_235b_fp8_h200_tp4_v0110,
    "moe-qwen3-235b-a22b-fp8-h200x4-ep-vllm0.11.0.yaml",
    "Qwen--Qwen3-235B-A22B-FP8.json",
    "h200"
);
startup_log!(
    moe_qwen3_235b_2507_h200_tp4_v0112,
    "moe-qwen3-235b-a22b-instruct-2507-h200x4-vllm0.11.2.yaml",
    "Qwen--Qwen3-235B-A22B.json",
    "h200"
);
startup_log!(
    moe_llama4_maverick_h200_tp8_v0112,
    "moe-llama4-maverick-bf16-h200x8-vllm0.11.2.yaml",
    "meta-llama--Llama-4-Maverick-17B-128E-Instruct.json",
    "h200"
);
startup_log!(
    moe_llama4_maverick_fp8kv_h200_tp8_v0112,
    "moe-llama4-maverick-fp8-h200x8-fp8kv-vllm0.11.2.yaml",
    "meta-llama--Llama-4-Maverick-17B-128E-Instruct.json",
    "h200"
);
startup_log!(
    moe_qwen3_vl_30b_h200_v0130,
    "moe-qwen3-vl-30b-a3b-h200-vllm0.13.0.yaml",
    "Qwen--Qwen3-30B-A3B.json",
    "h200"
);
startup_log!(
    moe_qwen3_vl_30b_h200_v0180,
    "moe-qwen3-vl-30b-a3b-h200-vllm0.18.0.yaml",
    "Qwen--Qwen3-30B-A3B.json",
    "h200"
);
// Dense: Llama-3.3-70B-Instruct at TP 4 over six releases (BF16, and an FP8-dynamic checkpoint
// whose KV cache is FP8).
startup_log!(
    dense_llama33_70b_h200_tp4_v0112,
    "dense-llama-3.3-70b-instruct-h200x4-vllm0.11.2.yaml",
    "meta-llama--Llama-3.3-70B-Instruct.json",
    "h200"
);
startup_log!(
    dense_llama33_70b_fp8_h200_tp4_v0130,
    "dense-llama-3.3-70b-instruct-fp8-h200x4-vllm0.13.0.yaml",
    "meta-llama--Llama-3.3-70B-Instruct.json",
    "h200"
);
startup_log!(
    dense_llama33_70b_h200_tp4_v0141,
    "dense-llama-3.3-70b-instruct-h200x4-vllm0.14.1.yaml",
    "meta-llama--Llama-3.3-70B-Instruct.json",
    "h200"
);
startup_log!(
    dense_llama33_70b_h200_tp4_v0180,
    "dense-llama-3.3-70b-instruct-h200x4-vllm0.18.0.yaml",
    "meta-llama--Llama-3.3-70B-Instruct.json",
    "h200"
);
startup_log!(
    dense_llama33_70b_b200_tp4_v0180,
    "dense-llama-3.3-70b-instruct-b200x4-vllm0.18.0.yaml",
    "meta-llama--Llama-3.3-70B-Instruct.json",
    "b200"
);
startup_log!(
    dense_llama33_70b_h200_tp4_v0200_131k,
    "dense-llama-3.3-70b-instruct-h200x4-vllm0.20.0-131k.yaml",
    "meta-llama--Llama-3.3-70B-Instruct.json",
    "h200"
);
// Sliding window: Gemma 3 1B, 22 sliding + 4 full layers in 7 groups of 4 (2 padding layers).
startup_log!(
    swa_gemma3_1b_v0130,
    "swa-gemma-3-1b-it-vllm0.13.0-eole.yaml",
    "gemma-3-1b-it (inline)",
    "rtx-5090"
);
// Dense on ROCm: Llama-3.3-70B-Instruct on one MI300X (a Red Hat build of 0.18.0).
startup_log!(
    dense_llama33_70b_mi300x_v0180,
    "dense-llama-3.3-70b-instruct-mi300x-vllm0.18.0rhaiv0.yaml",
    "meta-llama--Llama-3.3-70B-Instruct.json",
    "mi300x"
);

/// Without the log's budget: servecast's own estimate of what vLLM leaves for the KV cache
/// (util × total − weights − activation peak − non-torch), against the logged "Available KV cache
/// memory". Dense tensor-parallel logs land within a few percent; the MoE ones keep more memory
/// out of the KV cache than the estimate knows (fused-MoE workspaces), so servecast over-counts
/// their cache by up to 20%.
#[test]
fn first_principles_budget_against_the_logs() {
    for (file, config_file, gpu_id, tolerance) in [
        (
            "dense-llama-3.3-70b-instruct-h200x4-vllm0.11.2.yaml",
            "meta-llama--Llama-3.3-70B-Instruct.json",
            "h200",
            0.03,
        ),
        (
            "dense-llama-3.3-70b-instruct-b200x4-vllm0.18.0.yaml",
            "meta-llama--Llama-3.3-70B-Instruct.json",
            "b200",
            0.03,
        ),
        (
            "dense-llama-3.3-70b-instruct-mi300x-vllm0.18.0rhaiv0.yaml",
            "meta-llama--Llama-3.3-70B-Instruct.json",
            "mi300x",
            0.03,
        ),
        (
            "mla-deepseek-r1-0528-h200x8-vllm0.11.2.yaml",
            "deepseek-ai--DeepSeek-R1.json",
            "h200",
            0.2,
        ),
        (
            "moe-llama4-maverick-bf16-h200x8-vllm0.11.2.yaml",
            "meta-llama--Llama-4-Maverick-17B-128E-Instruct.json",
            "h200",
            0.2,
        ),
        (
            "moe-qwen3-235b-a22b-instruct-2507-h200x4-vllm0.11.2.yaml",
            "Qwen--Qwen3-235B-A22B.json",
            "h200",
            0.2,
        ),
    ] {
        let log = yaml(file);
        let model = config(config_file);
        let catalog = Catalog::builtin().unwrap();
        let gpu = catalog.gpu(gpu_id).unwrap();
        let flags = &log["flags"];
        let engine_flags = EngineFlags {
            tensor_parallel_size: flags["tensor_parallel_size"].as_u64().map(|n| n as u32),
            gpu_memory_utilization: flags["gpu_memory_utilization"].as_f64(),
            max_model_len: flags["max_model_len"]
                .as_u64()
                .or(log["engine_config"]["max_seq_len"].as_u64())
                .map(|n| n as u32),
            ..EngineFlags::default()
        };
        let release = log["release"].as_str().unwrap_or("0.11.0").to_string();
        let cfg = engine_flags
            .resolve_release(EngineVersion::Vllm010, Some(&release), &model, gpu, file)
            .unwrap();
        let plan = plan_memory(&model, gpu, &cfg, &MemoryCalibration::default(), "test").unwrap();
        let logged = log["logged"]["available_kv_cache_gib"].as_f64().unwrap();
        let got = plan.kv_cache_bytes as f64 / GIB;
        println!(
            "{file}: first principles {got:.2} GiB vs logged {logged:.2} GiB ({:+.1}%)",
            (got / logged - 1.0) * 100.0
        );
        assert!(
            (got / logged - 1.0).abs() <= tolerance,
            "{file}: {got:.2} vs {logged:.2} GiB"
        );
    }
}
