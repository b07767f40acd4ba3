//! Engine versions, vLLM's flags with their per-version defaults, and start-up validation in vLLM's words.

use serde::{Deserialize, Serialize};

use crate::error::{Error, RefusalKind, Result};
use crate::spec::{Dtype, GpuSpec, ModelSpec};
use crate::units::GIB;

/// The serving engine whose memory accounting and scheduler are simulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub enum EngineVersion {
    /// vLLM 0.10.x, the V1 engine: mixed prefill/decode batches, chunked prefill and prefix caching on.
    #[default]
    #[serde(rename = "vllm-0.10")]
    Vllm010,
    /// vLLM 0.6.2–0.6.x, the V0 engine: prefill-only steps unless chunked prefill is enabled.
    #[serde(rename = "vllm-0.6")]
    Vllm06,
    /// vLLM 0.6.0–0.6.1: V0 whose async output processing hands each step's tokens to the server
    /// only when the following step ends (vllm-semantics: docs/research/vllm-v0-ttft.md).
    #[serde(rename = "vllm-0.6.0")]
    Vllm0600,
    /// vLLM 0.5.x, the V0 engine (same scheduling rules as 0.6 for servecast's purposes).
    #[serde(rename = "vllm-0.5")]
    Vllm05,
    /// nano-vllm (and forks such as nanovllm-voxcpm): prefill-first, 256-token blocks.
    #[serde(rename = "nano-vllm")]
    NanoVllm,
}

impl EngineVersion {
    /// All versions, for listings and error messages.
    pub const ALL: [EngineVersion; 5] = [
        EngineVersion::Vllm010,
        EngineVersion::Vllm06,
        EngineVersion::Vllm0600,
        EngineVersion::Vllm05,
        EngineVersion::NanoVllm,
    ];

    /// The CLI name (`vllm-0.10`, `vllm-0.6`, `vllm-0.5`, `nano-vllm`).
    pub fn as_str(self) -> &'static str {
        match self {
            EngineVersion::Vllm010 => "vllm-0.10",
            EngineVersion::Vllm06 => "vllm-0.6",
            EngineVersion::Vllm0600 => "vllm-0.6.0",
            EngineVersion::Vllm05 => "vllm-0.5",
            EngineVersion::NanoVllm => "nano-vllm",
        }
    }

    /// Parses a CLI name; accepts `vllm-0.10.2`, `0.10`, `v1`, `v0`, `nano`.
    ///
    /// Other vLLM releases map to the modelled engine whose scheduler they run: 0.8 and later
    /// (V1 by default) to `vllm-0.10`, 0.7 (V0 by default) to `vllm-0.6`.
    pub fn parse(text: &str, origin: &str) -> Result<EngineVersion> {
        let t = text.trim().to_ascii_lowercase();
        let t = t
            .trim_start_matches("vllm")
            .trim_start_matches(['-', '=', '_', ' ', 'v']);
        // `major.minor` of a release number (`0.11.2`, `0.8`, `0.24.1rc2`; `0.8.abc` gives none).
        let release = release_patch(t).map(|(major, minor, _)| (major, minor));
        let v = if t == "0.6.0" || t == "0.6.1" || t.starts_with("0.6.0.") || t.starts_with("0.6.1.") {
            EngineVersion::Vllm0600
        } else if t == "1" {
            // `v1`: the V1 engine.
            EngineVersion::Vllm010
        } else if t == "0" {
            // `v0`: the V0 engine.
            EngineVersion::Vllm06
        } else if t.starts_with("nano") {
            EngineVersion::NanoVllm
        } else {
            match release {
                Some((0, 2..=5)) => EngineVersion::Vllm05,
                Some((0, 6 | 7)) => EngineVersion::Vllm06,
                Some((0, minor)) if minor >= 8 => EngineVersion::Vllm010,
                Some((major, _)) if major >= 1 => EngineVersion::Vllm010,
                _ => {
                    return Err(Error::invalid(
                        origin,
                        "engine",
                        format!(
                            "unknown engine '{text}'; expected one of vllm-0.10, vllm-0.6, vllm-0.6.0, vllm-0.5, \
                             nano-vllm (or a vLLM release ≥ 0.5, e.g. vllm-0.11.2)"
                        ),
                    ))
                }
            }
        };
        Ok(v)
    }

    /// True for vLLM's V0 engine (0.5, 0.6).
    pub fn is_v0(self) -> bool {
        matches!(
            self,
            EngineVersion::Vllm05 | EngineVersion::Vllm06 | EngineVersion::Vllm0600
        )
    }

    /// True when a step's tokens reach the client only when the next step ends (vLLM 0.6.0–0.6.1).
    pub fn delays_output_one_step(self) -> bool {
        self == EngineVersion::Vllm0600
    }
}

impl std::fmt::Display for EngineVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A line of vLLM releases whose host-side code (API server, scheduler, model runner) is alike,
/// so servecast learns one set of host-side cost terms per line (`data/priors.yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ReleaseLine {
    /// 0.2–0.5: V0, the API server and the engine loop in one process.
    #[serde(rename = "vllm-0.2-0.5")]
    V05,
    /// 0.6–0.7: V0 behind a separate API-server process (MQLLMEngine), multi-step scheduling.
    #[serde(rename = "vllm-0.6-0.7")]
    V06,
    /// 0.8–0.13: V1, an API-server process and an EngineCore process over ZMQ, one step at a time.
    #[serde(rename = "vllm-0.8-0.13")]
    V1,
    /// 0.14–0.24: V1 with async scheduling on by default (host work overlaps the GPU step;
    /// `config/vllm.py` from 0.14.0, docs/research/frontend.md §4).
    #[serde(rename = "vllm-0.14-0.24")]
    V1Async,
    /// 0.25 and later: Model Runner V2 by default.
    #[serde(rename = "vllm-0.25+")]
    V1Mrv2,
    /// nano-vllm and its forks.
    #[serde(rename = "nano-vllm")]
    NanoVllm,
}

impl ReleaseLine {
    /// Every line, oldest first.
    pub const ALL: [ReleaseLine; 6] = [
        ReleaseLine::V05,
        ReleaseLine::V06,
        ReleaseLine::V1,
        ReleaseLine::V1Async,
        ReleaseLine::V1Mrv2,
        ReleaseLine::NanoVllm,
    ];

    /// The line's name (`vllm-0.14-0.24`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseLine::V05 => "vllm-0.2-0.5",
            ReleaseLine::V06 => "vllm-0.6-0.7",
            ReleaseLine::V1 => "vllm-0.8-0.13",
            ReleaseLine::V1Async => "vllm-0.14-0.24",
            ReleaseLine::V1Mrv2 => "vllm-0.25+",
            ReleaseLine::NanoVllm => "nano-vllm",
        }
    }

    /// The line of a stated release (`0.6.3.post1`, `v0.11.0`), or of the engine when none is stated.
    /// A V0 engine on 0.8–0.10 (`VLLM_USE_V1=0`, until 0.11 removed V0) runs V0's host code, the
    /// 0.6–0.7 line's, not V1's.
    pub fn of(engine: EngineVersion, release: Option<&str>) -> ReleaseLine {
        if engine == EngineVersion::NanoVllm {
            return ReleaseLine::NanoVllm;
        }
        let v0 = matches!(engine, EngineVersion::Vllm06 | EngineVersion::Vllm0600);
        match release.and_then(release_number) {
            Some((0, 0..=5)) => ReleaseLine::V05,
            Some((0, 6 | 7)) => ReleaseLine::V06,
            Some((0, 8..=10)) if v0 => ReleaseLine::V06,
            Some((0, 8..=13)) => ReleaseLine::V1,
            Some((0, 14..=24)) => ReleaseLine::V1Async,
            Some(_) => ReleaseLine::V1Mrv2,
            None => match engine {
                EngineVersion::Vllm05 => ReleaseLine::V05,
                EngineVersion::Vllm06 | EngineVersion::Vllm0600 => ReleaseLine::V06,
                _ => ReleaseLine::V1,
            },
        }
    }

    /// Whether the engine prepares the next step on the host while the GPU runs this one (async
    /// scheduling, the default from 0.14).
    pub fn async_scheduling(self) -> bool {
        matches!(self, ReleaseLine::V1Async | ReleaseLine::V1Mrv2)
    }
}

impl std::fmt::Display for ReleaseLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the engine was started; vLLM 0.10 picks `max_num_seqs` and `max_num_batched_tokens` by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UsageContext {
    /// `vllm serve` (the OpenAI-compatible API server).
    #[default]
    OpenaiApiServer,
    /// The offline `LLM` class.
    LlmClass,
    /// An engine built directly (`AsyncLLM.from_engine_args`), as TTS servers such as index-tts-vllm do.
    EngineContext,
}

