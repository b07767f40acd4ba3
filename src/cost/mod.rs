//! The cost of one engine step: a roofline from GPU and model specs, scaled by fitted efficiencies,
//! plus CPU-side overheads per step and per scheduled sequence.
//!
//! step time = step overhead + per-sequence overhead × sequences
//!           + max(weights read ÷ (bandwidth × η_w), linear FLOPs ÷ (peak × η_c))
//!             (a MoE step reads the routed experts its tokens touch: E × (1 − (1 − k/E)^tokens) per layer)
//!           + max(KV bytes read ÷ (bandwidth × η_attn), attention FLOPs ÷ (peak × η_c), layers × kernel floor)
//!             (sliding-window layers read each sequence's context only up to the window)
//!           + max(head weight re-reads ÷ (bandwidth × η_w), non-LM FLOPs × output tokens ÷ (peak × η_c))
//!             (decode steps replaying a CUDA graph compute its padded batch: nano-vllm)
//!           + max(vocoder weights ÷ (bandwidth × η_w), vocoder FP32 FLOPs × output tokens ÷ (FP32 peak × η_c))
//!           + tensor-parallel all-reduces over the link
//!           + an eager-execution overhead on steps with a prefill;
//! with async scheduling (vLLM ≥ 0.14) the host overheads overlap the GPU terms: the step lasts
//! max(host, GPU).
//! The bandwidth and FLOP terms are physics; only the η's and the overheads are fitted.

pub mod prior;
pub mod profile;

pub use profile::{CostParams, Profile, ProfileKind};

use crate::spec::engine::{EngineConfig, Quantization};
use crate::spec::{GpuSpec, ModelSpec};
use crate::units::Nanos;

/// What one engine step computes, summarised by the scheduler (no per-token data).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepBatch {
    /// New tokens computed for sequences still in prefill (including recomputation after preemption).
    pub prefill_tokens: u64,
    /// Sequences computing one decode token.
    pub decode_seqs: u64,
    /// Sequences computing a prefill chunk.
    pub prefill_seqs: u64,
    /// Tokens whose KV attention reads, summed over scheduled sequences (context + new tokens).
    pub context_tokens: u64,
    /// Query–key pairs of prefill attention: Σ new × (cached + new / 2).
    pub prefill_attention_pairs: f64,
    /// `context_tokens` as a sliding-window layer reads them: each sequence's context capped at
    /// the window (equal to `context_tokens` for models without one).
    pub windowed_context_tokens: u64,
    /// `prefill_attention_pairs` of a sliding-window layer: Σ new × min(cached + new / 2, window).
    pub windowed_attention_pairs: f64,
    /// Sequences that produce an output token in the step (decodes, and prefills that complete
    /// their prompt); a TTS model's non-LM heads run once for each.
    pub output_seqs: u64,
    /// A step inside a multi-step pass (vLLM 0.6 `--num-scheduler-steps`): the GPU repeats the
    /// batch without the scheduler, so the host-side terms are not paid again.
    pub host_free: bool,
    /// Draft tokens verified on top of the decoding sequences' own tokens (speculative decoding:
    /// K per decoding sequence); they cost GEMM rows and attention, not extra KV reads.
    pub spec_tokens: u64,
    /// Rows the GPU computes when a decode step replays a CUDA graph captured for a larger batch
    /// (nano-vllm pads to its next captured size); 0 when the step runs as scheduled.
    pub graph_seqs: u64,
}

impl StepBatch {
    /// Sequences scheduled in the step.
    pub fn seqs(&self) -> u64 {
        self.decode_seqs + self.prefill_seqs
    }

    /// Tokens computed in the step (draft tokens verified included).
    pub fn tokens(&self) -> u64 {
        self.decode_seqs + self.prefill_tokens + self.spec_tokens
    }
}

