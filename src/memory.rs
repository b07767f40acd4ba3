//! The memory budget: util × total − weights − activation peak − non-torch memory → KV blocks.
//!
//! Follows vllm-semantics.md §2: vLLM V1 (0.10) `gpu_worker.determine_available_memory` and
//! `kv_cache_utils.get_kv_cache_config`; V0 (0.5/0.6) `worker.determine_num_available_blocks`;
//! nano-vllm `model_runner.allocate_kv_cache`. Every figure is per GPU of a tensor-parallel group.

use serde::{Deserialize, Serialize};

use crate::error::{Error, RefusalKind, Result};
use crate::spec::engine::{value_error, EngineConfig, EngineVersion};
use crate::spec::{Architecture, GpuSpec, ModelSpec};
use crate::units::{cdiv, GIB};

/// Largest memory term a profile may pin, bytes: 1 TiB, more than any GPU's memory.
pub const MAX_MEMORY_TERM_BYTES: u64 = 1 << 40;

/// Largest CUDA-graph pool per captured sequence a profile may pin, bytes (1 GiB; measured pools
/// are a few MiB per sequence).
pub const MAX_CUDA_GRAPH_BYTES_PER_SEQ: u64 = 1 << 30;

/// Memory terms a calibrated profile may pin instead of the first-principles estimates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryCalibration {
    /// Activation peak of the profile run, in bytes per GPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_peak_bytes: Option<u64>,
    /// Memory outside PyTorch's allocator that grows during start-up (cuBLAS, NCCL), bytes per GPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_torch_bytes: Option<u64>,
    /// Memory already in use on the device before the engine starts (nano-vllm subtracts it), bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preexisting_used_bytes: Option<u64>,
    /// CUDA-graph pool per sequence of the largest captured batch (min(max_num_seqs, 512)),
    /// allocated after the KV cache and so outside the budget, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuda_graph_bytes_per_seq: Option<u64>,
}

impl MemoryCalibration {
    /// Refuses terms no GPU could hold (they would wrap the card-memory arithmetic), naming the
    /// field: each term at most [`MAX_MEMORY_TERM_BYTES`], the per-sequence CUDA-graph pool at
    /// most [`MAX_CUDA_GRAPH_BYTES_PER_SEQ`].
    pub fn validate(&self, origin: &str) -> Result<()> {
        for (field, v, max) in [
            (
                "memory.activation_peak_bytes",
                self.activation_peak_bytes,
                MAX_MEMORY_TERM_BYTES,
            ),
            ("memory.non_torch_bytes", self.non_torch_bytes, MAX_MEMORY_TERM_BYTES),
            (
                "memory.preexisting_used_bytes",
                self.preexisting_used_bytes,
                MAX_MEMORY_TERM_BYTES,
            ),
            (
                "memory.cuda_graph_bytes_per_seq",
                self.cuda_graph_bytes_per_seq,
                MAX_CUDA_GRAPH_BYTES_PER_SEQ,
            ),
        ] {
            if let Some(v) = v.filter(|&v| v > max) {
                return Err(Error::invalid(
                    origin,
                    field,
                    format!("{v} bytes is more than any GPU could hold (at most {max})"),
                ));
            }
        }
        Ok(())
    }
}