/// vLLM's engine flags as a user gives them: every field optional, defaults filled per version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineFlags {
    /// `--gpu-memory-utilization`: fraction of the device's total memory vLLM may use, in (0, 1].
    #[serde(default)]
    pub gpu_memory_utilization: Option<f64>,
    /// `--max-num-seqs`: most sequences in one step.
    #[serde(default)]
    pub max_num_seqs: Option<u32>,
    /// `--max-model-len`: longest prompt + output, in tokens.
    #[serde(default)]
    pub max_model_len: Option<u32>,
    /// `--max-num-batched-tokens`: token budget of one step.
    #[serde(default)]
    pub max_num_batched_tokens: Option<u32>,
    /// `--block-size`: tokens per KV-cache block.
    #[serde(default)]
    pub block_size: Option<u32>,
    /// `--enable-chunked-prefill` / `--no-enable-chunked-prefill`.
    #[serde(default)]
    pub enable_chunked_prefill: Option<bool>,
    /// `--enable-prefix-caching` / `--no-enable-prefix-caching`.
    #[serde(default)]
    pub enable_prefix_caching: Option<bool>,
    /// `--tensor-parallel-size`: GPUs one engine spans.
    #[serde(default)]
    pub tensor_parallel_size: Option<u32>,
    /// How the engine was started (decides vLLM 0.10's defaults).
    #[serde(default)]
    pub usage_context: Option<UsageContext>,
    /// `--scheduler-delay-factor` (vLLM V0 only): waiting prompts are admitted only once the
    /// oldest has waited longer than this × the latency of the last step that ran prompts.
    #[serde(default)]
    pub scheduler_delay_factor: Option<f64>,
    /// `--kv-cache-dtype`: the KV cache's element type (`auto` = the model's dtype).
    #[serde(default)]
    pub kv_cache_dtype: Option<KvCacheDtype>,
    /// `--quantization`: how the linear layers' weights are stored (unset: as the checkpoint says).
    #[serde(default)]
    pub quantization: Option<Quantization>,
    /// `--async-scheduling` / `--no-async-scheduling` (V1 only; default on from 0.14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub async_scheduling: Option<bool>,
    /// `--kv-cache-memory` (vLLM ≥ 0.11, `kv_cache_memory_bytes`): the KV cache's size per GPU,
    /// bytes; when set, vLLM skips memory profiling and ignores `gpu_memory_utilization`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_cache_memory_bytes: Option<u64>,
    /// `--num-scheduler-steps` (vLLM 0.6–0.10 V0 only): decode steps per scheduling pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_scheduler_steps: Option<u32>,
    /// `--multi-step-stream-outputs` (vLLM 0.6.2–0.10 V0): with multi-step, hand each step's
    /// tokens to the clients as it ends instead of all of a pass's at its end. Default: off up
    /// to 0.6.2, on from 0.6.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_step_stream_outputs: Option<bool>,
    /// `--enable-expert-parallel`: a MoE model's experts are spread whole over the
    /// tensor-parallel ranks instead of each expert being split across them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_expert_parallel: Option<bool>,
    /// `--speculative-config` (V1): the proposer, draft tokens per step and their acceptance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speculative_config: Option<crate::spec::speculative::SpeculativeConfig>,
    /// `--dtype`: the weights' and activations' element type (`auto`: the checkpoint's, as each
    /// release resolves it on this GPU; see [`resolve_dtype`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtype: Option<DtypeFlag>,
}

/// vLLM's `--dtype` choices servecast takes. `float32` is parsed and refused: servecast models
/// 16-bit serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DtypeFlag {
    /// The checkpoint's dtype, or what the release falls back to on this GPU.
    #[default]
    Auto,
    /// `half` / `float16`.
    #[serde(alias = "half", alias = "fp16")]
    Float16,
    /// `bfloat16`.
    #[serde(alias = "bf16")]
    Bfloat16,
    /// `float` / `float32`.
    #[serde(alias = "float", alias = "fp32")]
    Float32,
}

impl DtypeFlag {
    /// Parses vLLM's spelling (`auto`, `half`, `float16`, `bfloat16`, `float`, `float32`).
    pub fn parse(text: &str, origin: &str) -> Result<DtypeFlag> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(DtypeFlag::Auto),
            "half" | "float16" | "fp16" => Ok(DtypeFlag::Float16),
            "bfloat16" | "bf16" => Ok(DtypeFlag::Bfloat16),
            "float" | "float32" | "fp32" => Ok(DtypeFlag::Float32),
            other => Err(Error::invalid(
                origin,
                "dtype",
                format!("'{other}' is not one of auto, half, float16, bfloat16, float, float32"),
            )),
        }
    }
}

/// The engine a release really runs on this GPU: from 0.8 (V1 by default) to 0.10, a GPU below
/// compute capability 8.0 (Volta, Turing) runs V0 instead ("Compute Capability < 8.0 is not
/// supported by the V1 Engine. Falling back to V0.", logged by 0.8.2 and 0.10.1.1 on T4s, which
/// then serve with XFormers); 0.11 removed V0, and V1 serves these GPUs itself (FlexAttention,
/// later Triton). Every other case keeps `version`.
pub fn v0_fallback(version: EngineVersion, gpu: &GpuSpec, release: Option<&str>) -> EngineVersion {
    let pre_ampere = matches!(
        gpu.architecture,
        crate::spec::GpuArch::Volta | crate::spec::GpuArch::Turing
    );
    let v1_default_with_v0 = release
        .and_then(release_patch)
        .is_some_and(|r| ((0, 8, 0)..(0, 11, 0)).contains(&r));
    if version == EngineVersion::Vllm010 && pre_ampere && v1_default_with_v0 {
        EngineVersion::Vllm06
    } else {
        version
    }
}

/// The release from which `--dtype auto` falls back to float16 on a GPU without bfloat16
/// instead of refusing: vLLM PR #17265 ("Auto fallback to float16 for pre-Ampere GPUs when
/// detected bfloat16 config", merged 2025-04-27). A 0.8.5.post1 engine on a Colab T4 still
/// resolved auto to `torch.bfloat16` (unsloth issue #2887, 2025-07), and 0.9.2 logs print the
/// fallback ("Your device 'Tesla T4' (with compute capability 7.5) doesn't support
/// torch.bfloat16. Falling back to torch.float16 for compatibility."), so 0.9.0 is the first.
pub const DTYPE_AUTO_FALLBACK_FROM: (u32, u32, u32) = (0, 9, 0);

/// The weights' and activations' dtype vLLM serves `model` in on `gpu` for `--dtype flag`, or
/// its start-up refusal:
/// - `auto`: the checkpoint's dtype (a float32 checkpoint is cast down to float16). On a GPU
///   without bfloat16 (compute capability below 8.0: Volta, Turing) a bfloat16 checkpoint is
///   refused before 0.9.0 and served as float16 from 0.9.0 ([`DTYPE_AUTO_FALLBACK_FROM`]);
///   Gemma 2/3 and GLM-4, which vLLM will not run in float16, fall back to float32 there, which
///   servecast refuses (it models 16-bit serving);
/// - `bfloat16` on such a GPU: refused by every release, with vLLM's message
///   (`_check_if_gpu_supports_dtype`, later `CudaPlatform.check_if_supports_dtype`);
/// - `float32`: refused (servecast models 16-bit serving).
///
/// No release given: the current rule.
pub fn resolve_dtype(flag: DtypeFlag, model: &ModelSpec, gpu: &GpuSpec, release: Option<&str>) -> Result<Dtype> {
    use crate::spec::GpuArch;
    let no_bf16 = matches!(gpu.architecture, GpuArch::Volta | GpuArch::Turing);
    let refusal = || {
        let capability = if gpu.architecture == GpuArch::Volta {
            "7.0"
        } else {
            "7.5"
        };
        // The V0 worker's `_check_if_gpu_supports_dtype` joins "the" and "`dtype`" without a
        // space; V1's `CudaPlatform.check_if_supports_dtype` has one. Up to 0.9 a GPU below
        // compute capability 8.0 runs V0 ("Compute Capability < 8.0 is not supported by the V1
        // Engine. Falling back to V0."); from 0.10 V1 serves it (FlexAttention, later Triton).
        let v1 = release.and_then(release_patch).is_none_or(|r| r >= (0, 10, 0));
        let the = if v1 { "the " } else { "the" };
        value_error(
            RefusalKind::InvalidConfig,
            format!(
                "Bfloat16 is only supported on GPUs with compute capability of at least 8.0. Your {} GPU has \
                 compute capability {capability}. You can use float16 instead by explicitly setting {the}`dtype` \
                 flag in CLI, for example: --dtype=half.",
                gpu.name
            ),
        )
    };
    let float32 = |why: &str| {
        Error::invalid(
            "engine",
            "dtype",
            format!(
                "{why}: vLLM would serve {} in float32, and servecast models 16-bit serving only",
                model.id
            ),
        )
    };
    match flag {
        DtypeFlag::Float16 => Ok(Dtype::F16),
        DtypeFlag::Bfloat16 if no_bf16 => Err(refusal()),
        DtypeFlag::Bfloat16 => Ok(Dtype::Bf16),
        DtypeFlag::Float32 => Err(float32("--dtype float32")),
        DtypeFlag::Auto => {
            let config = match model.dtype {
                Dtype::F32 => Dtype::F16,
                d => d,
            };
            if config != Dtype::Bf16 || !no_bf16 {
                return Ok(config);
            }
            let falls_back = release
                .and_then(release_patch)
                .is_none_or(|r| r >= DTYPE_AUTO_FALLBACK_FROM);
            if !falls_back {
                return Err(refusal());
            }
            // vllm/config `_FLOAT16_NOT_SUPPORTED_MODELS` ("Numerical instability").
            let no_f16 = model.vllm_architecture.as_deref().and_then(|a| match a {
                "Gemma2ForCausalLM" => Some("gemma2"),
                "Gemma3ForCausalLM" => Some("gemma3_text"),
                "Gemma3ForConditionalGeneration" => Some("gemma3"),
                "Glm4ForCausalLM" => Some("glm4"),
                _ => None,
            });
            // The list grew over releases (a 0.10.1.1 T4 served Gemma-3-1B in float16; 0.23's
            // fell back to float32 for Gemma 2): applied from 0.11, as the current source has it.
            let listed = release.and_then(release_patch).is_none_or(|r| r >= (0, 11, 0));
            if let Some(model_type) = no_f16.filter(|_| listed) {
                return Err(float32(&format!(
                    "{} has no bfloat16, and vLLM will not run model type '{model_type}' in float16",
                    gpu.name
                )));
            }
            Ok(Dtype::F16)
        }
    }
}