/// One engine step's time, part by part, seconds: the GPU's roofline terms of the step (each
/// at the profile's efficiencies) and the host's share. Reports show it so that a planner sees
/// where a step goes (weights, experts, attention, all-reduces, CPU); the simulator uses its
/// [`StepTime::total_s`].
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct StepTime {
    /// Dense layers and the LM head: the longer of reading their weights and computing their
    /// GEMMs, plus the elementwise kernels between them, seconds.
    pub dense_s: f64,
    /// Reading the routed experts the step's tokens touch, seconds (0 for dense models).
    pub experts_read_s: f64,
    /// Computing the routed experts' rows, seconds (0 for dense models).
    pub experts_compute_s: f64,
    /// The MoE layers' fixed routing and launch time, seconds (0 for dense models).
    pub moe_floor_s: f64,
    /// The speculative proposer's passes, seconds (0 without speculative decoding).
    pub draft_s: f64,
    /// Attention: the longer of reading the KV cache and computing the prefill's query–key
    /// pairs, at least the kernels' floor, seconds.
    pub attention_s: f64,
    /// A speech model's non-LM heads, seconds (0 for text models).
    pub head_s: f64,
    /// A speech model's audio decoder, seconds (0 for text models).
    pub vocoder_s: f64,
    /// Tensor-parallel all-reduces over the link, seconds (0 at TP 1).
    pub allreduce_s: f64,
    /// The host's (CPU's) part: step and per-sequence overheads, streaming in the engine's
    /// process, seconds.
    pub host_s: f64,
    /// Whether the host's part runs during the GPU's (async scheduling, V1 with its own
    /// front-end process): the step then takes the longer of the two, else their sum.
    pub overlap_host: bool,
}

impl StepTime {
    /// The GPU's part of the step, seconds.
    pub fn gpu_s(&self) -> f64 {
        // Summed in this order so that the step's duration stays what the simulator has always
        // computed, to the last bit.
        self.dense_s
            + self.experts_read_s
            + self.experts_compute_s
            + self.moe_floor_s
            + self.draft_s
            + self.attention_s
            + self.head_s
            + self.vocoder_s
            + self.allreduce_s
    }

    /// The step's duration, seconds: the longer of host and GPU when they overlap, else their sum.
    pub fn total_s(&self) -> f64 {
        let gpu = self.gpu_s();
        if self.overlap_host {
            self.host_s.max(gpu)
        } else {
            self.host_s + gpu
        }
    }
}

/// Weights one proposer pass reads, bytes (whole model, before tensor parallelism): EAGLE and
/// EAGLE-3 one decoder layer of the target's shape, their input projection (2d or 3d → d) and
/// an LM head (the target's vocabulary; EAGLE-3's draft vocabulary of 32,000); MTP one of the
/// target's layers (with its top-k and shared experts) and its 2d → d projection; a draft model
/// its weights; n-gram and suffix proposers none.
pub(crate) fn draft_weight_bytes(model: &ModelSpec, engine: &EngineConfig) -> f64 {
    use crate::spec::speculative::SpecMethod::*;
    let Some(spec) = &engine.speculative else {
        return 0.0;
    };
    let d = f64::from(model.hidden_size);
    let bytes = model.dtype.bytes() as f64;
    // One layer of the target: its share of the linear FLOPs / 2 is its active weights.
    let lm_head = f64::from(model.vocab_size) * d;
    // A hybrid model's layers differ; its average layer stands in for the head's.
    let layers = if model.recurrent.is_some() {
        model.num_hidden_layers
    } else {
        model.kv_layers()
    };
    let layer_active = (model.linear_flops_per_token() / 2.0 - lm_head) / f64::from(layers.max(1));
    match spec.method {
        Ngram | Suffix => 0.0,
        Eagle => (layer_active + 2.0 * d * d + lm_head) * bytes,
        Eagle3 => (layer_active + 3.0 * d * d + 32_000.0 * d) * bytes,
        Mtp => (layer_active + 2.0 * d * d + lm_head) * bytes,
        DraftModel => spec.draft_model.as_ref().map_or(0.0, |m| m.weight_bytes() as f64),
    }
}

