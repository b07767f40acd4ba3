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
    /// Rows the GPU computes when a decode step replays a CUDA graph captured for a larger batch
    /// (nano-vllm pads to its next captured size); 0 when the step runs as scheduled.
    pub graph_seqs: u64,
}

impl StepBatch {
    /// Sequences scheduled in the step.
    pub fn seqs(&self) -> u64 {
        self.decode_seqs + self.prefill_seqs
    }

    /// Tokens computed in the step.
    pub fn tokens(&self) -> u64 {
        self.decode_seqs + self.prefill_tokens
    }
}

/// Precomputed per-scenario constants of the step-cost model, so a step costs a few flops.
#[derive(Debug, Clone, PartialEq)]
pub struct StepCostModel {
    /// Fixed CPU + launch overhead per step, seconds.
    step_overhead_s: f64,
    /// CPU overhead per scheduled sequence, seconds.
    per_seq_overhead_s: f64,
    /// Time to stream the weights every step reads once (all but the routed experts), seconds.
    weights_s: f64,
    /// Time to stream every routed expert of a MoE model once, seconds (0 for dense models).
    experts_s: f64,
    /// `1 − top_k / num_experts`: the chance a token leaves a given expert idle (1 when dense).
    expert_idle_per_token: f64,
    /// Linear-layer compute per token, seconds.
    linear_s_per_token: f64,
    /// KV read time per context token of the full-attention layers, seconds.
    kv_s_per_token: f64,
    /// KV read time per windowed context token of the sliding-window layers, seconds.
    kv_window_s_per_token: f64,
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
    /// Async scheduling: the host prepares the next step while the GPU runs this one, so a
    /// step lasts the longer of the two instead of their sum.
    overlap_host: bool,
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
        let linear_flops = match (engine.quantization, gpu.dense_fp8_flops) {
            (Some(Quantization::Fp8), Some(fp8)) => fp8 * params.compute_efficiency,
            (None | Some(Quantization::Unquantized), _) => flops,
            (Some(_), _) => gpu.dense_fp16_flops * params.quantized_compute_efficiency,
        };
        let all_weights = model.weight_bytes_with(engine.quantization) as f64 / tp_f;
        // A MoE step reads the routed experts its tokens touch; the rest of the weights every step
        // (tensor or expert parallelism: each GPU holds 1/tp of them either way).
        let experts = model.routed_expert_bytes_with(engine.quantization) as f64 / tp_f;
        let weights = all_weights - experts;
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
        StepCostModel {
            step_overhead_s: params.step_overhead_s,
            per_seq_overhead_s: params.per_seq_overhead_s,
            weights_s: weights / weights_bandwidth,
            experts_s: experts / weights_bandwidth,
            expert_idle_per_token,
            linear_s_per_token: if linear_flops == flops {
                model.linear_flops_per_token() / tp_f / flops
            } else {
                // The LM head stays 16-bit (vLLM quantizes the layers' linear weights only).
                let lm_head = 2.0 * f64::from(model.vocab_size) * f64::from(model.hidden_size);
                ((model.linear_flops_per_token() - lm_head) / linear_flops + lm_head / flops) / tp_f
            },
            kv_s_per_token: kv_per_token * (1.0 - window_share) / (bandwidth * params.attention_bandwidth_efficiency),
            kv_window_s_per_token: kv_per_token * window_share / (bandwidth * params.attention_bandwidth_efficiency),
            attention_floor_s: model.kv_layers() as f64 * params.attention_kernel_floor_s,
            // Prefill attention (FlashAttention's fused kernel) reaches its own share of the peak.
            attention_s_per_pair: model.attn_flops_per_token_per_ctx_token() * (1.0 - window_share)
                / tp_f
                / (gpu.dense_fp16_flops * params.attention_compute_efficiency),
            attention_window_s_per_pair: model.attn_flops_per_token_per_ctx_token() * window_share
                / tp_f
                / (gpu.dense_fp16_flops * params.attention_compute_efficiency),
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
            overlap_host: engine.async_scheduling,
        }
    }

    /// Tokens a sliding-window layer attends to (`u64::MAX` when the model has no window): the
    /// cap the scheduler applies to each sequence's context in `windowed_context_tokens`.
    pub fn window_tokens(&self) -> u64 {
        self.window_tokens
    }

    /// Duration of one step in seconds.
    pub fn step_seconds(&self, b: &StepBatch) -> f64 {
        let tokens = b.tokens() as f64;
        // Padded graph rows cost GEMM and head compute, not KV reads or CPU time.
        let compute_tokens = b.tokens().max(b.graph_seqs) as f64;
        let linear = self
            .weights_read_s(b.tokens())
            .max(compute_tokens * self.linear_s_per_token);
        let attention = (b.context_tokens as f64 * self.kv_s_per_token
            + b.windowed_context_tokens as f64 * self.kv_window_s_per_token)
            .max(
                b.prefill_attention_pairs * self.attention_s_per_pair
                    + b.windowed_attention_pairs * self.attention_window_s_per_pair,
            )
            .max(self.attention_floor_s);
        let comm = if self.allreduce_s_per_step > 0.0 {
            self.allreduce_s_per_step + tokens * self.allreduce_s_per_token
        } else {
            0.0
        };
        let host = self.host_seconds(b);
        let gpu = linear
            + attention
            + self.head_seconds(b.output_seqs.max(b.graph_seqs))
            + self.vocoder_seconds(b.output_seqs)
            + comm;
        if self.overlap_host {
            host.max(gpu)
        } else {
            host + gpu
        }
    }

    /// Time to read the weights a step of `tokens` tokens touches, seconds: everything but the
    /// routed experts, plus each expert with the chance one of the tokens routes to it
    /// (`1 − (1 − k/E)^tokens`, independent uniform routing).
    fn weights_read_s(&self, tokens: u64) -> f64 {
        if self.experts_s == 0.0 {
            return self.weights_s;
        }
        let touched = 1.0 - self.expert_idle_per_token.powf(tokens as f64);
        self.weights_s + self.experts_s * touched
    }

    /// The host's (CPU's) part of a step: fixed and per-sequence overheads and the eager-prefill
    /// overhead, seconds.
    fn host_seconds(&self, b: &StepBatch) -> f64 {
        self.step_overhead_s
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
        gpu_only.prefill_step_overhead_s = 0.0;
        gpu_only.step_seconds(b)
    }
}