/// Parses a byte count as vLLM's `human_readable_int` does for `--kv-cache-memory`: digits with
/// an optional decimal suffix (`k`, `m`, `g`, `t`: powers of 1000) or binary suffix (`K`, `M`,
/// `G`, `T`: powers of 1024); `20G` is 20 GiB. Fractions are allowed with decimal suffixes only.
pub fn parse_human_bytes(text: &str, origin: &str) -> Result<u64> {
    let t = text.trim();
    let bad = || {
        Error::invalid(
            origin,
            "kv_cache_memory_bytes",
            format!("'{text}' is not a byte count (e.g. 21474836480, 20G, 21.5g)"),
        )
    };
    let (number, factor, binary) = match t.chars().last() {
        Some(c @ ('k' | 'm' | 'g' | 't')) => (
            &t[..t.len() - 1],
            1000f64.powi(" kmgt".find(c).unwrap_or(0) as i32),
            false,
        ),
        Some(c @ ('K' | 'M' | 'G' | 'T')) => (
            &t[..t.len() - 1],
            1024f64.powi(" KMGT".find(c).unwrap_or(0) as i32),
            true,
        ),
        _ => (t, 1.0, false),
    };
    if binary && number.contains('.') {
        return Err(bad());
    }
    let value: f64 = number.parse().map_err(|_| bad())?;
    let bytes = value * factor;
    if !(bytes.is_finite() && (1.0..1e18).contains(&bytes)) {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// vLLM's `--kv-cache-dtype` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum KvCacheDtype {
    /// The model's own dtype.
    #[default]
    Auto,
    /// 8-bit float (e4m3 on CUDA), one byte per element.
    Fp8,
    /// 8-bit float, e4m3 layout.
    Fp8E4m3,
    /// 8-bit float, e5m2 layout.
    Fp8E5m2,
}

impl KvCacheDtype {
    /// Parses vLLM's spelling (`auto`, `fp8`, `fp8_e4m3`, `fp8_e5m2`).
    pub fn parse(text: &str, origin: &str) -> Result<KvCacheDtype> {
        match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "auto" => Ok(KvCacheDtype::Auto),
            "fp8" => Ok(KvCacheDtype::Fp8),
            "fp8_e4m3" => Ok(KvCacheDtype::Fp8E4m3),
            "fp8_e5m2" => Ok(KvCacheDtype::Fp8E5m2),
            other => Err(Error::invalid(
                origin,
                "kv_cache_dtype",
                format!("'{other}' is not one of auto, fp8, fp8_e4m3, fp8_e5m2"),
            )),
        }
    }

    /// The element type stored for a model whose weights are `model_dtype`.
    pub fn resolve(self, model_dtype: Dtype) -> Dtype {
        match self {
            KvCacheDtype::Auto => model_dtype,
            _ => Dtype::Fp8,
        }
    }
}

/// vLLM's `--quantization` methods servecast costs: how many bytes a linear-layer weight takes
/// and which tensor-core rate its GEMMs run at. Embeddings, the LM head and norms stay in the
/// model's dtype, as vLLM loads them for these methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantization {
    /// 16-bit weights, said explicitly (`--quantization none`, or a sweep value): overrides a
    /// report's setting; a pre-quantized checkpoint cannot be served this way.
    #[serde(rename = "none")]
    Unquantized,
    /// FP8 weights, one byte each with a per-channel scale; W8A8 on GPUs with FP8 tensor cores
    /// (Ada, Hopper, Blackwell), else W8A16 (Marlin) at the 16-bit rate.
    Fp8,
    /// AWQ 4-bit weights in groups of 128 (an FP16 scale and a 4-bit zero point per group),
    /// W4A16: dequantised in the GEMM, 16-bit tensor-core rate.
    Awq,
    /// AWQ through the Marlin kernels (same bytes as `awq`).
    AwqMarlin,
    /// GPTQ 4-bit weights in groups of 128 (an FP16 scale and a packed zero point per group), W4A16.
    Gptq,
    /// GPTQ through the Marlin kernels (same bytes as `gptq`).
    GptqMarlin,
    /// GPTQ 8-bit weights in groups of 128 (a checkpoint whose `quantization_config.bits` is 8,
    /// e.g. Qwen's `…-GPTQ-Int8`), W8A16.
    GptqInt8,
    /// MXFP4 (OCP microscaling): 4-bit E2M1 weights with an 8-bit shared exponent per 32, as
    /// gpt-oss ships its routed experts (the rest stays 16-bit). FP4 tensor cores on Blackwell;
    /// elsewhere dequantised in 16-bit GEMMs (Marlin / Triton kernels).
    Mxfp4,
    /// NVFP4 (`modelopt_fp4`): 4-bit E2M1 weights with an FP8 scale per 16 and a per-tensor FP32
    /// scale. FP4 tensor cores on Blackwell; refused elsewhere by vLLM's kernels.
    #[serde(rename = "modelopt_fp4", alias = "nvfp4")]
    Nvfp4,
}

impl Quantization {
    /// Parses vLLM's spelling (`none`, `fp8`, `awq`, `awq_marlin`, `gptq`, `gptq_marlin`;
    /// `gptq_int8` for 8-bit GPTQ).
    pub fn parse(text: &str, origin: &str) -> Result<Quantization> {
        match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "none" => Ok(Quantization::Unquantized),
            "fp8" => Ok(Quantization::Fp8),
            "awq" => Ok(Quantization::Awq),
            "awq_marlin" => Ok(Quantization::AwqMarlin),
            "gptq" => Ok(Quantization::Gptq),
            "gptq_marlin" => Ok(Quantization::GptqMarlin),
            "gptq_int8" => Ok(Quantization::GptqInt8),
            "mxfp4" => Ok(Quantization::Mxfp4),
            "modelopt_fp4" | "nvfp4" => Ok(Quantization::Nvfp4),
            other => Err(Error::invalid(
                origin,
                "quantization",
                format!(
                    "'{other}' is not one of none, fp8, awq, awq_marlin, gptq, gptq_marlin, gptq_int8, mxfp4, \
                     modelopt_fp4"
                ),
            )),
        }
    }

    /// Whether vLLM serves a checkpoint quantized as `checkpoint` when told `self`: the same
    /// method, or its Marlin kernel (awq → awq_marlin, gptq → gptq_marlin).
    pub fn serves(self, checkpoint: Quantization) -> bool {
        use Quantization::*;
        self == checkpoint
            || matches!(
                (checkpoint, self),
                (Awq, AwqMarlin) | (Gptq, GptqMarlin) | (GptqInt8, GptqMarlin) | (GptqInt8, Gptq)
            )
    }

    /// vLLM's name for the method.
    pub fn name(self) -> &'static str {
        match self {
            Quantization::Unquantized => "none",
            Quantization::Fp8 => "fp8",
            Quantization::Awq => "awq",
            Quantization::AwqMarlin => "awq_marlin",
            Quantization::Gptq => "gptq",
            Quantization::GptqMarlin => "gptq_marlin",
            Quantization::GptqInt8 => "gptq_int8",
            Quantization::Mxfp4 => "mxfp4",
            Quantization::Nvfp4 => "modelopt_fp4",
        }
    }

    /// Bytes one linear-layer weight takes, scales and zero points included.
    pub fn bytes_per_weight(self) -> f64 {
        match self {
            Quantization::Unquantized => 2.0,
            Quantization::Fp8 => 1.0,
            // 8 bits + (2-byte scale + packed zero) per 128-weight group.
            Quantization::GptqInt8 => 1.0 + 3.0 / 128.0,
            // 4 bits + (2-byte scale + 4-bit zero) per 128-weight group.
            Quantization::Awq | Quantization::AwqMarlin | Quantization::Gptq | Quantization::GptqMarlin => {
                0.5 + 2.5 / 128.0
            }
            // 4 bits + one 8-bit E8M0 scale per 32 weights.
            Quantization::Mxfp4 => 0.5 + 1.0 / 32.0,
            // 4 bits + one FP8 scale per 16 weights.
            Quantization::Nvfp4 => 0.5 + 1.0 / 16.0,
        }
    }

    /// Whether a MoE checkpoint in this format quantizes only its routed experts (gpt-oss's
    /// MXFP4: attention, router, embeddings and LM head stay 16-bit).
    pub fn experts_only(self) -> bool {
        self == Quantization::Mxfp4
    }

    /// Whether the GEMMs run on 4-bit floating-point tensor cores (Blackwell's FP4 rate).
    pub fn is_fp4(self) -> bool {
        matches!(self, Quantization::Mxfp4 | Quantization::Nvfp4)
    }
}

impl EngineFlags {
    /// Checks the values that are wrong whatever the model and GPU: `gpu_memory_utilization` in
    /// (0, 1], `scheduler_delay_factor` finite and ≥ 0, the speculative config's own ranges;
    /// errors name `{prefix}{flag}`. (The rest is checked when the flags are resolved.)
    pub fn check_values(&self, origin: &str, prefix: &str) -> Result<()> {
        if let Some(u) = self
            .gpu_memory_utilization
            .filter(|u| !(u.is_finite() && *u > 0.0 && *u <= 1.0))
        {
            return Err(Error::invalid(
                origin,
                format!("{prefix}gpu_memory_utilization"),
                format!("{u} is outside the allowed range (0, 1]"),
            ));
        }
        if let Some(d) = self.scheduler_delay_factor.filter(|d| !(d.is_finite() && *d >= 0.0)) {
            return Err(Error::invalid(
                origin,
                format!("{prefix}scheduler_delay_factor"),
                format!("{d} must be a finite number ≥ 0"),
            ));
        }
        if let Some(c) = &self.speculative_config {
            c.resolve(origin, None)?;
        }
        Ok(())
    }