/// Matmul FLOPs of one proposer pass per sequence (the same parts as [`draft_weight_bytes`]).
fn draft_flops_per_token(model: &ModelSpec, engine: &EngineConfig) -> f64 {
    match &engine.speculative {
        Some(spec) => match (&spec.draft_model, spec.method) {
            (Some(m), _) => m.linear_flops_per_token(),
            (None, crate::spec::speculative::SpecMethod::Ngram | crate::spec::speculative::SpecMethod::Suffix) => 0.0,
            (None, _) => 2.0 * draft_weight_bytes(model, engine) / model.dtype.bytes() as f64,
        },
        None => 0.0,
    }
}

/// Expected maximum of `n` independent standard normal draws: tabulated values (Tippett 1925,
/// Harter 1961) for n = 1…10, 12, 16, 20, 24, 32, 48, 64, 128, 256, linear in ln n between them, and
/// the value for 256 beyond (the maximum grows like √(2 ln n), too slowly to matter for EP sizes).
pub fn expected_max_std_normal(n: u32) -> f64 {
    const TABLE: [(u32, f64); 19] = [
        (1, 0.0),
        (2, 0.5642),
        (3, 0.8463),
        (4, 1.0294),
        (5, 1.1630),
        (6, 1.2672),
        (7, 1.3522),
        (8, 1.4236),
        (9, 1.4850),
        (10, 1.5388),
        (12, 1.6292),
        (16, 1.7660),
        (20, 1.8675),
        (24, 1.9477),
        (32, 2.0697),
        (48, 2.2268),
        (64, 2.3187),
        (128, 2.5648),
        (256, 2.7900),
    ];
    if n <= 1 {
        return 0.0;
    }
    for w in TABLE.windows(2) {
        let ((n0, v0), (n1, v1)) = (w[0], w[1]);
        if n <= n1 {
            let t = (f64::from(n).ln() - f64::from(n0).ln()) / (f64::from(n1).ln() - f64::from(n0).ln());
            return v0 + t * (v1 - v0);
        }
    }
    TABLE[TABLE.len() - 1].1
}