/// The resolved memory budget of one GPU, with the KV-cache size vLLM would log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryPlan {
    /// Device memory as CUDA reports it, bytes.
    pub total_bytes: u64,
    /// gpu_memory_utilization × total, bytes.
    pub requested_bytes: u64,
    /// Model weights on this GPU, bytes.
    pub weights_bytes: u64,
    /// Memory used on the card once the engine is up and idle (what nvidia-smi shows): memory in
    /// use before it started (nano-vllm only), weights, non-torch, KV blocks and CUDA graphs, bytes.
    pub card_used_bytes: u64,
    /// Activation peak of the profile run, bytes.
    pub activation_peak_bytes: u64,
    /// Non-torch memory growth during start-up, bytes.
    pub non_torch_bytes: u64,
    /// Memory left for the KV cache, bytes.
    pub kv_cache_bytes: u64,
    /// Bytes of one KV block across all layers.
    pub block_bytes: u64,
    /// KV blocks the engine allocates (vLLM's `num_gpu_blocks`).
    pub num_gpu_blocks: u64,
    /// Blocks requests can use (V1 reserves one null block).
    pub usable_blocks: u64,
    /// Tokens the KV cache holds (vLLM's "GPU KV cache size: N tokens").
    pub kv_cache_tokens: u64,
    /// Requests of max_model_len tokens that fit at once (vLLM's "Maximum concurrency …: N.NNx").
    pub max_concurrency: f64,
    /// Tokens per block.
    pub block_size: u32,
    /// The max_model_len the concurrency refers to.
    pub max_model_len: u32,
    /// CUDA-graph memory taken out of the KV budget (vLLM ≥ 0.20 profiles it), bytes; 0 before.
    pub cuda_graph_in_budget_bytes: u64,
    /// The vLLM release whose log lines the plan prints (None: the modelled engine's).
    pub release: Option<String>,
    /// Where the non-KV terms came from ("estimated from first principles" or a profile id).
    pub source: String,
    /// A hybrid model's lines about its pages, as vLLM logs them at start-up ("Setting attention
    /// block size to N tokens …", "Padding mamba page size by X% …"); empty for other models.
    pub hybrid_lines: Vec<String>,
}

impl MemoryPlan {
    /// vLLM V1's log line "GPU KV cache size: 93,392 tokens".
    pub fn kv_cache_size_line(&self) -> String {
        format!("GPU KV cache size: {} tokens", thousands(self.kv_cache_tokens))
    }

    /// vLLM V1's log line "Maximum concurrency for 1,818 tokens per request: 51.20x".
    pub fn max_concurrency_line(&self) -> String {
        format!(
            "Maximum concurrency for {} tokens per request: {:.2}x",
            thousands(self.max_model_len as u64),
            self.max_concurrency
        )
    }

    /// The KV-cache lines as the plan's release prints them: two lines up to 0.27, one combined
    /// line in 0.28–0.29 ("GPU KV cache size: N tokens, Maximum concurrency …"), and from 0.30
    /// the same led by the device type ("GPU").
    pub fn kv_cache_lines(&self) -> Vec<String> {
        let release = self.release.as_deref().and_then(crate::spec::engine::release_number);
        if release.is_some_and(|r| r >= (0, 28)) {
            vec![format!(
                "{}, {}",
                self.kv_cache_size_line(),
                self.max_concurrency_line()
            )]
        } else {
            vec![self.kv_cache_size_line(), self.max_concurrency_line()]
        }
    }

    /// vLLM V1's log line "Available KV cache memory: 41.60 GiB" as `release` prints it: two
    /// decimals up to 0.13, Python's `round(x, 2)` from 0.14 (`61.4`, `6.87`).
    pub fn available_kv_cache_line(&self, release: Option<&str>) -> String {
        let gib = self.kv_cache_bytes as f64 / GIB;
        let text = match release.and_then(crate::spec::engine::release_number) {
            Some(r) if r >= (0, 14) => python_round2(gib),
            _ => format!("{gib:.2}"),
        };
        format!("Available KV cache memory: {text} GiB")
    }

    /// vLLM V0's log line "# GPU blocks: N, # CPU blocks: M" (CPU blocks from 4 GiB swap space).
    pub fn gpu_blocks_line(&self) -> String {
        let cpu_blocks = (4.0 * GIB) as u64 / self.block_bytes.max(1);
        format!("# GPU blocks: {}, # CPU blocks: {}", self.num_gpu_blocks, cpu_blocks)
    }

    /// Weights + activation peak + non-torch memory, in bytes.
    pub fn non_kv_bytes(&self) -> u64 {
        self.weights_bytes + self.activation_peak_bytes + self.non_torch_bytes
    }
}