    /// Fills unset fields from `other` (used to layer CLI flags over a report's flags).
    pub fn or(&self, other: &EngineFlags) -> EngineFlags {
        EngineFlags {
            gpu_memory_utilization: self.gpu_memory_utilization.or(other.gpu_memory_utilization),
            max_num_seqs: self.max_num_seqs.or(other.max_num_seqs),
            max_model_len: self.max_model_len.or(other.max_model_len),
            max_num_batched_tokens: self.max_num_batched_tokens.or(other.max_num_batched_tokens),
            block_size: self.block_size.or(other.block_size),
            enable_chunked_prefill: self.enable_chunked_prefill.or(other.enable_chunked_prefill),
            enable_prefix_caching: self.enable_prefix_caching.or(other.enable_prefix_caching),
            tensor_parallel_size: self.tensor_parallel_size.or(other.tensor_parallel_size),
            usage_context: self.usage_context.or(other.usage_context),
            scheduler_delay_factor: self.scheduler_delay_factor.or(other.scheduler_delay_factor),
            kv_cache_dtype: self.kv_cache_dtype.or(other.kv_cache_dtype),
            quantization: self.quantization.or(other.quantization),
            async_scheduling: self.async_scheduling.or(other.async_scheduling),
            kv_cache_memory_bytes: self.kv_cache_memory_bytes.or(other.kv_cache_memory_bytes),
            num_scheduler_steps: self.num_scheduler_steps.or(other.num_scheduler_steps),
            multi_step_stream_outputs: self.multi_step_stream_outputs.or(other.multi_step_stream_outputs),
            enable_expert_parallel: self.enable_expert_parallel.or(other.enable_expert_parallel),
            speculative_config: self
                .speculative_config
                .clone()
                .or_else(|| other.speculative_config.clone()),
            dtype: self.dtype.or(other.dtype),
        }
    }
}

/// A resolved, validated engine configuration: every value set, every vLLM start-up rule checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngineConfig {
    /// Engine version simulated.
    pub version: EngineVersion,
    /// Fraction of total device memory the engine may use.
    pub gpu_memory_utilization: f64,
    /// Most sequences scheduled in one step.
    pub max_num_seqs: u32,
    /// Longest prompt + output in tokens.
    pub max_model_len: u32,
    /// Token budget of one step.
    pub max_num_batched_tokens: u32,
    /// Tokens per KV block.
    pub block_size: u32,
    /// Whether long prompts are split over steps and mixed with decodes.
    pub enable_chunked_prefill: bool,
    /// Whether KV blocks of shared prompt prefixes are reused.
    pub enable_prefix_caching: bool,
    /// GPUs per engine (tensor parallel).
    pub tensor_parallel_size: u32,
    /// Whether a MoE model's experts are spread whole over the ranks (`--enable-expert-parallel`;
    /// false for dense models, where vLLM has nothing to spread).
    pub enable_expert_parallel: bool,
    /// How the engine was started.
    pub usage_context: UsageContext,
    /// vLLM V0's `--scheduler-delay-factor` (0: no delay).
    pub scheduler_delay_factor: f64,
    /// Element type of the KV cache (`--kv-cache-dtype`; the served dtype unless fp8).
    pub kv_cache_dtype: Dtype,
    /// Element type the weights and activations are served in (`--dtype`, resolved for this GPU
    /// and release by [`resolve_dtype`]); float16 and bfloat16 take the same bytes.
    pub dtype: Dtype,
    /// How the linear layers' weights are stored (`--quantization`, or the checkpoint's own).
    pub quantization: Option<Quantization>,
    /// The release line whose host-side code runs (and whose learned priors apply).
    pub release_line: ReleaseLine,
    /// Whether the engine schedules step k+1 while step k runs on the GPU
    /// (`--async-scheduling`; the default from 0.14).
    pub async_scheduling: bool,
    /// Fixed wait of the API server's micro-batching tokenizer before it encodes a prompt,
    /// seconds: 2 ms in 0.10.0 – 0.2x (`AsyncMicrobatchTokenizer`, `batch_wait_timeout_s`), else 0
    /// (docs/research/frontend.md §3–4); 0 when no OpenAI server tokenizes (engine built directly).
    pub tokenizer_wait_s: f64,
    /// `--kv-cache-memory`: the KV cache's size per GPU when given, bytes (util is then ignored).
    pub kv_cache_memory_bytes: Option<u64>,
    /// Speculative decoding, when configured.
    pub speculative: Option<crate::spec::speculative::SpecDecode>,
    /// Decode steps per scheduling pass (vLLM 0.6 `--num-scheduler-steps`; 1: every step is scheduled).
    pub num_scheduler_steps: u32,
    /// How a multi-step pass hands its tokens to the clients (ignored with one step).
    pub multi_step_output: MultiStepOutput,
    /// How the KV pool's blocks are shared (vLLM V1's hybrid manager): groups of full-attention
    /// layers, groups of sliding-window layers, and the blocks a sliding group keeps per request
    /// (the window's blocks and one more; 0 without sliding groups). A uniform model is (1, 0, 0).
    pub kv_groups: KvGroups,
    /// The stated vLLM release (`0.21.1`), which decides the memory accounting of that release
    /// (CUDA-graph memory inside the budget from 0.20); None: the modelled engine's own.
    pub release: Option<String>,
}

/// vLLM's command line refusing a flag its release does not have (argparse, exit code 2):
/// `vllm serve: error: unrecognized arguments: --num-scheduler-steps 8`.
pub fn unrecognized_argument(flag_and_value: &str) -> Error {
    Error::EngineRefused {
        kind: RefusalKind::InvalidConfig,
        message: format!(
            "usage: vllm serve [model_tag] [options]\nvllm serve: error: unrecognized arguments: {flag_and_value}"
        ),
    }
}

/// The KV pool's sharing between attention kinds (see [`EngineConfig::kv_groups`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KvGroups {
    /// Groups of full-attention layers (count, ≥ 0).
    pub full: u32,
    /// Groups of sliding-window layers (count, ≥ 0).
    pub sliding: u32,
    /// Blocks one sliding group holds per request at most: cdiv(window, block_size) + 1.
    pub window_blocks: u32,
    /// Groups of recurrent (mamba / linear-attention) layers (count): each holds one block per
    /// request, its state, whatever the length.
    pub recurrent: u32,
}

impl KvGroups {
    /// One uniform pool: every layer holds a block per `block_size` tokens.
    pub const UNIFORM: KvGroups = KvGroups {
        full: 1,
        sliding: 0,
        window_blocks: 0,
        recurrent: 0,
    };

    /// Blocks of the shared pool a request of `tokens` tokens holds: one per `block_size`
    /// tokens in each full group, at most `window_blocks` in each sliding group.
    pub fn blocks_for(&self, tokens: u64, block_size: u32) -> u64 {
        let per_group = tokens.div_ceil(u64::from(block_size.max(1)));
        if self.sliding == 0 && self.full == 1 && self.recurrent == 0 {
            return per_group;
        }
        let state = if tokens > 0 { u64::from(self.recurrent) } else { 0 };
        u64::from(self.full) * per_group
            + u64::from(self.sliding) * per_group.min(u64::from(self.window_blocks))
            + state
    }
}

/// How vLLM V1's KV cache manager groups a model's layers (`kv_cache_utils`,
/// `_get_kv_cache_groups_uniform_page_size`): one group when every layer attends alike (and on
/// V0 / nano-vllm); with full and sliding-window layers, groups of the smaller kind's layer count
/// — from 0.18 the larger kind's when it is below 1.5 × the smaller — padding the last group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCounts {
    /// Layers per group (the KV tensors one block spans).
    pub group_size: u32,
    /// Groups of full-attention layers.
    pub full: u32,
    /// Groups of sliding-window layers.
    pub sliding: u32,
    /// The sliding window, tokens (0 without sliding groups).
    pub window: u32,
    /// Groups of recurrent (mamba / linear-attention) layers.
    pub recurrent: u32,
}

/// [`GroupCounts`] of `model` on `version` at `release`.
pub fn kv_group_counts(model: &ModelSpec, version: EngineVersion, release: Option<&str>) -> GroupCounts {
    let layers = model.kv_layers().max(1);
    let sliding = model.sliding_layers().min(layers);
    let window = model.sliding_window.map_or(0, |w| w.window);
    let full = layers - sliding;
    let recurrent = model.recurrent_layers();
    if version != EngineVersion::Vllm010 || (sliding == 0 && recurrent == 0) {
        return GroupCounts {
            group_size: layers,
            full: 1,
            sliding: 0,
            window: 0,
            recurrent: 0,
        };
    }
    if full == 0 && recurrent == 0 {
        // Every layer slides: one uniform sliding-window group.
        return GroupCounts {
            group_size: layers,
            full: 0,
            sliding: 1,
            window,
            recurrent: 0,
        };
    }
    // Layers of each kind present (one spec each), split into groups of one size.
    let kinds: Vec<u32> = [full, sliding, recurrent].into_iter().filter(|&n| n > 0).collect();
    let min = kinds.iter().copied().min().unwrap_or(1).max(1);
    let max = kinds.iter().copied().max().unwrap_or(1).max(1);
    let wide = release.and_then(release_number).is_none_or(|r| r >= (0, 18));
    let group_size = if wide && f64::from(max) < 1.5 * f64::from(min) {
        max
    } else {
        min
    };
    GroupCounts {
        group_size,
        full: full.div_ceil(group_size),
        sliding: sliding.div_ceil(group_size),
        window: if sliding > 0 { window } else { 0 },
        recurrent: recurrent.div_ceil(group_size),
    }
}

