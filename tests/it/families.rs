//! Model families read from real Hugging Face `config.json` files (data/hf-configs, sources in
//! its SOURCES.md): parameter counts against the publishers' own totals and active counts, KV
//! bytes per token against the published per-family formulas, and the MoE / sliding-window step
//! cost against the roofline's physics.

use servecast::cost::{CostParams, StepBatch, StepCostModel};
use servecast::spec::engine::{EngineFlags, EngineVersion, Quantization};
use servecast::spec::{Catalog, Dtype, ModelSpec};

fn config(file: &str) -> ModelSpec {
    let path = format!("{}/data/hf-configs/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    ModelSpec::from_hf_config_json(&text, &path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn within(got: f64, want: f64, rel: f64) -> bool {
    (got / want - 1.0).abs() <= rel
}

/// Publishers' totals and active counts (billions): the Qwen3 model cards ("30.5B in total and
/// 3.3B activated", "235B … 22B"), Mistral's Mixtral posts (46.7B / 12.9B; 141B / 39B), the
/// DeepSeek-V3 report (671B / 37B, without the 14B MTP module vLLM does not load by default),
/// the gpt-oss model card (116.83B / 5.13B and 20.91B / 3.61B, active counted without the
/// embedding table), Kimi K2's card (1T / 32B) and Meta's Llama 4 card (400B / 17B).
#[test]
fn moe_parameter_counts_match_the_publishers() {
    // (file, total B, active B, tolerance): tolerances cover the rounding of the published figure.
    let cases = [
        ("Qwen--Qwen3-30B-A3B.json", 30.5, 3.3, 0.02),
        ("Qwen--Qwen3-235B-A22B.json", 235.0, 22.0, 0.02),
        ("mistralai--Mixtral-8x7B-v0.1.json", 46.7, 12.9, 0.005),
        ("mistralai--Mixtral-8x22B-v0.1.json", 141.0, 39.0, 0.01),
        ("deepseek-ai--DeepSeek-V3.json", 671.0, 37.0, 0.02),
        ("moonshotai--Kimi-K2-Instruct.json", 1000.0, 32.0, 0.04),
        ("meta-llama--Llama-4-Maverick-17B-128E-Instruct.json", 400.0, 17.0, 0.02),
    ];
    for (file, total, active, tol) in cases {
        let m = config(file);
        let (t, a) = (m.params_total() as f64 / 1e9, m.params_active() as f64 / 1e9);
        assert!(within(t, total, tol), "{file}: total {t:.3}B, published {total}B");
        assert!(
            within(a, active, tol.max(0.03)),
            "{file}: active {a:.3}B, published {active}B"
        );
    }
    // gpt-oss: the card gives three decimals; active there excludes the 201,088 × d embedding.
    for (file, total, active) in [
        ("openai--gpt-oss-20b.json", 20.91, 3.61),
        ("openai--gpt-oss-120b.json", 116.83, 5.13),
    ] {
        let m = config(file);
        let embedding = f64::from(m.vocab_size) * f64::from(m.hidden_size);
        let (t, a) = (
            m.params_total() as f64 / 1e9,
            (m.params_active() as f64 - embedding) / 1e9,
        );
        assert!(within(t, total, 0.001), "{file}: total {t:.3}B, card {total}B");
        assert!(within(a, active, 0.003), "{file}: active {a:.3}B, card {active}B");
    }
}

#[test]
fn kv_bytes_per_token_follow_each_attention_kind() {
    // MLA: one latent of kv_lora_rank + qk_rope_head_dim = 576 elements per layer, 61 layers,
    // bf16, the same on every tensor-parallel rank.
    let v3 = config("deepseek-ai--DeepSeek-V3.json");
    assert_eq!(v3.kv_bytes_per_token(1), 61 * 576 * 2);
    assert_eq!(v3.kv_bytes_per_token(8), 61 * 576 * 2);
    // GQA: 2 × layers × kv heads × head_dim × 2 bytes; Qwen3-30B-A3B has 48 layers, 4 KV heads of 128.
    let q3 = config("Qwen--Qwen3-30B-A3B.json");
    assert_eq!(q3.kv_bytes_per_token(1), 2 * 48 * 4 * 128 * 2);
    assert_eq!(
        q3.kv_bytes_per_token(4),
        2 * 48 * 128 * 2,
        "one KV head per rank at TP 4"
    );
    // gpt-oss-120b: 36 layers, 8 KV heads of 64; half the layers slide over 128 tokens.
    let oss = config("openai--gpt-oss-120b.json");
    assert_eq!(oss.kv_bytes_per_token(1), 2 * 36 * 8 * 64 * 2);
    let w = oss.sliding_window.expect("gpt-oss has sliding-window layers");
    assert_eq!((w.window, w.layers), (128, 18));
    assert_eq!(oss.checkpoint_quantization, Some(Quantization::Mxfp4));
}

#[test]
fn mxfp4_stores_only_the_experts_in_four_bits() {
    let oss = config("openai--gpt-oss-20b.json");
    let experts = oss.routed_expert_weights() as f64;
    let rest = oss.params_total() as f64 - experts;
    let bytes = oss.weight_bytes_with(Some(Quantization::Mxfp4)) as f64;
    // 4.25 bits per expert weight (an 8-bit scale per 32), everything else bf16.
    assert!(within(bytes, experts * 4.25 / 8.0 + rest * 2.0, 1e-9), "{bytes}");
    // The 20b checkpoint is about 12.8 GiB on disk (13.8 GB): the experts dominate.
    assert!((12.0..13.5).contains(&(bytes / (1u64 << 30) as f64)), "{bytes}");
}

/// One GPU-only step (no host terms), so the physics can be checked.
fn gpu_step(model: &ModelSpec, batch: &StepBatch) -> f64 {
    gpu_step_with("h100-sxm", 8192, model, batch)
}

/// One GPU-only step of `model` on `gpu_id` at `max_model_len` (vLLM 0.11, prior efficiencies).
fn gpu_step_with(gpu_id: &str, max_model_len: u32, model: &ModelSpec, batch: &StepBatch) -> f64 {
    cost_with(gpu_id, max_model_len, model).roofline_seconds(batch)
}

/// The step-cost model of `model` on `gpu_id` at `max_model_len` (vLLM 0.11.0, prior efficiencies).
fn cost_with(gpu_id: &str, max_model_len: u32, model: &ModelSpec) -> StepCostModel {
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu(gpu_id).unwrap();
    let flags = EngineFlags {
        max_model_len: Some(max_model_len),
        ..EngineFlags::default()
    };
    let cfg = flags
        .resolve_release(EngineVersion::Vllm010, Some("0.11.0"), model, gpu, "test")
        .unwrap();
    StepCostModel::new(gpu, model, &cfg, &CostParams::prior(EngineVersion::Vllm010))
}

/// A decode step of `seqs` sequences, each with 100 tokens of context.
fn decode(seqs: u64) -> StepBatch {
    StepBatch {
        decode_seqs: seqs,
        output_seqs: seqs,
        context_tokens: seqs * 100,
        windowed_context_tokens: seqs * 100,
        ..StepBatch::default()
    }
}

#[test]
fn a_moe_decode_step_reads_only_the_experts_its_tokens_touch() {
    let m = config("Qwen--Qwen3-30B-A3B.json");
    let one = gpu_step(&m, &decode(1));
    let many = gpu_step(&m, &decode(256));
    // One token touches 8 of 128 experts per layer: far less than reading all 61 GB; 256
    // tokens touch nearly every expert (1 − (120/128)^256 ≈ 1).
    let all_weights_s = m.weight_bytes() as f64 / 3.35e12;
    assert!(
        one < 0.25 * all_weights_s,
        "one token {one} s vs all weights {all_weights_s} s"
    );
    assert!(many > 0.5 * all_weights_s, "256 tokens {many} s");
    for seqs in [1u64, 2, 4, 8, 16, 32, 64, 128] {
        assert!(gpu_step(&m, &decode(seqs)) <= gpu_step(&m, &decode(seqs * 2)) + 1e-12);
    }
}

#[test]
fn sliding_layers_cost_only_their_window() {
    let oss = config("openai--gpt-oss-120b.json");
    let long = |windowed: u64| StepBatch {
        decode_seqs: 64,
        output_seqs: 64,
        context_tokens: 64 * 32_000,
        windowed_context_tokens: windowed,
        ..StepBatch::default()
    };
    // With every context capped at 128 tokens the sliding half of the layers reads almost
    // nothing: the step is cheaper than if those layers read the whole context.
    let capped = gpu_step(&oss, &long(64 * 128));
    let uncapped = gpu_step(&oss, &long(64 * 32_000));
    assert!(capped < uncapped, "{capped} vs {uncapped}");
}

/// Expert parallelism spreads whole experts over the ranks: in expectation each rank reads
/// what it would under tensor parallelism, but the step waits for the rank that was routed
/// the most of its own experts, which matters while few tokens touch few experts.
#[test]
fn expert_parallel_waits_for_the_busiest_rank_at_small_batches() {
    use servecast::cost::expected_max_std_normal;
    assert!((expected_max_std_normal(8) - 1.4236).abs() < 1e-9);
    assert!((expected_max_std_normal(2) - 1.0 / std::f64::consts::PI.sqrt()).abs() < 1e-4);
    let m = config("Qwen--Qwen3-235B-A22B.json");
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu("h100-sxm").unwrap();
    let step = |ep: bool, seqs: u64| {
        let flags = EngineFlags {
            tensor_parallel_size: Some(8),
            max_model_len: Some(8192),
            enable_expert_parallel: Some(ep),
            ..EngineFlags::default()
        };
        let cfg = flags
            .resolve_release(EngineVersion::Vllm010, Some("0.11.0"), &m, gpu, "test")
            .unwrap();
        let cost = StepCostModel::new(gpu, &m, &cfg, &CostParams::prior(EngineVersion::Vllm010));
        cost.roofline_seconds(&StepBatch {
            decode_seqs: seqs,
            output_seqs: seqs,
            context_tokens: seqs * 1000,
            windowed_context_tokens: seqs * 1000,
            ..StepBatch::default()
        })
    };
    assert!(
        step(true, 1) > 1.05 * step(false, 1),
        "{} vs {}",
        step(true, 1),
        step(false, 1)
    );
    let (ep, tp) = (step(true, 512), step(false, 512));
    assert!(
        (ep / tp - 1.0).abs() < 0.01,
        "every expert is busy at 512 tokens: {ep} vs {tp}"
    );
}

/// vLLM's hybrid KV manager shares one pool between gpt-oss's full and sliding-window groups: a
/// request holds a block per 16 tokens in the full group but at most the window's (128 tokens: 8
/// blocks, plus one for a window that straddles a boundary) in the sliding one, so a 32,000-token
/// prompt takes 2,000 + 9 blocks where a uniform cache would take 4,000.
#[test]
fn a_sliding_group_holds_only_its_window() {
    let oss = config("openai--gpt-oss-20b.json");
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu("h100-sxm").unwrap();
    let cfg = EngineFlags::default()
        .resolve_release(EngineVersion::Vllm010, Some("0.11.0"), &oss, gpu, "test")
        .unwrap();
    let g = cfg.kv_groups;
    assert_eq!((g.full, g.sliding, g.window_blocks), (1, 1, 9));
    assert_eq!(g.blocks_for(32_000, 16), 2_000 + 9);
    assert_eq!(
        g.blocks_for(100, 16),
        7 + 7,
        "below the window both groups hold the same"
    );
    // Gemma 2 9B: 42 layers alternating sliding (4096) and full: two groups of 21.
    let counts = servecast::spec::engine::kv_group_counts(
        &config("google--gemma-2-9b-it.json"),
        EngineVersion::Vllm010,
        Some("0.11.0"),
    );
    assert_eq!(
        (counts.group_size, counts.full, counts.sliding, counts.window),
        (21, 1, 1, 4096)
    );
}

/// Hybrid checkpoints parse into attention and recurrent layers, even when their config.json
/// carries Python's bare `Infinity` (Nemotron-H's `time_step_limit`), which plain JSON rejects.
#[test]
fn hybrid_checkpoints_parse_into_attention_and_recurrent_layers() {
    for (file, attention, recurrent) in [
        ("nvidia--Nemotron-H-56B-Base-8K.json", 10, 54),
        ("Qwen--Qwen3-Next-80B-A3B-Instruct.json", 12, 36),
        ("ai21labs--AI21-Jamba-1.5-Mini.json", 4, 28),
        ("Qwen--Qwen3.5-35B-A3B.json", 10, 30),
        ("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16.json", 6, 23),
    ] {
        let spec = config(file);
        assert_eq!(
            (spec.kv_layers(), spec.recurrent_layers()),
            (attention, recurrent),
            "{file}"
        );
    }
}

/// MXFP4 experts run on FP4 tensor cores where the GPU has them (B200: 9,000 dense FP4 TFLOP/s
/// against 2,250 at 16 bits) and are dequantised into 16-bit GEMMs elsewhere (H100), so a
/// compute-bound prefill of gpt-oss gains far more on a B200 than its bandwidth alone would give.
#[test]
fn fp4_weights_use_fp4_tensor_cores_where_they_exist() {
    let oss = config("openai--gpt-oss-120b.json");
    let catalog = Catalog::builtin().unwrap();
    let prefill = StepBatch {
        prefill_tokens: 8192,
        prefill_seqs: 1,
        context_tokens: 8192,
        windowed_context_tokens: 128,
        ..StepBatch::default()
    };
    let step = |gpu: &str| {
        let gpu = catalog.gpu(gpu).unwrap();
        let cfg = EngineFlags::default()
            .resolve_release(EngineVersion::Vllm010, Some("0.11.0"), &oss, gpu, "test")
            .unwrap();
        StepCostModel::new(gpu, &oss, &cfg, &CostParams::prior(EngineVersion::Vllm010)).roofline_seconds(&prefill)
    };
    let (h100, b200) = (step("h100-sxm"), step("b200"));
    assert!(gpu_has_fp4(catalog, "b200") && !gpu_has_fp4(catalog, "h100-sxm"));
    // B200's 16-bit peak is 2.27× an H100's; FP4 makes the linear part more than 4× faster.
    assert!(h100 / b200 > 3.0, "H100 {h100} s vs B200 {b200} s");
}

fn gpu_has_fp4(catalog: &Catalog, id: &str) -> bool {
    catalog.gpu(id).unwrap().dense_fp4_flops.is_some()
}

/// One GPU-only step of `model` on `gpu_id` (vLLM 0.11, prior efficiencies, 32k context).
fn gpu_step_on(gpu_id: &str, model: &ModelSpec, batch: &StepBatch) -> f64 {
    gpu_step_with(gpu_id, 32_768, model, batch)
}

/// vLLM runs gpt-oss's attention (it has sinks) in its Triton kernels on Ampere and Ada
/// (vllm/platforms/cuda.py, 0.10.1+: "Using Triton backend on V1 engine."), FlashAttention 3 on
/// Hopper. A 2,048-token chunk of a 32k prompt attends over about 31k tokens in the full layers:
/// on an A100 its attention runs at the Triton prior (0.25 of peak) instead of FlashAttention's
/// (0.5), on an H100 at FlashAttention's.
#[test]
fn attention_sinks_run_in_triton_on_ampere_and_flash_attention_on_hopper() {
    let oss = config("openai--gpt-oss-20b.json");
    assert!(oss.attention_sinks);
    let mut no_sinks = oss.clone();
    no_sinks.attention_sinks = false;
    let chunk = StepBatch {
        prefill_tokens: 2048,
        prefill_seqs: 1,
        output_seqs: 0,
        context_tokens: 32_000,
        windowed_context_tokens: 128 + 2048,
        prefill_attention_pairs: 2048.0 * (30_000.0 + 1024.0),
        windowed_attention_pairs: 2048.0 * 128.0,
        ..StepBatch::default()
    };
    // Full-attention FLOPs of the chunk: 4 × pairs × q-heads × head_dim × full layers.
    let pairs_flops = 4.0 * chunk.prefill_attention_pairs * 64.0 * 64.0 * 12.0;
    let a100_extra = gpu_step_on("a100-80g-sxm", &oss, &chunk) - gpu_step_on("a100-80g-sxm", &no_sinks, &chunk);
    // 312 TFLOP/s dense BF16: the Triton kernel at 0.25 instead of 0.5 of it.
    let want = pairs_flops / (312e12 * 0.25) - pairs_flops / (312e12 * 0.5);
    assert!(
        within(a100_extra, want, 0.02),
        "A100 extra {a100_extra} s, want {want} s"
    );
    let h100_extra = gpu_step_on("h100-sxm", &oss, &chunk) - gpu_step_on("h100-sxm", &no_sinks, &chunk);
    assert!(
        h100_extra.abs() < 1e-12,
        "H100 runs FlashAttention 3 with sinks: {h100_extra} s"
    );
}

/// A fused-MoE kernel runs one small GEMM per expert, too short to hide its weight stream
/// behind its math, so a prefill step pays the routed experts' read and compute one after the
/// other: in a compute-heavy 2,048-token prefill, halving the experts' bandwidth efficiency adds
/// exactly the extra read time (every expert is touched: 1 − (28/32)^2048 ≈ 1). A dense model's
/// large GEMMs overlap read and compute: there the weights' bandwidth efficiency does not matter.
#[test]
fn routed_experts_read_and_compute_add_up_dense_layers_overlap() {
    let prefill = StepBatch {
        prefill_tokens: 2048,
        prefill_seqs: 16,
        context_tokens: 2048,
        windowed_context_tokens: 2048,
        prefill_attention_pairs: 2048.0 * 64.0,
        windowed_attention_pairs: 2048.0 * 64.0,
        ..StepBatch::default()
    };
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu("a100-80g-sxm").unwrap();
    let step = |model: &ModelSpec, set: &dyn Fn(&mut CostParams)| {
        let cfg = EngineFlags {
            max_model_len: Some(32_768),
            ..EngineFlags::default()
        }
        .resolve_release(EngineVersion::Vllm010, Some("0.11.0"), model, gpu, "test")
        .unwrap();
        let mut p = CostParams::prior(EngineVersion::Vllm010);
        set(&mut p);
        StepCostModel::new(gpu, model, &cfg, &p).roofline_seconds(&prefill)
    };
    let oss = config("openai--gpt-oss-20b.json");
    let bytes = oss.routed_expert_bytes_with(Some(Quantization::Mxfp4)) as f64;
    let slow = step(&oss, &|p| p.expert_bandwidth_efficiency = 0.3);
    let fast = step(&oss, &|p| p.expert_bandwidth_efficiency = 0.6);
    let want = bytes / (2.039e12 * 0.3) - bytes / (2.039e12 * 0.6);
    assert!(within(slow - fast, want, 0.001), "{} s, want {want} s", slow - fast);
    let dense = config("Qwen--Qwen3-8B.json");
    let slow = step(&dense, &|p| p.weights_bandwidth_efficiency = 0.3);
    let fast = step(&dense, &|p| p.weights_bandwidth_efficiency = 0.6);
    // Only the elementwise kernels' activation traffic (streamed at that bandwidth, 2-byte
    // activations) depends on it; the weight read is hidden behind the GEMMs.
    let traffic = 2048.0 * dense.elementwise_elements_per_token(1) * 2.0;
    let want = traffic / (2.039e12 * 0.3) - traffic / (2.039e12 * 0.6);
    assert!(
        within(slow - fast, want, 1e-9),
        "a compute-bound dense prefill hides its weight read: {} s, want {want} s",
        slow - fast
    );
}

/// A MoE step pays a fixed GPU time per MoE layer (`moe_layer_floor_s`: the routing kernels and
/// the grouped GEMMs' launch and tail), whatever its batch; a dense model pays none. Qwen3-30B-A3B
/// has 48 MoE layers (every layer), so 30 µs a layer is 1.44 ms a step.
#[test]
fn a_moe_step_pays_its_layers_routing_floor_and_a_dense_step_does_not() {
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu("h100-sxm").unwrap();
    let step = |model: &ModelSpec, floor_s: f64, seqs: u64| {
        let flags = EngineFlags {
            max_model_len: Some(8192),
            ..EngineFlags::default()
        };
        let cfg = flags
            .resolve_release(EngineVersion::Vllm010, Some("0.11.0"), model, gpu, "test")
            .unwrap();
        let params = CostParams {
            moe_layer_floor_s: floor_s,
            ..CostParams::prior(EngineVersion::Vllm010)
        };
        StepCostModel::new(gpu, model, &cfg, &params).roofline_seconds(&decode(seqs))
    };
    let moe = config("Qwen--Qwen3-30B-A3B.json");
    assert_eq!(moe.moe.unwrap().moe_layers, 48);
    for seqs in [1, 256] {
        let added = step(&moe, 30e-6, seqs) - step(&moe, 0.0, seqs);
        assert!(
            (added - 48.0 * 30e-6).abs() < 1e-12,
            "{seqs} sequences: {added} s added"
        );
    }
    let dense = catalog.model("llama-3.1-8b").unwrap();
    assert_eq!(step(dense, 30e-6, 4), step(dense, 0.0, 4));
}

/// Gemma 3's multimodal checkpoints keep the language model in `text_config` and leave out keys
/// `transformers` fills in (`Gemma3TextConfig`: vocab_size 262,208, max_position_embeddings
/// 131,072, a local:global pattern of 5:1); vLLM keeps their 128K length unscaled by the linear
/// RoPE factor 8 ("Gemma3's max_model_len (128K) is already scaled"). 27B: 62 layers, 52 of them
/// on a 1,024-token window, grouped by vLLM's hybrid allocator in groups of 10 (1 full, 6 sliding).
#[test]
fn gemma_3_takes_transformers_defaults_and_keeps_its_128k_length() {
    let m = config("google--gemma-3-27b-it.json");
    assert_eq!(m.vocab_size, 262_208);
    assert_eq!(m.max_position_embeddings, 131_072);
    let window = m.sliding_window.as_ref().map(|w| (w.window, w.layers));
    assert_eq!(window, Some((1024, 52)));
    // Google's model card and the checkpoint: 27.4B parameters with the SigLIP tower (0.4B).
    let total = m.params_total() as f64 / 1e9;
    assert!(within(total, 27.4, 0.01), "total {total:.3}B");
    let counts = servecast::spec::engine::kv_group_counts(&m, EngineVersion::Vllm010, Some("0.11.0"));
    assert_eq!(
        (counts.group_size, counts.full, counts.sliding, counts.window),
        (10, 1, 6, 1024)
    );
}

/// Catalog entries built from a vendored config.json hold exactly what the reader makes of that
/// file (shapes, window, extra parameters, vLLM class), and their parameter counts are the
/// publishers' (Google's, Meta's and Microsoft's model pages, in billions).
#[test]
fn catalog_entries_match_their_config_json() {
    let catalog = Catalog::builtin().expect("catalog");
    for (id, file, billions) in [
        ("gemma-3-1b", "google--gemma-3-1b-it.json", 1.0),
        ("gemma-3-4b", "google--gemma-3-4b-it.json", 4.30),
        ("gemma-3-27b", "google--gemma-3-27b-it.json", 27.43),
        ("llama-3.2-1b", "meta-llama--Llama-3.2-1B-Instruct.json", 1.24),
        ("llama-3.2-3b", "meta-llama--Llama-3.2-3B-Instruct.json", 3.21),
        ("phi-4", "microsoft--phi-4.json", 14.66),
        ("llama-3.1-405b", "meta-llama--Meta-Llama-3.1-405B.json", 405.85),
    ] {
        let entry = catalog.model(id).expect("in the catalog").clone();
        let mut parsed = config(file);
        parsed.id = entry.id.clone();
        parsed.name = entry.name.clone();
        parsed.aliases = entry.aliases.clone();
        parsed.chat_template = entry.chat_template;
        parsed.source = entry.source.clone();
        assert_eq!(entry, parsed, "{id}");
        let total = entry.params_total() as f64 / 1e9;
        assert!(
            within(total, billions, 0.005),
            "{id}: {total:.3}B, published {billions}B"
        );
    }
}

/// A decode step streams the LM head but not an untied input embedding (vLLM gathers one row of
/// it per token): untying Qwen2.5-7B's 152,064 × 3,584 table adds 1.09 GB of memory and not one
/// streamed byte, so a one-token decode costs the same tied or untied; and Gemma 3's SigLIP
/// tower (0.42B parameters) takes memory but no time in a text step.
#[test]
fn a_decode_step_streams_neither_an_untied_input_embedding_nor_a_vision_tower() {
    let catalog = Catalog::builtin().unwrap();
    let untied = catalog.model("qwen2.5-7b-instruct").unwrap().clone();
    assert!(!untied.tie_word_embeddings);
    let mut tied = untied.clone();
    tied.tie_word_embeddings = true;
    assert_eq!(untied.weight_bytes() - tied.weight_bytes(), 2 * 152_064 * 3_584);
    let decode = StepBatch {
        decode_seqs: 1,
        output_seqs: 1,
        context_tokens: 16,
        windowed_context_tokens: 16,
        ..StepBatch::default()
    };
    let (a, b) = (
        gpu_step_with("h100-sxm", 4096, &untied, &decode),
        gpu_step_with("h100-sxm", 4096, &tied, &decode),
    );
    assert!((a / b - 1.0).abs() < 1e-9, "untied {a} s, tied {b} s");
    let gemma = catalog.model("gemma-3-27b").unwrap().clone();
    let mut text_only = gemma.clone();
    text_only.extra_params -= gemma.unstreamed_params;
    text_only.unstreamed_params = 0;
    let (with_tower, without) = (
        gpu_step_with("h100-sxm", 4096, &gemma, &decode),
        gpu_step_with("h100-sxm", 4096, &text_only, &decode),
    );
    assert!(gemma.unstreamed_params > 400_000_000);
    assert!(
        (with_tower / without - 1.0).abs() < 1e-9,
        "{with_tower} s vs {without} s"
    );
}

/// gpt-oss's attention sinks, and any model's FP8 KV cache, send prefill attention to vLLM's
/// Triton kernels wherever the bundled FlashAttention lacks them: Ampere, Ada and consumer
/// Blackwell (sm_120), not Hopper (FlashAttention 3) nor datacenter Blackwell (FlashInfer).
#[test]
fn attention_sinks_take_the_triton_kernels_on_consumer_blackwell_but_not_on_b200() {
    use servecast::cost::uses_triton_attention;
    let catalog = Catalog::builtin().unwrap();
    let gpt_oss = catalog.model("gpt-oss-20b").unwrap();
    let llama = catalog.model("llama-3.1-8b").unwrap();
    for (gpu, triton) in [
        ("rtx-5090", true),
        ("rtx-pro-6000-blackwell-server", true),
        ("rtx-4090", true),
        ("a100-80g-sxm", true),
        ("h100-sxm", false),
        ("b200", false),
        ("gb200", false),
    ] {
        let g = catalog.gpu(gpu).unwrap();
        assert_eq!(uses_triton_attention(gpt_oss, g, Dtype::Bf16), triton, "{gpu}");
        assert!(!uses_triton_attention(llama, g, Dtype::Bf16), "{gpu}");
        // An FP8 KV cache takes the same path as the sinks do.
        assert_eq!(uses_triton_attention(llama, g, Dtype::Fp8), triton, "{gpu}");
    }
}

/// The catalog entries transcribed from copies of their checkpoints' `config.json` give the
/// parameter counts their publishers state: exactly where a source prints the total (a model
/// inspector's dump of Qwen2.5-72B-Instruct, 72,706,203,648; QwQ-32B's, 32,763,876,352; OPT's
/// as Hugging Face counts them), else
/// within the rounding of the model card's figure (Qwen2.5-14B "14.7B"; Phi-3-medium
/// "14B"; Phi-3.5-mini "3.8B"; Mistral-Nemo "12B"; Gemma 2 "27B").
#[test]
fn transcribed_catalog_entries_match_their_publishers_parameter_counts() {
    let c = Catalog::builtin().unwrap();
    let total = |id: &str| c.model(id).map(|m| m.params_total()).unwrap_or(0);
    assert_eq!(total("qwen2.5-72b-instruct"), 72_706_203_648);
    assert_eq!(total("qwq-32b"), 32_763_876_352);
    // OPT: Hugging Face's counts of facebook/opt-125m and opt-1.3b, the learned position table's
    // two extra rows included; "OPT-1.3B" and "OPT-13B" are two entries.
    assert_eq!(total("facebook/opt-125m"), 125_239_296);
    assert_eq!(total("facebook/opt-1.3b"), 1_315_758_080);
    assert_eq!(c.model("OPT-13B").map(|m| m.id.as_str()).ok(), Some("opt-13b"));
    assert_eq!(c.model("opt-1.3b").map(|m| m.id.as_str()).ok(), Some("opt-1.3b"));
    for (id, card_b, rounding) in [
        ("qwen2.5-14b-instruct", 14.7, 0.1),
        ("phi-3-medium-4k-instruct", 14.0, 0.05),
        ("phi-3.5-mini-instruct", 3.8, 0.05),
        ("mistral-nemo-12b", 12.0, 0.5),
        ("gemma-2-27b", 27.0, 0.5),
    ] {
        let b = total(id) as f64 / 1e9;
        assert!((b - card_b).abs() <= rounding, "{id}: {b:.3}B, card {card_b}B");
    }
}

/// The elementwise kernels' activation elements per token, by hand from the configs: per layer
/// two fused add-RMSNorms (8 × hidden, on every rank), the rotary embedding of the query and key
/// heads (2 × (heads + kv heads) × head_dim) and the MLP's activation (3 × intermediate), the last
/// two split over tensor-parallel ranks; a MoE layer's router logits, its top-k experts'
/// activations and the (2k + 1) × hidden of their outputs written and summed.
#[test]
fn elementwise_traffic_per_token_counts_norms_rotary_activation_and_expert_outputs() {
    let llama = config("meta-llama--Meta-Llama-3.1-8B.json");
    // 32 × 8 × 4096 + 32 × 2 × 40 × 128 + 32 × 3 × 14336
    assert_eq!(llama.elementwise_elements_per_token(1), 2_752_512.0);
    assert_eq!(llama.elementwise_elements_per_token(2), 1_048_576.0 + 1_703_936.0 / 2.0);
    let moe = config("Qwen--Qwen3-30B-A3B.json");
    // 48 × 8 × 2048 + 48 × 2 × 36 × 128 + 48 × (128 + 8 × 3 × 768) + 48 × 17 × 2048
    assert_eq!(moe.elementwise_elements_per_token(1), 3_790_848.0);
}

/// vLLM projects logits only at the positions it samples: the same 2,048 prompt tokens cost one
/// LM-head row per sequence, so sixteen sequences cost fifteen rows more than one, and nothing
/// else changes in a compute-bound step (roofline only, no host time).
#[test]
fn the_lm_head_is_charged_once_per_sampled_sequence_not_per_prompt_token() {
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu("a100-80g-sxm").unwrap();
    let model = config("meta-llama--Meta-Llama-3.1-8B.json");
    let cfg = EngineFlags::default()
        .resolve_release(EngineVersion::Vllm010, Some("0.11.0"), &model, gpu, "test")
        .unwrap();
    let p = CostParams::prior(EngineVersion::Vllm010);
    let cost = StepCostModel::new(gpu, &model, &cfg, &p);
    let batch = |seqs: u64| StepBatch {
        prefill_tokens: 2048,
        prefill_seqs: seqs,
        context_tokens: 2048,
        windowed_context_tokens: 2048,
        prefill_attention_pairs: 2048.0 * 64.0,
        windowed_attention_pairs: 2048.0 * 64.0,
        ..StepBatch::default()
    };
    let row = 2.0 * 128_256.0 * 4096.0 / (312e12 * p.compute_efficiency);
    let extra = cost.roofline_seconds(&batch(16)) - cost.roofline_seconds(&batch(1));
    assert!(within(extra, 15.0 * row, 1e-9), "{extra} s, want {} s", 15.0 * row);
}

/// A decode step's parts: the dense layers of a dense model read its streamed weights at the
/// profile's bandwidth, there are no expert terms, and a MoE model's expert read grows with the
/// experts its tokens touch; the parts add up to the step.
#[test]
fn a_steps_parts_are_the_roofline_terms_they_name() {
    let catalog = Catalog::builtin().unwrap();
    let params = CostParams::prior(EngineVersion::Vllm010);
    // Llama-3.1-8B: 8.03 B parameters, of which the 128,256 × 4,096 input embedding (0.525 B) is
    // gathered, not streamed; BF16; the H100 SXM's 3.35 TB/s at the prior's bandwidth efficiency.
    let llama = catalog.model("llama-3.1-8b").unwrap();
    let cost = cost_with("h100-sxm", 8192, llama);
    let t = cost.step_time(&decode(1));
    let want = (8.03e9 - 128_256.0 * 4096.0) * 2.0 / (3.35e12 * params.weights_bandwidth_efficiency);
    assert!(within(t.dense_s, want, 0.03), "dense {} s vs {want} s", t.dense_s);
    assert_eq!(
        (t.experts_read_s, t.experts_compute_s, t.moe_floor_s, t.allreduce_s),
        (0.0, 0.0, 0.0, 0.0)
    );
    assert_eq!(t.total_s(), cost.step_seconds(&decode(1)));
    // vLLM 0.11.0 schedules synchronously (async scheduling by default from 0.14): host, then GPU.
    assert!(!t.overlap_host);
    assert_eq!(t.total_s(), t.host_s + t.gpu_s());

    // Qwen3-30B-A3B: 8 of 128 experts per token; 64 tokens touch 1 − (120/128)^64 ≈ 98% of them.
    let moe = config("Qwen--Qwen3-30B-A3B.json");
    let cost = cost_with("h100-sxm", 8192, &moe);
    let one = cost.step_time(&decode(1));
    let many = cost.step_time(&decode(64));
    let ratio = many.experts_read_s / one.experts_read_s;
    let touched = |n: i32| 1.0 - (120.0_f64 / 128.0).powi(n);
    assert!(within(ratio, touched(64) / touched(1), 1e-9), "ratio {ratio}");
    assert!(one.moe_floor_s > 0.0 && one.moe_floor_s == many.moe_floor_s);
}