/// Formats an integer with thousands separators, as Python's `{:,}` does.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Weight bytes held by one GPU of the engine's tensor-parallel group, stored as its
/// quantization says, with a speculative proposer's own weights (an EAGLE / EAGLE-3 / MTP head,
/// or a draft model; vLLM loads them beside the target before it profiles memory).
pub fn weights_bytes_per_gpu(model: &ModelSpec, cfg: &EngineConfig) -> u64 {
    // Embeddings and most matrices are split; norms and biases are small enough to ignore here.
    let tp = cfg.tensor_parallel_size.max(1) as u64;
    model.weight_bytes_with(cfg.quantization) / tp + crate::cost::draft_weight_bytes(model, cfg) as u64 / tp
}

/// KV layers a speculative proposer adds to the target's KV cache (count): an EAGLE, EAGLE-3 or
/// MTP head's one decoder layer, of the target's attention shape, in the same pool. A draft model's
/// own layers (another shape) and n-gram or suffix proposers (none) add none here.
fn draft_kv_layers(cfg: &EngineConfig) -> u32 {
    use crate::spec::speculative::SpecMethod::*;
    match cfg.speculative.as_ref().map(|s| s.method) {
        Some(Eagle | Eagle3 | Mtp) => 1,
        _ => 0,
    }
}

/// First-principles activation peak of the engine's profile run, bytes per GPU.
///
/// vLLM runs `max_num_batched_tokens` dummy tokens through the model (the largest transient is one
/// layer's MLP: its input, the up/gate projection and the activation output), then a sampler run on
/// `max_num_seqs` rows of float32 logits (logits, probabilities, log-probabilities and a sorted copy)
/// over the whole vocabulary: the LM head is split over the tensor-parallel ranks but its logits
/// are gathered before sampling, so rank 0 (whose lines vLLM prints) holds them all.
pub fn estimate_activation_peak_bytes(model: &ModelSpec, cfg: &EngineConfig) -> u64 {
    let tp = cfg.tensor_parallel_size.max(1) as f64;
    let dtype = model.dtype.bytes() as f64;
    let tokens = match cfg.version {
        EngineVersion::NanoVllm => {
            // nano-vllm warms up with min(batched // len, max_num_seqs) sequences of len tokens.
            let len = cfg.max_num_batched_tokens.min(cfg.max_model_len).max(1);
            let seqs = (cfg.max_num_batched_tokens / len).min(cfg.max_num_seqs).max(1);
            (seqs * len) as f64
        }
        _ => cfg.max_num_batched_tokens as f64,
    };
    let hidden = model.hidden_size as f64;
    // A MoE layer's fused kernel holds every token's top-k expert activations (and the shared
    // experts'); the widest MLP of the model sets the peak.
    let widest = match model.moe {
        Some(m) => {
            let routed = f64::from(m.num_experts_per_tok) * f64::from(m.moe_intermediate_size)
                + f64::from(m.shared_expert_intermediate_size);
            let dense = if m.moe_layers < model.mlp_layers() {
                f64::from(model.intermediate_size)
            } else {
                0.0
            };
            routed.max(dense)
        }
        None => f64::from(model.intermediate_size),
    };
    let inter = widest / tp;
    let mlp_width = match model.architecture {
        Architecture::Llama => 3.0 * inter, // gate+up output (2i) and the activated half (i)
        Architecture::Gpt2 => 2.0 * inter,  // fc output and GELU output
    };
    let forward = tokens * (3.0 * hidden + mlp_width) * dtype;
    let sampler_rows = cfg.max_num_seqs as f64;
    let sampler = tokens * hidden * dtype + sampler_rows * model.vocab_size as f64 * 4.0 * 4.0;
    forward.max(sampler) as u64
}