/// How vLLM V1 keeps a hybrid model's recurrent state per request (`mamba_cache_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MambaCacheMode {
    /// Prefix caching off: one state block per request in each recurrent group.
    None,
    /// Prefix caching on, states kept at block boundaries only: two blocks per request per group
    /// (the running state and the last boundary's), as 0.18+ does for a model without mamba
    /// prefix caching (Qwen3-Next).
    Align,
    /// Prefix caching on, a state per block of tokens: a recurrent group holds blocks like an
    /// attention group (0.13–0.17 always; 0.18+ for models that declare mamba prefix caching).
    All,
}

/// The mode `model` runs in with prefix caching `prefix` at `release` (None for attention-only
/// models and with prefix caching off).
pub fn mamba_cache_mode(model: &ModelSpec, prefix: bool, release: Option<&str>) -> MambaCacheMode {
    let Some(r) = model.recurrent else {
        return MambaCacheMode::None;
    };
    if !prefix {
        return MambaCacheMode::None;
    }
    let gdn = r.kind == crate::spec::model::RecurrentKind::GatedDeltaNet;
    match release.and_then(release_number) {
        Some(v) if v < (0, 18) => MambaCacheMode::All,
        _ if gdn => MambaCacheMode::Align,
        _ => MambaCacheMode::All,
    }
}

/// A hybrid model's page sizes on one rank: the state of one recurrent layer (vLLM's
/// `MambaSpec.page_size_bytes` before padding) and one token of one attention layer
/// (`FullAttentionSpec(block_size=1).page_size_bytes`), bytes; (0, 0) for other models.
pub fn hybrid_pages(model: &ModelSpec, tp: u32, kv_dtype: Dtype, release: Option<&str>) -> (u64, u64) {
    match model.recurrent {
        Some(r) => (
            r.state_bytes_per_layer(tp, model.dtype, ssm_state_dtype(model, release)),
            model.kv_elements_per_token_per_layer(tp) * kv_dtype.bytes(),
        ),
        None => (0, 0),
    }
}

/// The temporal state's dtype vLLM keeps for `model` at `release` (`--mamba-ssm-cache-dtype
/// auto`). Nemotron-H: 0.12 and before keep `auto`, the model's dtype, whatever the checkpoint's
/// config says; from 0.13 `NemotronHForCausalLMConfig` replaces `auto` with the config's
/// `mamba_ssm_cache_dtype`, else float16 (float32 from 0.20). Other families: the config's
/// (`mamba_ssm_cache_dtype`, Qwen3.5's `mamba_ssm_dtype`), else the model's dtype. No release:
/// the newest rules.
pub fn ssm_state_dtype(model: &ModelSpec, release: Option<&str>) -> Dtype {
    let Some(r) = model.recurrent else {
        return model.dtype;
    };
    let number = release.and_then(release_number);
    if r.nemotron_h_state_rule {
        if number.is_some_and(|v| v < (0, 13)) {
            return model.dtype;
        }
        let default = if number.is_none_or(|v| v >= (0, 20)) {
            Dtype::F32
        } else {
            Dtype::F16
        };
        return r.ssm_state_dtype.unwrap_or(default);
    }
    r.ssm_state_dtype.unwrap_or(model.dtype)
}