/// Precomputed per-scenario constants of the step-cost model, so a step costs a few flops.
#[derive(Debug, Clone, PartialEq)]
pub struct StepCostModel {
    /// Fixed CPU + launch overhead per step, seconds.
    step_overhead_s: f64,
    /// CPU overhead per scheduled sequence, seconds.
    per_seq_overhead_s: f64,
    /// Host time per output token streamed between steps in the engine's own process (vLLM
    /// 0.2–0.5's API server), seconds; paid for every step's tokens, also inside a multi-step
    /// pass (its outputs are still streamed token by token).
    stream_s_per_output: f64,
    /// Time to stream the weights every step reads once (all but the routed experts), seconds.
    weights_s: f64,
    /// Time to stream every routed expert of a MoE model once, seconds (0 for dense models).
    experts_s: f64,
    /// `1 − top_k / num_experts`: the chance a token leaves a given expert idle (1 when dense).
    expert_idle_per_token: f64,
    /// Expert parallelism: routed experts held whole per rank (count; 0 without EP), and the
    /// ranks the step waits for (the busiest sets its expert reads).
    ep_experts_per_rank: f64,
    ep_ranks: u32,
    /// Linear-layer compute per token, seconds, without the LM head (see `lm_head_s_per_row`).
    linear_s_per_token: f64,
    /// LM-head compute per row of logits, seconds: vLLM projects logits only at the positions
    /// it samples (one per scheduled request, plus the draft tokens it verifies), not at every
    /// prompt token.
    lm_head_s_per_row: f64,
    /// Elementwise kernels' activation traffic per token (norms, rotary embedding, the MLP's
    /// activation), seconds at the weights' streaming bandwidth
    /// ([`ModelSpec::elementwise_elements_per_token`]).
    elementwise_s_per_token: f64,
    /// Routed-expert GEMM compute per token, seconds (0 for dense models; not in
    /// `linear_s_per_token`).
    expert_s_per_token: f64,
    /// KV read time per context token of the full-attention layers, seconds.
    kv_s_per_token: f64,
    /// KV read time per windowed context token of the sliding-window layers, seconds.
    kv_window_s_per_token: f64,
    /// A hybrid model's recurrent state, read and written once per scheduled sequence per step
    /// (every recurrent layer's convolution and temporal state), seconds (0 without one).
    state_s_per_seq: f64,
    /// Shortest attention time of a step (layers × per-layer kernel floor), seconds.
    attention_floor_s: f64,
    /// Attention compute per query–key pair of the full-attention layers, seconds.
    attention_s_per_pair: f64,
    /// Attention compute per windowed query–key pair of the sliding-window layers, seconds.
    attention_window_s_per_pair: f64,
    /// Non-LM compute per output token (TTS heads), seconds.
    extra_s_per_output: f64,
    /// Time to re-read a TTS head's weights for its extra solver passes, seconds: the memory side
    /// of the head's own roofline (a diffusion head is bandwidth-bound at small batches and
    /// compute-bound at large ones).
    extra_weights_s: f64,
    /// Audio decoder (vocoder) FP32 compute per output token, seconds.
    vocoder_s_per_output: f64,
    /// Audio decoder weight read per step, seconds.
    vocoder_weights_s: f64,
    /// Extra fixed time of a step with a prefill (eager execution), seconds.
    prefill_step_overhead_s: f64,
    /// Tensor-parallel all-reduce time per token, seconds.
    allreduce_s_per_token: f64,
    /// Tensor-parallel fixed all-reduce latency per step, seconds.
    allreduce_s_per_step: f64,
    /// Tokens a sliding-window layer attends to (`u64::MAX` when the model has none).
    window_tokens: u64,
    /// Speculative decoding's proposer: passes per step (K; 0 without one), the weight read of
    /// one pass, seconds, and its compute per decoding sequence, seconds.
    draft_passes: u32,
    draft_weights_s: f64,
    draft_s_per_seq: f64,
    /// Async scheduling: the host prepares the next step while the GPU runs this one, so a
    /// step lasts the longer of the two instead of their sum.
    overlap_host: bool,
    /// Fixed GPU time of a step's MoE layers (their count × `moe_layer_floor_s`), seconds; 0 for
    /// dense models.
    moe_floor_s: f64,
}

/// Whether vLLM runs this model's attention in kernels other than FlashAttention on this GPU,
/// charged at [`CostParams::triton_attention_compute_efficiency`]:
/// - a model with attention sinks (gpt-oss) on Ampere, Ada or consumer Blackwell (sm_120: RTX
///   50-series, RTX PRO 6000 Blackwell), where the bundled FlashAttention takes no sinks.
///   vllm/platforms/cuda.py (from 0.10.1) picks FlashInfer first on sm_100 only, then "if
///   (has_sink or use_fp8_kv_cache) and not is_device_capability(90): Using Triton backend." for
///   every device of capability 8.0 or more;
/// - an FP8 KV cache (`kv_cache_dtype` fp8) on those GPUs, by the same rule since vLLM PR #24577
///   (2025-09), and before it by "Cannot use FlashAttention backend for FP8 KV cache. Using
///   XFormers backend." (V0 and early V1): no release ran FlashAttention on an FP8 KV cache below
///   Hopper.
///
/// Hopper runs FlashAttention 3 and datacenter Blackwell (B200, B300, GB200) FlashInfer, both
/// with sinks and FP8 KV caches.
pub fn uses_triton_attention(model: &ModelSpec, gpu: &GpuSpec, kv_cache_dtype: crate::spec::Dtype) -> bool {
    use crate::spec::GpuArch;
    let no_flash_attention = model.attention_sinks || kv_cache_dtype == crate::spec::Dtype::Fp8;
    no_flash_attention
        && matches!(
            gpu.architecture,
            GpuArch::Volta | GpuArch::Turing | GpuArch::Ampere | GpuArch::Ada | GpuArch::BlackwellRtx
        )
}