/// First-principles non-torch memory growth during start-up, bytes per GPU.
///
/// cuBLAS/cuDNN workspaces on one GPU (vLLM 0.10 logs show 0.02–0.26 GiB); NCCL and custom
/// all-reduce buffers add 1.4 GiB with tensor parallelism: the smallest figure seen (1.4–2.4 GiB
/// on the TP ≥ 2 logs of 0.10; 2.1–5.5 GiB left beyond weights, KV and this activation estimate
/// on the five TP 4–8 logs of 0.11–0.18 in data/startup-logs), so that no deployment measured to
/// start (the corpus' Qwen3-235B-FP8 at TP 4 on 80 GB cards with 16,384 batched tokens) is refused.
pub fn estimate_non_torch_bytes(cfg: &EngineConfig) -> u64 {
    let base = 0.10 * GIB;
    // nano-vllm has no custom all-reduce buffers: its TP engines keep the smaller NCCL share
    // (seed 003's 1×4 reading starts at util 0.4).
    let tp_extra = match (cfg.tensor_parallel_size > 1, cfg.version) {
        (false, _) => 0.0,
        (true, EngineVersion::NanoVllm) => 0.5 * GIB,
        (true, _) => 1.4 * GIB,
    };
    (base + tp_extra) as u64
}

/// KV-cache bytes of one block across all layers on one GPU.
pub fn block_bytes(model: &ModelSpec, cfg: &EngineConfig) -> u64 {
    model.kv_bytes_per_token_as(cfg.tensor_parallel_size, cfg.kv_cache_dtype) * cfg.block_size as u64
}

/// How vLLM V1 lays out the KV cache of one GPU (`kv_cache_utils.get_kv_cache_config`): layers of
/// one attention kind share a spec; a model with full and sliding-window layers (gpt-oss, Gemma)
/// is split into groups of `group_size` layers with one page size, and every block of the shared
/// pool spans one layer of each of `group_size` tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KvLayout {
    /// Bytes of one block of one layer (vLLM's `page_size_bytes`).
    pub page_bytes: u64,
    /// Layers per group, i.e. KV tensors a block spans (all KV layers when uniform).
    pub group_size: u32,
    /// Groups of full-attention layers (count).
    pub full_groups: u32,
    /// Groups of sliding-window layers (count).
    pub sliding_groups: u32,
    /// The sliding window, tokens (0 without one).
    pub window: u32,
    /// Groups of a hybrid model's recurrent layers (count; in `full_groups` too when each holds
    /// a state per block of tokens, vLLM's mamba cache mode "all").
    pub recurrent_groups: u32,
    /// State blocks a request holds in the recurrent groups that keep a fixed number (one each
    /// without prefix caching, two in mode "align"), count.
    pub state_blocks_per_request: u32,
}

impl KvLayout {
    /// All groups (count, ≥ 1).
    pub fn groups(&self) -> u32 {
        let state_only = if self.state_blocks_per_request > 0 {
            self.recurrent_groups
        } else {
            0
        };
        (self.full_groups + self.sliding_groups + state_only).max(1)
    }

    /// Bytes of one block of the shared pool: `page_bytes × group_size`.
    pub fn block_bytes(&self) -> u64 {
        self.page_bytes * u64::from(self.group_size)
    }
}

/// The KV layout vLLM V1 gives `model` under `cfg`; V0 and nano-vllm hold every layer in one
/// uniform pool (so do V1 models with one attention kind, and Llama 4, whose chunked local
/// attention vLLM keeps out of the hybrid manager by default).
pub fn kv_layout(model: &ModelSpec, cfg: &EngineConfig) -> KvLayout {
    let page_bytes = model.kv_elements_per_token_per_layer(cfg.tensor_parallel_size)
        * cfg.kv_cache_dtype.bytes()
        * u64::from(cfg.block_size);
    let g = crate::spec::engine::kv_group_counts(model, cfg.version, cfg.release.as_deref());
    // A proposer's layer joins a uniform full-attention pool as one more tensor per block.
    let draft_layers = if g.full == 1 && g.sliding == 0 {
        draft_kv_layers(cfg)
    } else {
        0
    };
    let all_mode = crate::spec::engine::mamba_cache_mode(model, cfg.enable_prefix_caching, cfg.release.as_deref())
        == crate::spec::engine::MambaCacheMode::All;
    KvLayout {
        page_bytes,
        group_size: g.group_size + draft_layers,
        full_groups: g.full + if all_mode { g.recurrent } else { 0 },
        sliding_groups: g.sliding,
        window: g.window,
        recurrent_groups: g.recurrent,
        state_blocks_per_request: cfg.kv_groups.recurrent,
    }
}