/// The attention block vLLM gives a hybrid model: `a · ⌈state page / (a · attention bytes per
/// token)⌉` tokens, or with a state per block of tokens (mamba cache mode "all") the next
/// multiple of lcm(the scan's chunk, a) — 0 for other models.
pub fn hybrid_block_tokens(
    model: &ModelSpec,
    gpu: &GpuSpec,
    tp: u32,
    kv_dtype: Dtype,
    prefix: bool,
    release: Option<&str>,
) -> u64 {
    let (mamba, token) = hybrid_pages(model, tp, kv_dtype, release);
    if mamba == 0 || token == 0 {
        return 0;
    }
    let align = hybrid_block_alignment(model, gpu, release);
    if mamba_cache_mode(model, prefix, release) == MambaCacheMode::All {
        let base = model.recurrent.map_or(0, |r| u64::from(r.chunk_size));
        let base = if base == 0 { 2048 } else { base };
        let chunk = base / gcd(base, align) * align;
        return chunk * mamba.div_ceil(token).div_ceil(chunk);
    }
    align * mamba.div_ceil(align * token)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The multiple a hybrid model's attention block is rounded up to (`kernel_block_alignment_size`
/// of `HybridAttentionMambaModelConfig`): 16, or 32 on Blackwell for head size 256 with
/// FlashInfer in 0.11.2–0.17 (FlashInfer takes no 16-token pages there; 0.18 dropped the rule),
/// tokens.
pub fn hybrid_block_alignment(model: &ModelSpec, gpu: &GpuSpec, release: Option<&str>) -> u64 {
    let blackwell_256 = gpu.architecture == crate::spec::GpuArch::Blackwell && model.head_dim == 256;
    let ruled = release
        .and_then(release_patch)
        .is_some_and(|r| ((0, 11, 2)..(0, 18, 0)).contains(&r));
    if blackwell_256 && ruled {
        32
    } else {
        16
    }
}

/// Formats a refusal as vLLM prints it (`ValueError: …`).
pub fn value_error(kind: RefusalKind, text: String) -> Error {
    Error::EngineRefused {
        kind,
        message: format!("ValueError: {text}"),
    }
}

impl EngineFlags {
    /// Resolves defaults for `version` and checks the configuration as the engine does at start-up.
    ///
    /// Defaults: vLLM 0.5/0.6 `vllm/config.py` and `engine/arg_utils.py`; vLLM 0.10.2
    /// `engine/arg_utils.py::_set_default_args_v1`; nano-vllm `nanovllm/config.py`.
    pub fn resolve(
        &self,
        version: EngineVersion,
        model: &ModelSpec,
        gpu: &GpuSpec,
        origin: &str,
    ) -> Result<EngineConfig> {
        self.resolve_release(version, None, model, gpu, origin)
    }

    /// [`EngineFlags::resolve`] for a stated vLLM release (`0.14.1`), which decides the release
    /// line, async scheduling's default and the tokenizer's micro-batch wait.
    pub fn resolve_release(
        &self,
        version: EngineVersion,
        release: Option<&str>,
        model: &ModelSpec,
        gpu: &GpuSpec,
        origin: &str,
    ) -> Result<EngineConfig> {
        let version = v0_fallback(version, gpu, release);
        let release_line = ReleaseLine::of(version, release);
        crate::spec::registry::check(model.vllm_architecture.as_deref(), version, release)?;
        crate::spec::registry::check_layer_kinds(model, release)?;
        crate::spec::registry::check_mla_cache(model, version, release)?;
        crate::spec::registry::check_quantization(self.quantization, version, release)?;
        if self.async_scheduling == Some(true) && version != EngineVersion::Vllm010 {
            return Err(Error::invalid(
                origin,
                "async_scheduling",
                format!("--async-scheduling needs vLLM's V1 engine (0.11 or later); {version} has none"),
            ));
        }
        let speculative = match &self.speculative_config {
            None => None,
            Some(_) if version != EngineVersion::Vllm010 => {
                return Err(Error::invalid(
                    origin,
                    "speculative_config",
                    format!(
                        "servecast models speculative decoding on vLLM's V1 engine (0.8 and later); {version} is not"
                    ),
                ))
            }
            Some(c) => Some(c.resolve(origin, Some(model))?),
        };
        // Async scheduling works with EAGLE-family and MTP proposers only (draft models too from
        // 0.31); vLLM turns it off for the others, and refuses it when asked for explicitly.
        let spec_blocks_async = speculative.as_ref().is_some_and(|s| {
            use crate::spec::speculative::SpecMethod::*;
            match s.method {
                Eagle | Eagle3 | Mtp => false,
                DraftModel => release.and_then(release_number).is_none_or(|r| r < (0, 31)),
                Ngram | Suffix => true,
            }
        });
        if spec_blocks_async && self.async_scheduling == Some(true) {
            return Err(value_error(
                RefusalKind::InvalidConfig,
                "Currently, async scheduling is only supported with EAGLE/MTP kind of speculative decoding."
                    .to_string(),
            ));
        }
        let async_scheduling = self.async_scheduling.unwrap_or(release_line.async_scheduling()) && !spec_blocks_async;
        let api_tokenizes = self.usage_context.unwrap_or_default() == UsageContext::OpenaiApiServer;
        let micro_batch = match release.and_then(release_number) {
            Some((0, minor)) => (10..=24).contains(&minor),
            Some(_) => false,
            None => matches!(release_line, ReleaseLine::V1 | ReleaseLine::V1Async),
        };
        let tokenizer_wait_s = if api_tokenizes && micro_batch && version == EngineVersion::Vllm010 {
            0.002
        } else {
            0.0
        };
        let delay = self.scheduler_delay_factor.unwrap_or(0.0);
        if !(delay.is_finite() && delay >= 0.0) {
            return Err(Error::invalid(
                origin,
                "scheduler_delay_factor",
                format!("{delay} must be a finite number ≥ 0"),
            ));
        }
        let release_number_given = release.and_then(release_number);
        if self.scheduler_delay_factor.is_some() && release_number_given.is_some_and(|r| r >= (0, 11)) {
            // V0 and its flags are gone from 0.11 on: argparse stops the start-up (exit 2).
            return Err(unrecognized_argument(&format!("--scheduler-delay-factor {delay}")));
        }
        let num_scheduler_steps =
            match self.num_scheduler_steps {
                None | Some(1) => 1,
                Some(steps) if release_number_given.is_some_and(|r| r >= (0, 11)) => {
                    return Err(unrecognized_argument(&format!("--num-scheduler-steps {steps}")));
                }
                Some(0) => return Err(Error::invalid(origin, "num_scheduler_steps", "must be ≥ 1")),
                Some(steps)
                    if release_number_given.is_some_and(|r| r < (0, 5))
                        || release.is_some_and(|r| r.split('.').count() > 2)
                            && release.and_then(release_patch).is_some_and(|r| r < (0, 5, 5)) =>
                {
                    // Multi-step arrived in 0.5.5 (its arg_utils.py is the first to take the flag);
                    // a release given as `0.5` is its line's last, 0.5.5.
                    return Err(unrecognized_argument(&format!("--num-scheduler-steps {steps}")));
                }
                Some(_) if !version.is_v0() => return Err(Error::invalid(
                    origin,
                    "num_scheduler_steps",
                    "multi-step scheduling is a V0 feature: run the V0 engine (vllm-0.6; VLLM_USE_V1=0 on 0.8–0.10)",
                )),
                Some(steps) => steps,
            };
        if delay > 0.0 && !version.is_v0() {
            return Err(Error::invalid(
                origin,
                "scheduler_delay_factor",
                format!("{version} has no scheduler delay; only vLLM V0 (vllm-0.5, vllm-0.6) delays prompts"),
            ));
        }
        let dtype = resolve_dtype(self.dtype.unwrap_or_default(), model, gpu, release)?;
        let kv_cache_dtype = match (version, self.kv_cache_dtype.unwrap_or_default()) {
            (_, KvCacheDtype::Auto) => dtype,
            (EngineVersion::NanoVllm, _) => {
                return Err(Error::invalid(
                    origin,
                    "kv_cache_dtype",
                    "nano-vllm has no --kv-cache-dtype: its KV cache holds the model's dtype",
                ))
            }
            (_, fp8) => fp8.resolve(dtype),
        };
        // vllm/config.py ModelConfig._verify_quantization: a checkpoint's own method wins; a flag
        // that names another method (other than its Marlin kernel) stops the start-up.
        let quantization = match (self.quantization, model.checkpoint_quantization) {
            (Some(flag), Some(ckpt)) if !flag.serves(ckpt) => {
                return Err(value_error(
                    RefusalKind::InvalidConfig,
                    format!(
                        "Quantization method specified in the model config ({}) does not match the \
                         quantization method specified in the `quantization` argument ({}).",
                        ckpt.name(),
                        flag.name()
                    ),
                ))
            }
            (flag, ckpt) => flag.or(ckpt).filter(|q| *q != Quantization::Unquantized),
        };
        // An AWQ or GPTQ checkpoint served without `--quantization` runs on the Marlin kernels
        // where the GPU has them (NVIDIA, compute capability ≥ 8.0) and the release offers them:
        // vLLM logs "The model is convertible to awq_marlin during runtime. Using awq_marlin
        // kernel." (`AWQMarlinConfig.override_quantization_method`, likewise GPTQ's). A flag
        // naming the base method keeps it ("forcing awq").
        let quantization = match (self.quantization, quantization) {
            (None, Some(base @ (Quantization::Awq | Quantization::Gptq))) => {
                let marlin = if base == Quantization::Awq {
                    Quantization::AwqMarlin
                } else {
                    Quantization::GptqMarlin
                };
                let capable = !matches!(
                    gpu.architecture,
                    crate::spec::GpuArch::Volta
                        | crate::spec::GpuArch::Turing
                        | crate::spec::GpuArch::Cdna3
                        | crate::spec::GpuArch::Cdna4
                );
                let offered = crate::spec::registry::offers_quantization(marlin, version, release);
                Some(if capable && offered { marlin } else { base })
            }
            (_, q) => q,
        };
        if let (EngineVersion::NanoVllm, Some(q)) = (version, quantization) {
            return Err(Error::invalid(
                origin,
                "quantization",
                format!(
                    "nano-vllm loads 16-bit weights only; it cannot serve {} weights",
                    q.name()
                ),
            ));
        }
        // The model loader checks each method's `get_min_capability()` against the GPU's compute
        // capability. The minimums servecast checks have held in every release it models: AWQ
        // 75 (a V100 log under 0.8.5.post1: "Minimum capability: 75. Current capability: 70."),
        // MXFP4 80 (0.10.1+). The Marlin and FP8 minimums moved between releases (90, 89, 80,
        // 75) and are left unchecked.
        if let Some(q) = quantization {
            let capability = match gpu.architecture {
                crate::spec::GpuArch::Volta => Some(70),
                crate::spec::GpuArch::Turing => Some(75),
                _ => None,
            };
            let minimum = match q {
                Quantization::Awq => Some(75),
                Quantization::Mxfp4 => Some(80),
                _ => None,
            };
            if let (Some(c), Some(m)) = (capability, minimum) {
                if c < m {
                    return Err(value_error(
                        RefusalKind::InvalidConfig,
                        format!(
                            "The quantization method {} is not supported for the current GPU. Minimum capability: \
                             {m}. Current capability: {c}.",
                            q.name()
                        ),
                    ));
                }
            }
        }
        // 0.92 from 0.20.0, when CUDA-graph memory moved into the budget (config/cache.py).
        let default_util = match release.and_then(release_number) {
            Some(r) if version == EngineVersion::Vllm010 && r >= (0, 20) => 0.92,
            _ => 0.9,
        };
        let util = self.gpu_memory_utilization.unwrap_or(default_util);
        if !(util.is_finite() && util > 0.0 && util <= 1.0) {
            return Err(Error::invalid(
                origin,
                "gpu_memory_utilization",
                format!("{util} is outside the allowed range (0, 1]"),
            ));
        }
        let tp = self.tensor_parallel_size.unwrap_or(1);
        if tp == 0 || tp > 64 {
            return Err(Error::invalid(
                origin,
                "tensor_parallel_size",
                format!("{tp} is outside 1..=64"),
            ));
        }
        if !model.num_attention_heads.is_multiple_of(tp) {
            return Err(value_error(
                RefusalKind::InvalidConfig,
                format!(
                    "Total number of attention heads ({}) must be divisible by tensor parallel size ({tp}).",
                    model.num_attention_heads
                ),
            ));
        }
        let derived_len = model.max_position_embeddings;
        let max_model_len = match (version, self.max_model_len) {
            (_, Some(0)) => {
                return Err(Error::invalid(origin, "max_model_len", "must be ≥ 1 token"));
            }
            (EngineVersion::NanoVllm, Some(len)) => len.min(derived_len),
            (EngineVersion::NanoVllm, None) => 4096.min(derived_len),
            (_, Some(len)) if len > derived_len => {
                let head = format!(
                    "User-specified max_model_len ({len}) is greater than the derived max_model_len \
                     (max_position_embeddings={derived_len} or model_max_length=None in model's config.json)."
                );
                let tail = if version == EngineVersion::Vllm010 {
                    " To allow overriding this maximum, set the env var VLLM_ALLOW_LONG_MAX_MODEL_LEN=1. \
                     VLLM_ALLOW_LONG_MAX_MODEL_LEN must be used with extreme caution. If the model uses relative \
                     position encoding (RoPE), positions exceeding derived_max_model_len lead to nan. If the model \
                     uses absolute position encoding, positions exceeding derived_max_model_len will cause a CUDA \
                     array out-of-bounds error."
                } else {
                    " This may lead to incorrect model outputs or CUDA errors. To allow overriding this maximum, \
                     set the env var VLLM_ALLOW_LONG_MAX_MODEL_LEN=1"
                };
                return Err(value_error(RefusalKind::InvalidConfig, format!("{head}{tail}")));
            }
            (_, Some(len)) => len,
            (_, None) => derived_len,
        };
        let block_size = match version {
            EngineVersion::NanoVllm => self.block_size.unwrap_or(256),
            // MLA backends force their page size: FlashMLA 64 on Hopper, CUTLASS MLA 128 on
            // Blackwell, Triton MLA keeps 16 elsewhere (platforms/cuda.py check_and_update_config).
            EngineVersion::Vllm010 if model.mla.is_some() => match gpu.architecture {
                crate::spec::GpuArch::Hopper => 64,
                crate::spec::GpuArch::Blackwell => 128,
                _ => self.block_size.unwrap_or(16),
            },
            _ => self.block_size.unwrap_or(16),
        };
        let kv_cache_memory_bytes = match self.kv_cache_memory_bytes {
            None => None,
            Some(_)
                if version != EngineVersion::Vllm010
                    || release.and_then(release_number).is_some_and(|r| r < (0, 11)) =>
            {
                return Err(Error::invalid(
                    origin,
                    "kv_cache_memory_bytes",
                    format!(
                        "--kv-cache-memory arrived in vLLM 0.11 (V1); {} has no such flag",
                        release.map_or(version.to_string(), |r| format!("vLLM {r}"))
                    ),
                ))
            }
            Some(0) => return Err(Error::invalid(origin, "kv_cache_memory_bytes", "must be ≥ 1 byte")),
            Some(b) => Some(b),
        };
        match version {
            EngineVersion::NanoVllm => {
                if block_size == 0 || block_size % 256 != 0 {
                    return Err(Error::EngineRefused {
                        kind: RefusalKind::InvalidConfig,
                        message: format!(
                            "AssertionError: assert self.kvcache_block_size % 256 == 0 (kvcache_block_size = {block_size})"
                        ),
                    });
                }
            }
            EngineVersion::Vllm010 => {
                if ![1, 8, 16, 32, 64, 128].contains(&block_size) {
                    return Err(Error::invalid(
                        origin,
                        "block_size",
                        format!("{block_size} is not one of vLLM 0.10's choices 1, 8, 16, 32, 64, 128"),
                    ));
                }
            }
            _ => {
                if ![8, 16, 32].contains(&block_size) {
                    return Err(Error::invalid(
                        origin,
                        "block_size",
                        format!("{block_size} is not one of vLLM 0.5/0.6's choices 8, 16, 32"),
                    ));
                }
            }
        }
        let usage = self.usage_context.unwrap_or_default();
        let big_gpu = large_batch_defaults(gpu, release);
        let (chunked, prefix, default_seqs, default_batched) = match version {
            EngineVersion::Vllm010 => {
                let (seqs, batched) = match usage {
                    UsageContext::OpenaiApiServer if big_gpu => (1024, 8192),
                    UsageContext::OpenaiApiServer => (256, 2048),
                    UsageContext::LlmClass if big_gpu => (1024, 16384),
                    UsageContext::LlmClass => (256, 8192),
                    UsageContext::EngineContext => (128, 2048),
                };
                // V1 always chunks prefills for generative models, whatever the flag says
                // (engine/arg_utils.py::_set_default_args_v1).
                (true, self.enable_prefix_caching.unwrap_or(true), seqs, batched)
            }
            EngineVersion::Vllm06 | EngineVersion::Vllm0600 | EngineVersion::Vllm05 => {
                // Chunked prefill turns itself on only for max_model_len > 32K (vllm/engine/arg_utils.py).
                let chunked = self.enable_chunked_prefill.unwrap_or(max_model_len > 32768);
                // Multi-step chunked prefill cannot split prompts: its budget is a whole prompt
                // (config.py, 0.6.3).
                let batched = if chunked && num_scheduler_steps == 1 {
                    512
                } else {
                    max_model_len.max(2048)
                };
                (chunked, self.enable_prefix_caching.unwrap_or(false), 256, batched)
            }
            EngineVersion::NanoVllm => (
                self.enable_chunked_prefill.unwrap_or(false),
                self.enable_prefix_caching.unwrap_or(true),
                512,
                16384,
            ),
        };
        if self.max_num_batched_tokens == Some(0) {
            return Err(Error::invalid(
                origin,
                "max_num_batched_tokens",
                "must be ≥ 1 token (and, without chunked prefill, at least max_model_len)",
            ));
        }
        if self.max_num_seqs == Some(0) {
            return Err(Error::invalid(origin, "max_num_seqs", "must be ≥ 1"));
        }
        let capped_default = match (version, usage) {
            // vLLM 0.10 caps the usage-context default at max_num_batched_tokens.
            (EngineVersion::Vllm010, UsageContext::OpenaiApiServer | UsageContext::LlmClass) => {
                default_seqs.min(self.max_num_batched_tokens.unwrap_or(u32::MAX))
            }
            _ => default_seqs,
        };
        let max_num_seqs = self.max_num_seqs.unwrap_or(capped_default);
        if max_num_seqs == 0 {
            return Err(Error::invalid(origin, "max_num_seqs", "must be ≥ 1"));
        }
        let multi_step_output = multi_step_output(version, release, self.multi_step_stream_outputs)?;
        if num_scheduler_steps > 1 && chunked && release.and_then(release_patch).is_none_or(|r| r < (0, 6, 3)) {
            // arg_utils.py of 0.6.0–0.6.2 (chunked prefill turns itself on past 32K tokens first).
            return Err(value_error(
                RefusalKind::InvalidConfig,
                "Chunked prefill is not supported with multi-step (--num-scheduler-steps > 1)".to_string(),
            ));
        }
        let mut max_num_batched_tokens = self.max_num_batched_tokens.unwrap_or(default_batched);
        if version == EngineVersion::Vllm010 && self.max_num_batched_tokens.is_none() {
            // SchedulerConfig caps the default at max_num_seqs × max_model_len.
            max_num_batched_tokens =
                max_num_batched_tokens.min((max_num_seqs as u64 * max_model_len as u64).min(u32::MAX as u64) as u32);
            if !chunked {
                max_num_batched_tokens = max_num_batched_tokens.max(max_model_len);
            }
        }
        if max_num_batched_tokens == 0 {
            return Err(Error::invalid(origin, "max_num_batched_tokens", "must be ≥ 1"));
        }
        if version == EngineVersion::NanoVllm {
            if max_num_batched_tokens < max_model_len {
                return Err(Error::EngineRefused {
                    kind: RefusalKind::BatchedTokensBelowModelLen,
                    message: format!(
                        "AssertionError: assert self.max_num_batched_tokens >= self.max_model_len \
                         (max_num_batched_tokens = {max_num_batched_tokens}, max_model_len = {max_model_len})"
                    ),
                });
            }
        } else {
            // vllm/config.py SchedulerConfig._verify_args (0.5, 0.6) and vllm/config/scheduler.py (0.10.2).
            if max_num_batched_tokens < max_model_len && !chunked {
                return Err(value_error(
                    RefusalKind::BatchedTokensBelowModelLen,
                    format!(
                        "max_num_batched_tokens ({max_num_batched_tokens}) is smaller than max_model_len ({max_model_len}). \
                         This effectively limits the maximum sequence length to max_num_batched_tokens and makes vLLM \
                         reject longer sequences. Please increase max_num_batched_tokens or decrease max_model_len."
                    ),
                ));
            }
            if max_num_batched_tokens < max_num_seqs {
                return Err(value_error(
                    RefusalKind::BatchedTokensBelowNumSeqs,
                    format!(
                        "max_num_batched_tokens ({max_num_batched_tokens}) must be greater than or equal to max_num_seqs ({max_num_seqs})."
                    ),
                ));
            }
        }
        // A hybrid model (mamba / linear-attention layers beside attention): V1's hybrid KV cache
        // manager only; the attention block grows until one block's page holds a layer's state.
        let (block_size, prefix) = match model.recurrent {
            None => (block_size, prefix),
            Some(_) => {
                let supported = version == EngineVersion::Vllm010
                    && release.and_then(release_patch).is_none_or(|r| r >= (0, 10, 2));
                if !supported {
                    return Err(Error::invalid(
                        origin,
                        "recurrent",
                        format!(
                            "{} mixes attention with mamba / linear-attention layers: servecast models such \
                             hybrids on vLLM V1 from 0.10.2 (its hybrid KV cache manager), not on {}",
                            model.name,
                            release.map_or(version.to_string(), |r| format!("vLLM {r}"))
                        ),
                    ));
                }
                let release_num = release.and_then(release_number);
                // Prefix caching: forced off in 0.10.2–0.11, off by default until 0.26
                // (`is_prefix_caching_supported` says "still experimental"), on from 0.26.
                // 0.13–0.17 disable it for a model without mamba prefix caching (Qwen3-Next).
                let gdn = model
                    .recurrent
                    .is_some_and(|r| r.kind == crate::spec::model::RecurrentKind::GatedDeltaNet);
                let prefix = match release_num {
                    Some(r) if r < (0, 13) => false,
                    Some(r) if r < (0, 18) && gdn => false,
                    Some(r) if r < (0, 26) => self.enable_prefix_caching.unwrap_or(false),
                    _ => self.enable_prefix_caching.unwrap_or(true),
                };
                let needed = hybrid_block_tokens(model, gpu, tp, kv_cache_dtype, prefix, release);
                let needed = u32::try_from(needed).map_err(|_| {
                    Error::invalid(
                        origin,
                        "recurrent",
                        "the state page needs an attention block of over 2^32 tokens",
                    )
                })?;
                // vLLM raises the block when the user set none or too small a one.
                (block_size.max(needed), prefix)
            }
        };
        let mut config = EngineConfig {
            version,
            gpu_memory_utilization: util,
            max_num_seqs,
            max_model_len,
            max_num_batched_tokens,
            block_size,
            enable_chunked_prefill: chunked,
            enable_prefix_caching: prefix,
            tensor_parallel_size: tp,
            enable_expert_parallel: self.enable_expert_parallel.unwrap_or(false) && model.moe.is_some() && tp > 1,
            usage_context: usage,
            scheduler_delay_factor: delay,
            kv_cache_dtype,
            dtype,
            quantization,
            release_line,
            async_scheduling,
            tokenizer_wait_s,
            kv_cache_memory_bytes,
            speculative,
            num_scheduler_steps,
            multi_step_output,
            kv_groups: KvGroups::UNIFORM,
            release: release.map(str::to_string),
        };
        let groups = kv_group_counts(model, version, release);
        if groups.sliding > 0 || groups.recurrent > 0 {
            let (state_full, state_blocks) = match mamba_cache_mode(model, prefix, release) {
                MambaCacheMode::All => (groups.recurrent, 0),
                MambaCacheMode::Align => (0, 2 * groups.recurrent),
                MambaCacheMode::None => (0, groups.recurrent),
            };
            config.kv_groups = KvGroups {
                full: groups.full + state_full,
                sliding: groups.sliding,
                window_blocks: if groups.sliding > 0 {
                    groups.window.div_ceil(block_size.max(1)) + 1
                } else {
                    0
                },
                recurrent: state_blocks,
            };
        }
        Ok(config)
    }
}

/// How a multi-step pass (`--num-scheduler-steps N`) hands its tokens to the clients, per release
/// (docs/research/vllm-memory-current.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultiStepOutput {
    /// 0.5.5: the engine processes a pass's outputs only after its last step
    /// (`_process_model_outputs` runs once `_has_remaining_steps` is false): every token of the
    /// pass, and every finish, reaches the clients together.
    AtPassEnd,
    /// 0.6.0–0.6.2 by default (and `--multi-step-stream-outputs False` later): outputs are created
    /// at the pass's last step, but a request that finishes mid-pass is emitted at once.
    AtPassEndFinishesAtOnce,
    /// 0.6.3 on by default (`--multi-step-stream-outputs`): every step's tokens as it ends.
    EveryStep,
}