impl StepCostModel {
    /// Builds the model for one GPU of the engine's tensor-parallel group: its KV cache held as
    /// the engine's `kv_cache_dtype`, its weights stored as its `quantization` says.
    pub fn new(gpu: &GpuSpec, model: &ModelSpec, engine: &EngineConfig, params: &CostParams) -> StepCostModel {
        let tp = engine.tensor_parallel_size;
        let kv_dtype = engine.kv_cache_dtype;
        let tp_f = tp.max(1) as f64;
        let bandwidth = gpu.memory_bandwidth_bytes_s;
        let flops = gpu.dense_fp16_flops * params.compute_efficiency;
        // FP8 weights run W8A8 GEMMs on FP8 tensor cores where the GPU has them; 4-bit and FP8
        // weights elsewhere are dequantised inside 16-bit GEMMs (AWQ, GPTQ, Marlin), which reach a
        // smaller share of the tensor peak once a batch makes them compute-bound.
        // FP8 weights on FP8 tensor cores and MXFP4 / NVFP4 weights on FP4 tensor cores
        // (Blackwell, CDNA 4) run at that format's peak.
        // Prefill attention runs in the backend vLLM picks for this model on this GPU.
        let attention_efficiency = if uses_triton_attention(model, gpu, engine.kv_cache_dtype) {
            params.triton_attention_compute_efficiency
        } else {
            params.attention_compute_efficiency
        };
        let linear_efficiency = match (engine.quantization, gpu.dense_fp8_flops, gpu.dense_fp4_flops) {
            (Some(Quantization::Fp8), Some(_), _) => params.compute_efficiency,
            (Some(q), _, Some(_)) if q.is_fp4() => params.compute_efficiency,
            (None | Some(Quantization::Unquantized), _, _) => params.compute_efficiency,
            (Some(_), _, _) => params.quantized_compute_efficiency,
        };
        let linear_flops = match (engine.quantization, gpu.dense_fp8_flops, gpu.dense_fp4_flops) {
            (Some(Quantization::Fp8), Some(fp8), _) => fp8 * params.compute_efficiency,
            (Some(q), _, Some(fp4)) if q.is_fp4() => fp4 * params.compute_efficiency,
            (None | Some(Quantization::Unquantized), _, _) => flops,
            (Some(_), _, _) => gpu.dense_fp16_flops * params.quantized_compute_efficiency,
        };
        let all_weights = model.weight_bytes_with(engine.quantization) as f64 / tp_f;
        // A MoE step reads the routed experts its tokens touch; the rest of the weights every step
        // (tensor or expert parallelism: each GPU holds 1/tp of them either way).
        let experts = model.routed_expert_bytes_with(engine.quantization) as f64 / tp_f;
        // An untied input embedding and a vision tower stay in memory but are not streamed: a
        // step gathers its tokens' embedding rows (16-bit, sharded over the TP ranks like the rest).
        let unstreamed = (model.unstreamed_weights() as f64 * model.dtype.bytes() as f64 / tp_f).min(0.5 * all_weights);
        let weights = all_weights - experts - unstreamed;
        let expert_idle_per_token = model.moe.map_or(1.0, |m| {
            1.0 - f64::from(m.num_experts_per_tok.min(m.num_experts)) / f64::from(m.num_experts.max(1))
        });
        let weights_bandwidth = bandwidth * params.weights_bandwidth_efficiency;
        let kv_per_token = model.kv_bytes_per_token_as(tp, kv_dtype) as f64;
        // Share of the KV layers that attend through a sliding window.
        let window_share = f64::from(model.sliding_layers()) / f64::from(model.kv_layers().max(1));
        let (allreduce_s_per_token, allreduce_s_per_step) = if tp > 1 {
            // Two all-reduces per layer (after attention and after the MLP), ring algorithm.
            let link = gpu.interconnect.bandwidth_bytes_s * params.link_efficiency;
            let bytes_per_token =
                2.0 * model.num_hidden_layers as f64 * model.hidden_size as f64 * model.dtype.bytes() as f64;
            (
                bytes_per_token * 2.0 * (tp_f - 1.0) / tp_f / link,
                2.0 * model.num_hidden_layers as f64 * params.allreduce_latency_s,
            )
        } else {
            (0.0, 0.0)
        };
        // vLLM 0.2–0.5.3 serves from the engine's own process: the API server's per-token work
        // runs between steps, as step time per output token. From 0.5.4 the API server is a
        // process of its own by default (the RPC front end, vLLM PR #6883;
        // docs/research/frontend.md §1–2), so its streaming no longer holds up the engine. The
        // offline LLM class and an engine a program drives itself have none.
        let rpc_front_end = engine
            .release
            .as_deref()
            .and_then(crate::spec::engine::release_patch)
            .is_some_and(|r| r >= (0, 5, 4));
        let inline_streaming = engine.release_line == crate::spec::engine::ReleaseLine::V05
            && engine.usage_context == crate::spec::engine::UsageContext::OpenaiApiServer
            && !rpc_front_end;
        StepCostModel {
            step_overhead_s: params.step_overhead_s,
            per_seq_overhead_s: params.per_seq_overhead_s,
            stream_s_per_output: if inline_streaming {
                params.api_server_inline_item_s
            } else {
                0.0
            },
            weights_s: weights / weights_bandwidth,
            experts_s: experts / (bandwidth * params.expert_bandwidth_efficiency),
            expert_idle_per_token,
            ep_experts_per_rank: match model.moe {
                Some(m) if engine.enable_expert_parallel => f64::from(m.num_experts) / tp_f,
                _ => 0.0,
            },
            ep_ranks: if engine.enable_expert_parallel { tp } else { 1 },
            linear_s_per_token: {
                // The LM head stays 16-bit (vLLM quantizes the layers' linear weights only); the
                // routed experts run in fused-MoE kernels at their own share of the peak.
                let lm_head = 2.0 * f64::from(model.vocab_size) * f64::from(model.hidden_size);
                let experts = model.routed_expert_flops_per_token();
                // A format that quantizes the experts only (gpt-oss's MXFP4) leaves attention's
                // projections and the router 16-bit: they run at the 16-bit GEMMs' rate.
                let dense_flops = match engine.quantization {
                    Some(q) if q.experts_only() => flops,
                    _ => linear_flops,
                };
                (model.linear_flops_per_token() - lm_head - experts) / dense_flops / tp_f
            },
            lm_head_s_per_row: 2.0 * f64::from(model.vocab_size) * f64::from(model.hidden_size) / tp_f / flops,
            // Activations stay 16-bit whatever the weights' format (2 bytes an element).
            elementwise_s_per_token: model.elementwise_elements_per_token(tp) * 2.0 / weights_bandwidth,
            expert_s_per_token: {
                let expert_flops = linear_flops / linear_efficiency * params.expert_compute_efficiency;
                model.routed_expert_flops_per_token() / expert_flops / tp_f
            },
            kv_s_per_token: kv_per_token * (1.0 - window_share) / (bandwidth * params.attention_bandwidth_efficiency),
            kv_window_s_per_token: kv_per_token * window_share / (bandwidth * params.attention_bandwidth_efficiency),
            state_s_per_seq: model.recurrent.map_or(0.0, |r| {
                2.0 * f64::from(r.layers)
                    * r.state_bytes_per_layer(
                        tp,
                        model.dtype,
                        crate::spec::engine::ssm_state_dtype(model, engine.release.as_deref()),
                    ) as f64
                    / (bandwidth * params.attention_bandwidth_efficiency)
            }),
            // A recurrent layer launches its own kernels (convolution and state update) each step.
            attention_floor_s: f64::from(model.kv_layers() + model.recurrent_layers())
                * params.attention_kernel_floor_s,
            // Prefill attention (FlashAttention's fused kernel) reaches its own share of the peak.
            attention_s_per_pair: model.attn_flops_per_token_per_ctx_token() * (1.0 - window_share)
                / tp_f
                / (gpu.dense_fp16_flops * attention_efficiency),
            attention_window_s_per_pair: model.attn_flops_per_token_per_ctx_token() * window_share
                / tp_f
                / (gpu.dense_fp16_flops * attention_efficiency),
            extra_s_per_output: model.extra_flops_per_decode_token / tp_f / flops,
            extra_weights_s: model.extra_weight_reads_bytes_per_step as f64 / tp_f / weights_bandwidth,
            vocoder_s_per_output: model.vocoder_fp32_flops_per_output_token
                / (gpu.dense_fp32_flops * params.compute_efficiency),
            vocoder_weights_s: model.vocoder_weight_bytes as f64 / weights_bandwidth,
            prefill_step_overhead_s: params.prefill_step_overhead_s,
            allreduce_s_per_token,
            allreduce_s_per_step,
            window_tokens: model
                .sliding_window
                .filter(|_| model.sliding_layers() > 0)
                .map_or(u64::MAX, |w| u64::from(w.window)),
            draft_passes: engine.speculative.as_ref().map_or(0, |s| match s.method {
                crate::spec::speculative::SpecMethod::Ngram | crate::spec::speculative::SpecMethod::Suffix => 0,
                _ => s.num_speculative_tokens,
            }),
            draft_weights_s: draft_weight_bytes(model, engine) / tp_f / weights_bandwidth,
            draft_s_per_seq: draft_flops_per_token(model, engine) / tp_f / flops,
            overlap_host: engine.async_scheduling,
            moe_floor_s: model
                .moe
                .map_or(0.0, |m| f64::from(m.moe_layers) * params.moe_layer_floor_s),
        }
    }