/// Blocks one request of `cfg.max_model_len` tokens can occupy in each group, summed
/// (vLLM's `max_memory_usage_bytes` per spec ÷ page size): a full-attention group holds the
/// whole length; a sliding-window group at most `min(window − 1 + max_num_batched_tokens,
/// max_model_len)` tokens plus one block, as the window need not start on a block boundary.
pub fn blocks_per_request(layout: &KvLayout, cfg: &EngineConfig) -> u64 {
    let bs = u64::from(cfg.block_size.max(1));
    let len = u64::from(cfg.max_model_len);
    let full = cdiv(len, bs);
    // From 0.26 a window must hold the tokens of every batch in flight: two with async scheduling.
    let release = cfg.release.as_deref().and_then(crate::spec::engine::release_number);
    let in_flight = if cfg.async_scheduling && release.is_some_and(|r| r >= (0, 26)) {
        2
    } else {
        1
    };
    let windowed =
        (u64::from(layout.window).saturating_sub(1) + in_flight * u64::from(cfg.max_num_batched_tokens)).min(len);
    u64::from(layout.full_groups) * full
        + u64::from(layout.sliding_groups) * (cdiv(windowed, bs) + 1)
        + u64::from(layout.state_blocks_per_request)
}

/// CUDA-graph memory vLLM subtracts from the KV budget when a release profiles it (0.20.0 on;
/// Model Runner V2 reports none until 0.29 for the models it runs), bytes per GPU: the profile's
/// per-sequence term when calibrated, else [`CUDA_GRAPH_PRIOR_BYTES`].
pub fn cuda_graph_in_budget_bytes(
    model: &ModelSpec,
    gpu: &GpuSpec,
    cfg: &EngineConfig,
    calibration: &MemoryCalibration,
) -> u64 {
    if cfg.version != EngineVersion::Vllm010 {
        return 0;
    }
    let Some(release) = cfg.release.as_deref().and_then(crate::spec::engine::release_number) else {
        return 0;
    };
    if release < (0, 20) {
        return 0;
    }
    // ROCm profiles CUDA-graph memory only from 0.26 (`is_cuda_alike()`; `not is_rocm()` and
    // `is_cuda()` before).
    if gpu.architecture.is_amd() && release < (0, 26) {
        return 0;
    }
    // Model Runner V2, the default for dense models from 0.25 (Qwen3 / Llama / Mistral dense
    // from 0.22–0.23), returned no estimate until 0.29 (docs/research/vllm-memory-current.md §1.6).
    let mrv2_without_estimate =
        model.moe.is_none() && model.sliding_window.is_none() && ((0, 25)..(0, 29)).contains(&release);
    if mrv2_without_estimate {
        return 0;
    }
    match calibration.cuda_graph_bytes_per_seq {
        Some(per_seq) => per_seq * u64::from(cfg.max_num_seqs.min(512)),
        None => CUDA_GRAPH_PRIOR_BYTES,
    }
}

/// Prior CUDA-graph pool of one GPU when nothing is calibrated, bytes: 0.42 GiB, the median of
/// the "Graph capturing finished …, took X GiB" lines of the start-up logs in data/startup-logs
/// (0.02–2.52 GiB over 11 logs of 0.11–0.18 on H200 / B200).
pub const CUDA_GRAPH_PRIOR_BYTES: u64 = 450_971_566;

/// Python's `str(round(x, 2))`, as vLLM ≥ 0.14 prints GiB (`format_gib`): `61.4`, `61.0`, `6.87`.
pub fn python_round2(x: f64) -> String {
    let r = (x * 100.0).round() / 100.0;
    let text = format!("{r}");
    if text.contains('.') || text.contains('e') || !r.is_finite() {
        text
    } else {
        format!("{text}.0")
    }
}