/// The release's [`MultiStepOutput`], refusing `--multi-step-stream-outputs` where argparse had no
/// such flag (before 0.6.2, and from 0.11 with multi-step itself).
fn multi_step_output(version: EngineVersion, release: Option<&str>, flag: Option<bool>) -> Result<MultiStepOutput> {
    let patch = release.and_then(release_patch);
    let has_flag = match patch {
        Some(r) => ((0, 6, 2)..(0, 11, 0)).contains(&r),
        None => version.is_v0() && version != EngineVersion::Vllm05 && version != EngineVersion::Vllm0600,
    };
    if let Some(stream) = flag {
        if !has_flag {
            let shown = if stream { "" } else { " False" };
            return Err(unrecognized_argument(&format!("--multi-step-stream-outputs{shown}")));
        }
    }
    let before_063 = match patch {
        Some(r) => r < (0, 6, 3),
        None => matches!(version, EngineVersion::Vllm05 | EngineVersion::Vllm0600),
    };
    let finishes_wait = match patch {
        Some(r) => r < (0, 6, 0),
        None => version == EngineVersion::Vllm05,
    };
    Ok(if flag.unwrap_or(!before_063) {
        MultiStepOutput::EveryStep
    } else if finishes_wait {
        MultiStepOutput::AtPassEnd
    } else {
        MultiStepOutput::AtPassEndFinishesAtOnce
    })
}