    /// The proposer's time in a step with `decode_seqs` decoding sequences: K passes, each the
    /// longer of reading the draft's weights and computing one token per sequence, seconds.
    fn draft_seconds(&self, decode_seqs: u64) -> f64 {
        if self.draft_passes == 0 || decode_seqs == 0 {
            return 0.0;
        }
        f64::from(self.draft_passes) * self.draft_weights_s.max(decode_seqs as f64 * self.draft_s_per_seq)
    }

    /// Tokens a sliding-window layer attends to (`u64::MAX` when the model has no window): the
    /// cap the scheduler applies to each sequence's context in `windowed_context_tokens`.
    pub fn window_tokens(&self) -> u64 {
        self.window_tokens
    }

    /// Duration of one step in seconds.
    pub fn step_seconds(&self, b: &StepBatch) -> f64 {
        self.step_time(b).total_s()
    }

    /// One step's time, part by part (what [`StepCostModel::step_seconds`] adds up), seconds.
    pub fn step_time(&self, b: &StepBatch) -> StepTime {
        let tokens = b.tokens() as f64;
        // Padded graph rows cost GEMM and head compute, not KV reads or CPU time.
        let compute_tokens = b.tokens().max(b.graph_seqs) as f64;
        // Dense layers: the longer of reading their weights and computing (one GEMM per
        // matrix, large enough to overlap the two). Routed experts: reading the experts the
        // tokens touch plus computing their rows. A fused-MoE kernel runs one small GEMM per
        // expert (n·k/E rows each), too short to hide its weight stream behind its math, so the
        // two add up rather than overlap. The LM head computes only the rows vLLM samples; the
        // elementwise kernels between the GEMMs stream every token's activations and add to them.
        let logits_rows = (b.decode_seqs + b.spec_tokens + b.prefill_seqs) as f64;
        let dense_s = self
            .weights_s
            .max(compute_tokens * self.linear_s_per_token + logits_rows * self.lm_head_s_per_row)
            + compute_tokens * self.elementwise_s_per_token;
        let attention_s = (b.context_tokens as f64 * self.kv_s_per_token
            + b.windowed_context_tokens as f64 * self.kv_window_s_per_token
            + b.seqs() as f64 * self.state_s_per_seq)
            .max(
                b.prefill_attention_pairs * self.attention_s_per_pair
                    + b.windowed_attention_pairs * self.attention_window_s_per_pair,
            )
            .max(self.attention_floor_s);
        let allreduce_s = if self.allreduce_s_per_step > 0.0 {
            self.allreduce_s_per_step + tokens * self.allreduce_s_per_token
        } else {
            0.0
        };
        StepTime {
            dense_s,
            experts_read_s: self.experts_read_s(b.tokens()),
            experts_compute_s: compute_tokens * self.expert_s_per_token,
            moe_floor_s: self.moe_floor_s,
            draft_s: self.draft_seconds(b.decode_seqs),
            attention_s,
            head_s: self.head_seconds(b.output_seqs.max(b.graph_seqs)),
            vocoder_s: self.vocoder_seconds(b.output_seqs),
            allreduce_s,
            host_s: self.host_seconds(b),
            overlap_host: self.overlap_host,
        }
    }