/// Computes the memory budget and KV blocks, or vLLM's start-up error for this configuration.
pub fn plan_memory(
    model: &ModelSpec,
    gpu: &GpuSpec,
    cfg: &EngineConfig,
    calibration: &MemoryCalibration,
    source: &str,
) -> Result<MemoryPlan> {
    let total = gpu.memory_total_bytes;
    let release = cfg.release.as_deref().and_then(crate::spec::engine::release_number);
    // 0.14 on: math.ceil(total × util) (v1/worker/utils.py::request_memory).
    let requested = if cfg.version == EngineVersion::Vllm010 && release.is_some_and(|r| r >= (0, 14)) {
        (cfg.gpu_memory_utilization * total as f64).ceil() as u64
    } else {
        (cfg.gpu_memory_utilization * total as f64) as u64
    };
    let weights = weights_bytes_per_gpu(model, cfg);
    let activation = calibration
        .activation_peak_bytes
        .unwrap_or_else(|| estimate_activation_peak_bytes(model, cfg));
    let non_torch = calibration
        .non_torch_bytes
        .unwrap_or_else(|| estimate_non_torch_bytes(cfg));
    let layout = kv_layout(model, cfg);
    let block = layout.block_bytes();
    if block == 0 {
        return Err(Error::invalid("model", "kv_bytes_per_token", "must be ≥ 1 byte"));
    }
    let graphs_in_budget = cuda_graph_in_budget_bytes(model, gpu, cfg, calibration);
    let non_kv = weights + activation + non_torch;
    // Weights larger than the device never finish loading: PyTorch stops the start-up with its
    // out-of-memory error (whose byte counts depend on the tensor it was allocating) before vLLM
    // sizes any KV cache, so vLLM's "No available memory for the cache blocks" never prints.
    if weights > total {
        return Err(Error::EngineRefused {
            kind: RefusalKind::NoMemoryForCache,
            message: format!(
                "torch.OutOfMemoryError: CUDA out of memory while loading the weights: {:.2} GiB per GPU \
                 (tensor parallel size {}) on {}, which holds {:.2} GiB",
                weights as f64 / GIB,
                cfg.tensor_parallel_size,
                gpu.name,
                total as f64 / GIB
            ),
        });
    }
    if let Some(kv) = cfg.kv_cache_memory_bytes {
        // vLLM takes the size as given and fails allocating it (CUDA out of memory) when the
        // device cannot hold it at all.
        if kv > total {
            return Err(Error::invalid(
                "--kv-cache-memory",
                "kv_cache_memory_bytes",
                format!(
                    "{:.2} GiB of KV cache is more than {} holds ({:.2} GiB, weights not counted)",
                    kv as f64 / GIB,
                    gpu.name,
                    total as f64 / GIB
                ),
            ));
        }
    }
    let available: i128 = match cfg.version {
        // --kv-cache-memory: the size as given, no profiling, util ignored.
        _ if cfg.kv_cache_memory_bytes.is_some() => i128::from(cfg.kv_cache_memory_bytes.unwrap_or(0)),
        EngineVersion::NanoVllm => {
            // num_blocks = (total × util − used − peak + current) // block_bytes, where `used`
            // is everything on the device (CUDA context, weights, other processes).
            let preexisting = calibration.preexisting_used_bytes.unwrap_or((0.5 * GIB) as u64);
            requested as i128 - (preexisting + non_kv) as i128
        }
        _ => requested as i128 - non_kv as i128 - graphs_in_budget as i128,
    };
    let no_memory = || {
        if cfg.version == EngineVersion::NanoVllm {
            Error::EngineRefused {
                kind: RefusalKind::NoMemoryForCache,
                message: "AssertionError: assert config.num_kvcache_blocks > 0".to_string(),
            }
        } else {
            value_error(
                RefusalKind::NoMemoryForCache,
                "No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine."
                    .to_string(),
            )
        }
    };
    if available <= 0 {
        return Err(no_memory());
    }
    let available = available as u64;
    let num_gpu_blocks = available / block;
    // V1 reports a cache smaller than one block through its max-seq-len check below.
    if num_gpu_blocks == 0 && cfg.version != EngineVersion::Vllm010 {
        return Err(no_memory());
    }
    let blocks_per_request = blocks_per_request(&layout, cfg);
    match cfg.version {
        EngineVersion::Vllm010 => {
            // kv_cache_utils.check_enough_kv_cache_memory
            let needed = blocks_per_request * layout.page_bytes * u64::from(layout.group_size);
            if needed > available {
                let per_token_block = block;
                let estimated = estimate_max_model_len(available, per_token_block, cfg.block_size);
                return Err(value_error(
                    RefusalKind::KvCacheTooSmall,
                    format!(
                        "To serve at least one request with the models's max seq len ({}), ({:.2} GiB KV cache is needed, \
                         which is larger than the available KV cache memory ({:.2} GiB). Based on the available memory, \
                         the estimated maximum model length is {}. Try increasing `gpu_memory_utilization` or decreasing \
                         `max_model_len` when initializing the engine.",
                        cfg.max_model_len,
                        needed as f64 / GIB,
                        available as f64 / GIB,
                        estimated
                    ),
                ));
            }
        }
        EngineVersion::Vllm05 | EngineVersion::Vllm06 | EngineVersion::Vllm0600 => {
            // worker.raise_if_cache_size_invalid
            let max_seq_len = cfg.block_size as u64 * num_gpu_blocks;
            if cfg.max_model_len as u64 > max_seq_len {
                return Err(value_error(
                    RefusalKind::KvCacheTooSmall,
                    format!(
                        "The model's max seq len ({}) is larger than the maximum number of tokens that can be stored \
                         in KV cache ({max_seq_len}). Try increasing `gpu_memory_utilization` or decreasing \
                         `max_model_len` when initializing the engine.",
                        cfg.max_model_len
                    ),
                ));
            }
        }
        EngineVersion::NanoVllm => {}
    }
    // The scheduler's pool: every block of the shared pool (one is V1's null block); a request
    // takes one per group per block of tokens, a sliding group no more than its window's
    // (EngineConfig::kv_groups).
    let groups = u64::from(layout.groups());
    let usable = match cfg.version {
        EngineVersion::Vllm010 => num_gpu_blocks - 1,
        _ => num_gpu_blocks,
    };
    let preexisting = match cfg.version {
        EngineVersion::NanoVllm => calibration.preexisting_used_bytes.unwrap_or((0.5 * GIB) as u64),
        _ => 0,
    };
    let graphs = if graphs_in_budget > 0 {
        graphs_in_budget
    } else {
        calibration
            .cuda_graph_bytes_per_seq
            .unwrap_or(0)
            .saturating_mul(u64::from(cfg.max_num_seqs.min(512)))
    };
    Ok(MemoryPlan {
        total_bytes: total,
        requested_bytes: requested,
        weights_bytes: weights,
        card_used_bytes: preexisting + non_kv - activation + num_gpu_blocks * block + graphs,
        activation_peak_bytes: activation,
        non_torch_bytes: non_torch,
        kv_cache_bytes: available,
        block_bytes: block,
        num_gpu_blocks,
        usable_blocks: usable,
        // ≤ 0.20: num_blocks // groups × block_size; 0.21 on: int(concurrency × max_model_len)
        // in double precision (kv_cache_utils.get_kv_cache_capacity).
        kv_cache_tokens: if cfg.version == EngineVersion::Vllm010 && release.is_some_and(|r| r >= (0, 21)) {
            (num_gpu_blocks as f64 / blocks_per_request as f64 * f64::from(cfg.max_model_len)) as u64
        } else {
            num_gpu_blocks / groups * cfg.block_size as u64
        },
        max_concurrency: num_gpu_blocks as f64 / blocks_per_request as f64,
        block_size: cfg.block_size,
        max_model_len: cfg.max_model_len,
        cuda_graph_in_budget_bytes: graphs_in_budget,
        release: cfg.release.clone(),
        source: source.to_string(),
        hybrid_lines: hybrid_lines(model, gpu, cfg),
    })
}