/// Whether V1 gives this GPU its larger batch defaults (max_num_seqs 1024; token budget 8192 for
/// the API server, 16384 for the LLM class), as `engine/arg_utils.py::_set_default_args_v1` of
/// each release decides: up to 0.8.4, a device named H100 or H200 (vllm#12369); 0.8.5, any device
/// with ≥ 70 GiB (vllm#17073, which brought A100 80 GB in); from 0.9.0, ≥ 70 GiB and not an A100
/// (vllm#17885: the larger budget cost A100s throughput). No release given: the current rule.
pub fn large_batch_defaults(gpu: &GpuSpec, release: Option<&str>) -> bool {
    let name = gpu.name.to_ascii_lowercase();
    let large_memory = gpu.memory_total_bytes as f64 >= 70.0 * GIB;
    match release.and_then(release_patch) {
        Some(r) if r < (0, 8, 5) => name.contains("h100") || name.contains("h200"),
        Some(r) if r < (0, 9, 0) => large_memory,
        _ => large_memory && !name.contains("a100"),
    }
}

/// `(major, minor, patch)` of a release string (`v0.8.5.post1` → (0, 8, 5); patch 0 when absent).
/// None when it is no release number, including a third part that does not start with digits
/// (`0.8.abc`), so a typo is refused rather than read as `0.8.0`.
pub fn release_patch(release: &str) -> Option<(u32, u32, u32)> {
    let (major, minor) = release_number(release)?;
    let t = release.trim().to_ascii_lowercase();
    let t = t
        .trim_start_matches("vllm")
        .trim_start_matches(['-', '=', '_', ' ', 'v']);
    let patch = match t.split(['.', 'r', '+']).nth(2) {
        None => 0,
        Some(p) => {
            let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()?
        }
    };
    Some((major, minor, patch))
}

/// The newest vLLM release whose rules servecast models (`major.minor`); a later release runs
/// with this one's rules and its release line's host costs.
pub const NEWEST_MODELLED_RELEASE: (u32, u32) = (0, 31);

/// `(major, minor)` of a release string (`v0.6.3.post1` → (0, 6)).
pub fn release_number(release: &str) -> Option<(u32, u32)> {
    let mut parts = release_parts(release);
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => Some((major, minor)),
        _ => None,
    }
}

/// The numbered parts of a release (`vllm-0.6.3.post1` → 0, 6, 3, then `None` for `post1`; an
/// `rc` or `+` ends a part).
fn release_parts(release: &str) -> impl Iterator<Item = Option<u32>> {
    let t = release.trim().to_ascii_lowercase();
    let t = t
        .trim_start_matches("vllm")
        .trim_start_matches(['-', '=', '_', ' ', 'v']);
    t.split(['.', 'r', '+'])
        .map(|p| p.parse::<u32>().ok())
        .collect::<Vec<_>>()
        .into_iter()
}

/// `(major, minor, patch)` of a stated release (`0.11.0`, `v0.11.0`, `0.6.3.post1`); `None` when
/// the patch is not stated (`0.11`) or the text is not a release.
pub fn release_triple(release: &str) -> Option<(u32, u32, u32)> {
    let mut parts = release_parts(release);
    match (parts.next().flatten(), parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor), Some(patch)) => Some((major, minor, patch)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_triple_needs_its_patch_stated() {
        assert_eq!(release_triple("0.11.0"), Some((0, 11, 0)));
        assert_eq!(release_triple("v0.11.0"), Some((0, 11, 0)));
        assert_eq!(release_triple("vllm-0.11.1"), Some((0, 11, 1)));
        assert_eq!(release_triple("0.6.3.post1"), Some((0, 6, 3)));
        assert_eq!(release_triple("0.11.0rc1"), Some((0, 11, 0)));
        assert_eq!(release_triple("0.11"), None);
        assert_eq!(release_triple("nightly"), None);
    }

    #[test]
    fn releases_fall_in_their_lines() {
        let l = |e, r| ReleaseLine::of(e, r);
        assert_eq!(l(EngineVersion::Vllm05, Some("0.4.0.post1")), ReleaseLine::V05);
        assert_eq!(l(EngineVersion::Vllm06, Some("0.6.3.post1")), ReleaseLine::V06);
        assert_eq!(l(EngineVersion::Vllm06, Some("v0.7.3")), ReleaseLine::V06);
        assert_eq!(l(EngineVersion::Vllm010, Some("0.10.2")), ReleaseLine::V1);
        // VLLM_USE_V1=0 on 0.8.4: V0's host code.
        assert_eq!(l(EngineVersion::Vllm06, Some("0.8.4")), ReleaseLine::V06);
        assert_eq!(l(EngineVersion::Vllm010, Some("0.13.0")), ReleaseLine::V1);
        assert_eq!(l(EngineVersion::Vllm010, Some("0.14.0")), ReleaseLine::V1Async);
        assert_eq!(l(EngineVersion::Vllm010, Some("0.24.1rc2")), ReleaseLine::V1Async);
        assert_eq!(l(EngineVersion::Vllm010, Some("0.25.0")), ReleaseLine::V1Mrv2);
        assert_eq!(l(EngineVersion::Vllm010, Some("1.0")), ReleaseLine::V1Mrv2);
        assert_eq!(l(EngineVersion::Vllm010, None), ReleaseLine::V1);
        assert_eq!(l(EngineVersion::Vllm0600, None), ReleaseLine::V06);
        assert_eq!(l(EngineVersion::NanoVllm, Some("0.1")), ReleaseLine::NanoVllm);
        assert!(ReleaseLine::V1Async.async_scheduling() && !ReleaseLine::V1.async_scheduling());
    }

    #[test]
    fn larger_batch_defaults_follow_each_releases_gpu_rule() {
        let catalog = crate::spec::Catalog::builtin().unwrap();
        let gpu = |id: &str| catalog.gpu(id).unwrap().clone();
        let (a100, h100, l40s) = (gpu("a100-80g-sxm"), gpu("h100-sxm"), gpu("l40s"));
        assert_eq!(release_patch("v0.8.5.post1"), Some((0, 8, 5)));
        assert_eq!(release_patch("0.9"), Some((0, 9, 0)));
        assert_eq!(release_patch("0.24.1rc2"), Some((0, 24, 1)));
        assert_eq!(release_patch("0.8.abc"), None);
        assert!(EngineVersion::parse("vllm-0.8.abc", "--engine").is_err());
        // 0.8.4: by name; 0.8.5: by memory (A100 80 GB included); 0.9.0 on: A100s excluded.
        assert!(!large_batch_defaults(&a100, Some("0.8.4")) && large_batch_defaults(&h100, Some("0.8.4")));
        assert!(large_batch_defaults(&a100, Some("0.8.5.post1")));
        assert!(!large_batch_defaults(&a100, Some("0.9.2")) && large_batch_defaults(&h100, Some("0.9.2")));
        assert!(!large_batch_defaults(&l40s, Some("0.8.5")) && !large_batch_defaults(&l40s, None));
    }

    #[test]
    fn releases_map_to_the_scheduler_they_run() {
        let p = |t: &str| EngineVersion::parse(t, "test").unwrap();
        assert_eq!(p("vllm-0.10.2"), EngineVersion::Vllm010);
        assert_eq!(p("v1"), EngineVersion::Vllm010);
        assert_eq!(p("0.8.5"), EngineVersion::Vllm010, "V1 is the default from 0.8");
        assert_eq!(p("vllm-0.11.2"), EngineVersion::Vllm010);
        assert_eq!(p("vllm==0.13.0"), EngineVersion::Vllm010);
        assert_eq!(p("1.0"), EngineVersion::Vllm010);
        assert_eq!(p("0.7.3"), EngineVersion::Vllm06, "0.7 still runs V0 by default");
        assert_eq!(p("v0"), EngineVersion::Vllm06);
        assert_eq!(p("0.6.3.post1"), EngineVersion::Vllm06);
        assert_eq!(p("vllm-0.6.1"), EngineVersion::Vllm0600);
        assert_eq!(p("0.5.4"), EngineVersion::Vllm05);
        assert_eq!(p("0.4.2"), EngineVersion::Vllm05, "0.2–0.5 run the same V0 scheduler");
        assert_eq!(p("nano-vllm"), EngineVersion::NanoVllm);
        for bad in ["0.1.7", "sglang", ""] {
            let e = EngineVersion::parse(bad, "--engine");
            assert!(e.is_err(), "{bad}: {e:?}");
        }
    }
}