    /// Time to read the routed experts a step of `tokens` tokens touches, seconds: each expert
    /// with the chance one of the tokens routes to it (`1 − (1 − k/E)^tokens`, independent
    /// uniform routing); 0 for dense models.
    fn experts_read_s(&self, tokens: u64) -> f64 {
        if self.experts_s == 0.0 {
            return 0.0;
        }
        let touched = 1.0 - self.expert_idle_per_token.powf(tokens as f64);
        if self.ep_experts_per_rank > 0.0 && touched > 0.0 {
            // Each rank reads the experts of its own it was routed to: Binomial(E/ep, p) of
            // them; all ranks wait for the busiest, whose count is about the mean plus the
            // expected maximum of `ep` standard normals times the spread.
            let mean = self.ep_experts_per_rank * touched;
            let sd = (self.ep_experts_per_rank * touched * (1.0 - touched)).sqrt();
            let busiest = (mean + expected_max_std_normal(self.ep_ranks) * sd).min(self.ep_experts_per_rank);
            return self.experts_s * touched * busiest / mean;
        }
        self.experts_s * touched
    }

    /// The host's (CPU's) part of a step: fixed and per-sequence overheads, the eager-prefill
    /// overhead and in-process streaming of the step's tokens, seconds.
    fn host_seconds(&self, b: &StepBatch) -> f64 {
        let streaming = self.stream_s_per_output * b.output_seqs as f64;
        if b.host_free {
            return streaming;
        }
        streaming
            + self.step_overhead_s
            + self.per_seq_overhead_s * b.seqs() as f64
            + if b.prefill_seqs > 0 {
                self.prefill_step_overhead_s
            } else {
                0.0
            }
    }