/// The page-size lines vLLM's `HybridAttentionMambaModelConfig` logs for a hybrid model: the
/// attention block it sets (when the default or the user's block was smaller) and how far the
/// state page is padded to equal the attention page.
fn hybrid_lines(model: &ModelSpec, gpu: &GpuSpec, cfg: &EngineConfig) -> Vec<String> {
    let release = cfg.release.as_deref();
    let (mamba, token) =
        crate::spec::engine::hybrid_pages(model, cfg.tensor_parallel_size, cfg.kv_cache_dtype, release);
    if mamba == 0 || token == 0 {
        return Vec::new();
    }
    let needed = crate::spec::engine::hybrid_block_tokens(
        model,
        gpu,
        cfg.tensor_parallel_size,
        cfg.kv_cache_dtype,
        cfg.enable_prefix_caching,
        release,
    );
    let mut lines = Vec::new();
    if u64::from(cfg.block_size) == needed {
        lines.push(format!(
            "Setting attention block size to {needed} tokens to ensure that attention page size is >= mamba page size."
        ));
    }
    let page = u64::from(cfg.block_size) * token;
    if page > mamba {
        lines.push(format!(
            "Padding mamba page size by {:.2}% to ensure that mamba page size and attention page size are exactly equal.",
            100.0 * (page - mamba) as f64 / mamba as f64
        ));
    }
    lines
}