    /// The non-LM head's time for `output_seqs` outputs: its own roofline, seconds (0 if none).
    fn head_seconds(&self, output_seqs: u64) -> f64 {
        if output_seqs == 0 {
            return 0.0;
        }
        self.extra_weights_s.max(output_seqs as f64 * self.extra_s_per_output)
    }

    /// The audio decoder's time for `output_seqs` outputs (one batched FP32 call), seconds.
    fn vocoder_seconds(&self, output_seqs: u64) -> f64 {
        if output_seqs == 0 || self.vocoder_s_per_output == 0.0 && self.vocoder_weights_s == 0.0 {
            return 0.0;
        }
        self.vocoder_weights_s
            .max(output_seqs as f64 * self.vocoder_s_per_output)
    }

    /// Duration of one step in integer nanoseconds (at least 1).
    pub fn step_nanos(&self, b: &StepBatch) -> Nanos {
        ((self.step_seconds(b) * 1e9).round() as Nanos).max(1)
    }

    /// The GPU roofline part of a step alone (no CPU overheads), seconds — for reports.
    pub fn roofline_seconds(&self, b: &StepBatch) -> f64 {
        let mut gpu_only = self.clone();
        gpu_only.step_overhead_s = 0.0;
        gpu_only.per_seq_overhead_s = 0.0;
        gpu_only.stream_s_per_output = 0.0;
        gpu_only.prefill_step_overhead_s = 0.0;
        gpu_only.step_seconds(b)
    }
}