/// vLLM V1's `estimate_max_model_len`: the longest length whose KV fits `available` bytes (binary search).
fn estimate_max_model_len(available: u64, block_bytes: u64, block_size: u32) -> u64 {
    let fits = |len: u64| cdiv(len, block_size as u64) * block_bytes <= available;
    let (mut lo, mut hi) = (1u64, 1u64 << 40);
    if !fits(lo) {
        return 0;
    }
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// Pins the non-torch term so that the plan reproduces a logged "Maximum concurrency … : X.XXx".
///
/// Finds the block counts that print `max_concurrency_x` to two decimals, takes the middle one, and
/// returns the non-torch bytes that put the available memory in the middle of that block.
pub fn calibrate_from_max_concurrency(
    model: &ModelSpec,
    gpu: &GpuSpec,
    cfg: &EngineConfig,
    max_concurrency_x: f64,
    activation_peak_bytes: u64,
) -> Result<MemoryCalibration> {
    let per_request = cdiv(cfg.max_model_len as u64, cfg.block_size as u64) as f64;
    let target = (max_concurrency_x * 100.0).round() as i64;
    let centre = (max_concurrency_x * per_request).round() as i64;
    let matching: Vec<u64> = (centre - 3 * per_request as i64..=centre + 3 * per_request as i64)
        .filter(|&n| n > 0 && ((n as f64 / per_request) * 100.0).round() as i64 == target)
        .map(|n| n as u64)
        .collect();
    let blocks = *matching.get(matching.len() / 2).ok_or_else(|| {
        Error::Fit(format!(
            "no block count prints a maximum concurrency of {max_concurrency_x:.2}x"
        ))
    })?;
    let block = block_bytes(model, cfg);
    let requested = (cfg.gpu_memory_utilization * gpu.memory_total_bytes as f64) as u64;
    let weights = weights_bytes_per_gpu(model, cfg);
    let kv = blocks * block + block / 2;
    let non_torch = requested as i128 - (weights + activation_peak_bytes + kv) as i128;
    if non_torch < 0 {
        return Err(Error::Fit(format!(
            "a logged concurrency of {max_concurrency_x:.2}x needs {:.2} GiB of KV cache, more than util × total − weights − activation ({:.2} GiB)",
            kv as f64 / GIB,
            (requested as f64 - (weights + activation_peak_bytes) as f64) / GIB
        )));
    }
    Ok(MemoryCalibration {
        activation_peak_bytes: Some(activation_peak_bytes),
        non_torch_bytes: Some(non_torch as u64),
        preexisting_used_bytes: None,
        cuda_graph_bytes_per_seq: None,
    })
}
