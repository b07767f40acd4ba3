//! Model specifications: transformer shapes, parameter counts, KV-cache bytes and FLOPs per token.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Transformer family; decides the parameter and FLOP formulas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// Gated SwiGLU MLP (3 matrices), RMSNorm, rotary positions, GQA, no biases except the optional
    /// q/k/v bias (Llama 2/3, Mistral, Qwen2/2.5/3).
    Llama,
    /// GELU MLP (2 matrices) with biases, LayerNorm, learned positions, multi-head attention (GPT-2).
    Gpt2,
}

/// Numeric type of weights and KV cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Dtype {
    /// IEEE half precision, 2 bytes.
    #[serde(rename = "float16", alias = "fp16", alias = "half")]
    F16,
    /// bfloat16, 2 bytes.
    #[serde(rename = "bfloat16", alias = "bf16")]
    Bf16,
    /// IEEE single precision, 4 bytes.
    #[serde(rename = "float32", alias = "fp32", alias = "float")]
    F32,
    /// 8-bit float (e4m3/e5m2), 1 byte.
    #[serde(rename = "fp8", alias = "float8")]
    Fp8,
}

impl Dtype {
    /// Bytes per element.
    pub fn bytes(self) -> u64 {
        match self {
            Dtype::F16 | Dtype::Bf16 => 2,
            Dtype::F32 => 4,
            Dtype::Fp8 => 1,
        }
    }

    /// The name vLLM and Hugging Face use (`float16`, `bfloat16`, `float32`, `fp8`).
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F16 => "float16",
            Dtype::Bf16 => "bfloat16",
            Dtype::F32 => "float32",
            Dtype::Fp8 => "fp8",
        }
    }
}

/// One served model: the shapes that decide weight memory, KV-cache bytes and FLOPs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Short id, e.g. `qwen2.5-7b-instruct`, `indextts2-gpt`.
    pub id: String,
    /// Full name, usually the Hugging Face repo id (`Qwen/Qwen2.5-7B-Instruct`).
    pub name: String,
    /// Other names the model is known by (matched loosely by the catalog).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Transformer family.
    pub architecture: Architecture,
    /// Decoder layers of the main LM (count).
    pub num_hidden_layers: u32,
    /// Hidden size d (elements).
    pub hidden_size: u32,
    /// Query heads (count).
    pub num_attention_heads: u32,
    /// Key/value heads (count; equals `num_attention_heads` without GQA).
    pub num_key_value_heads: u32,
    /// Elements per attention head.
    pub head_dim: u32,
    /// MLP inner size (elements).
    pub intermediate_size: u32,
    /// Rows of the LM head (tokens); 0 when the LM has no token head (VoxCPM).
    pub vocab_size: u32,
    /// The max_model_len the engine derives by default (tokens; IndexTTS-2 GPT as served: 1818).
    pub max_position_embeddings: u32,
    /// Whether the LM head shares the token-embedding matrix.
    pub tie_word_embeddings: bool,
    /// Whether q/k/v projections have biases (Llama family only; GPT-2 always has biases).
    pub qkv_bias: bool,
    /// Dtype of weights and KV cache when served with `dtype=auto`.
    pub dtype: Dtype,
    /// Parameter count (count) of the served graph when the formula does not describe it.
    #[serde(default)]
    pub params_total_override: Option<u64>,
    /// TTS models: generated tokens per second of audio (tokens/s); `None` for text LLMs.
    #[serde(default)]
    pub audio_tokens_per_s: Option<f64>,
    /// TTS models: how a text of N characters becomes prompt and output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tts_text: Option<TtsText>,
    /// FLOPs per generated token spent outside the paged-KV LM (e.g. VoxCPM's diffusion head); 0 for LLMs.
    #[serde(default)]
    pub extra_flops_per_decode_token: f64,
    /// Weight bytes read again in every step beyond one pass over all weights (e.g. a diffusion
    /// head run for several solver steps re-reads its weights each time), bytes.
    #[serde(default)]
    pub extra_weight_reads_bytes_per_step: u64,
    /// TTS models: FLOPs per generated token of the audio decoder (vocoder / VAE) that runs in
    /// FP32 outside the LM, once per step for the whole batch; 0 when there is none.
    #[serde(default)]
    pub vocoder_fp32_flops_per_output_token: f64,
    /// Weights of that audio decoder, read once per step, bytes.
    #[serde(default)]
    pub vocoder_weight_bytes: u64,
    /// Layers that own paged KV cache when not `num_hidden_layers` (count; VoxCPM: 24 base + 8 residual).
    #[serde(default)]
    pub kv_layers_override: Option<u32>,
    /// The checkpoint's own weight quantization (`quantization_config.quant_method` of a
    /// pre-quantized checkpoint), which vLLM applies unless `--quantization` says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_quantization: Option<crate::spec::engine::Quantization>,
    /// Mixture-of-experts MLPs (Mixtral, Qwen-MoE, DeepSeek, gpt-oss, Llama 4, GLM-4.5); `None`
    /// for dense models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moe: Option<MoeSpec>,
    /// Multi-head latent attention (DeepSeek-V2/V3, Kimi K2): the KV cache holds one compressed
    /// latent per token per layer instead of K and V per head; `None` for ordinary attention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mla: Option<MlaSpec>,
    /// Sliding-window (local) attention on some or all layers (Mistral v0.1, Gemma 2/3, gpt-oss).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sliding_window: Option<SlidingWindow>,
    /// Parameters outside the decoder that vLLM loads (a vision tower), count; they take memory
    /// but no per-token text FLOPs.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub extra_params: u64,
    /// The part of `extra_params` a text step never reads (count): a vision tower, which runs
    /// only on images.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub unstreamed_params: u64,
    /// Whether attention adds a learned sink logit per head (gpt-oss). vLLM then picks an
    /// attention backend that supports sinks: FlashAttention 3 on Hopper, FlashInfer on Blackwell,
    /// its Triton kernels on Ampere and Ada (vllm/platforms/cuda.py, 0.10.1+).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attention_sinks: bool,
    /// What the model's default chat template adds around one user message, for requests to
    /// `/v1/chat/completions` (none: not catalogued; such a workload is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_template: Option<ChatTemplate>,
    /// Layers that keep a recurrent state per sequence in place of a KV cache (mamba, gated delta
    /// nets) in a hybrid model (Qwen3-Next, Nemotron-H, Granite 4.0-H, Jamba); `None` for
    /// attention-only models. Its KV layers (`kv_layers_override`) are the attention layers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrent: Option<RecurrentSpec>,
    /// Decoder layers with an MLP, when that is neither every layer of a hybrid model nor the KV
    /// layers of an attention-only one (count; Nemotron-H interleaves MLP-only layers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlp_layers_override: Option<u32>,
    /// The model class vLLM's registry loads it with (the config's `architectures[0]`, e.g.
    /// `Qwen3MoeForCausalLM`): a release whose registry lacks it refuses to start
    /// ([`crate::spec::registry`]); `None` for models served outside vLLM's registry (TTS heads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vllm_architecture: Option<String>,
    /// Where the numbers come from.
    pub source: String,
    /// How a name the catalog does not list was read as one of its entries (a pre-quantized
    /// checkpoint of a listed model: "llama-3.1-8b with fp8 weights, from the name's -FP8"), for
    /// the report to say; `None` for a listed name or a config.json.
    #[serde(skip)]
    pub resolved_from: Option<String>,
}

/// The recurrent mixer of a hybrid model's non-attention layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecurrentKind {
    /// Mamba (selective scan, Jamba): state (intermediate, d_state) per layer.
    Mamba,
    /// Mamba-2 (SSD: Nemotron-H, Granite 4.0-H, Falcon-H1, Bamba): state (heads, head_dim, d_state).
    Mamba2,
    /// Gated DeltaNet (Qwen3-Next's linear attention): state (value heads, key dim, value dim).
    GatedDeltaNet,
}

/// Per-sequence state of a hybrid model's recurrent layers, in vLLM's terms
/// (`MambaStateShapeCalculator`): a causal-convolution state of `conv_kernel − 1` inputs of
/// `conv_dim` channels and a temporal (SSM) state of `state_heads × state_rows × state_cols`,
/// channels and heads split over tensor-parallel ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurrentSpec {
    /// The mixer.
    pub kind: RecurrentKind,
    /// Decoder layers with this mixer (count).
    pub layers: u32,
    /// Channels of the causal convolution (elements; Mamba-2: intermediate + 2 × n_groups ×
    /// d_state; Gated DeltaNet: 2 × key heads × key dim + value heads × value dim; Mamba:
    /// intermediate).
    pub conv_dim: u32,
    /// Taps of the causal convolution (`conv_kernel` / `d_conv`, ≥ 2).
    pub conv_kernel: u32,
    /// Heads of the temporal state (Mamba-2: mamba heads; Gated DeltaNet: value heads; Mamba:
    /// intermediate channels), count.
    pub state_heads: u32,
    /// Rows of one head's state (Mamba-2: head_dim; Gated DeltaNet: key head dim; Mamba: 1).
    pub state_rows: u32,
    /// Columns of one head's state (Mamba-2 and Mamba: d_state; Gated DeltaNet: value head dim).
    pub state_cols: u32,
    /// Groups of B/C (Mamba-2 `n_groups`; 0 for the others): vLLM replicates them to the
    /// tensor-parallel size when they do not divide it.
    #[serde(default)]
    pub n_groups: u32,
    /// d_state of Mamba-2's groups (elements; 0 for the others): the conv channels the groups add.
    #[serde(default)]
    pub group_state: u32,
    /// Weights of one mixer (input and output projections, convolution, norms, A / D / dt), count.
    pub mixer_weights: u64,
    /// Dtype of the temporal state when the checkpoint's config sets one
    /// (`mamba_ssm_cache_dtype`); `None`: vLLM's `auto`, the model's dtype. The convolution
    /// state always takes the model's dtype.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssm_state_dtype: Option<Dtype>,
    /// The scan's chunk (`mamba_chunk_size`, else `chunk_size`; 0: none given, vLLM takes 2048),
    /// tokens: with a state per block (mamba cache mode "all") the attention block is a multiple.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub chunk_size: u32,
    /// Whether vLLM's model hook for Nemotron-H (`NemotronHForCausalLMConfig`, 0.13+) picks the
    /// temporal state's dtype when neither the flag nor the config does: float16 in 0.13–0.19,
    /// float32 from 0.20. Granite 4.0-H, Bamba and Falcon-H1 have no such hook (the model's dtype).
    #[serde(default, skip_serializing_if = "is_false")]
    pub nemotron_h_state_rule: bool,
    /// Whether every decoder layer runs attention and this mixer side by side (Falcon-H1's
    /// parallel hybrid): `layers` then counts the same decoder layers as the KV layers.
    #[serde(default, skip_serializing_if = "is_false")]
    pub parallel: bool,
}

fn is_false(v: &bool) -> bool {
    !*v
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

impl RecurrentSpec {
    /// Convolution channels one tensor-parallel rank holds: Mamba-2's B/C groups are first
    /// replicated up to `tp` when `n_groups` does not divide by it
    /// (`extra_groups_for_head_shards`), then every channel is split.
    pub fn conv_dim_per_gpu(&self, tp: u32) -> u64 {
        let tp = u64::from(tp.max(1));
        let mut dim = u64::from(self.conv_dim);
        let groups = u64::from(self.n_groups);
        if self.kind == RecurrentKind::Mamba2 && groups > 0 && !groups.is_multiple_of(tp) {
            dim += 2 * (tp - groups) * u64::from(self.group_state);
        }
        dim / tp
    }

    /// Elements of the convolution state per layer per sequence on one rank.
    pub fn conv_elements(&self, tp: u32) -> u64 {
        u64::from(self.conv_kernel.saturating_sub(1)) * self.conv_dim_per_gpu(tp)
    }

    /// Elements of the temporal state per layer per sequence on one rank.
    pub fn ssm_elements(&self, tp: u32) -> u64 {
        u64::from(self.state_heads) / u64::from(tp.max(1)) * u64::from(self.state_rows) * u64::from(self.state_cols)
    }

    /// Bytes of one layer's state (convolution and temporal) per sequence on one rank, for a
    /// model of dtype `dtype` whose temporal state vLLM keeps in `ssm`
    /// ([`crate::spec::engine::ssm_state_dtype`]) — vLLM's `MambaSpec.page_size_bytes` before
    /// padding.
    pub fn state_bytes_per_layer(&self, tp: u32, dtype: Dtype, ssm: Dtype) -> u64 {
        self.conv_elements(tp) * dtype.bytes() + self.ssm_elements(tp) * ssm.bytes()
    }

    /// Recurrence FLOPs per token per layer: the convolution (2 × channels × taps) and the
    /// state update and read-out (about 6 FLOPs per state element).
    pub fn scan_flops_per_token(&self) -> f64 {
        2.0 * f64::from(self.conv_dim) * f64::from(self.conv_kernel)
            + 6.0 * f64::from(self.state_heads) * f64::from(self.state_rows) * f64::from(self.state_cols)
    }
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

/// The MoE shape of a model: which layers route, to how many experts, of what size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoeSpec {
    /// Routed experts per MoE layer (count).
    pub num_experts: u32,
    /// Experts each token is routed to (top-k, count).
    pub num_experts_per_tok: u32,
    /// Inner size of one routed expert's gated MLP (elements).
    pub moe_intermediate_size: u32,
    /// Inner size of the always-active shared experts of a MoE layer, together (elements; 0: none).
    #[serde(default)]
    pub shared_expert_intermediate_size: u32,
    /// Decoder layers whose MLP is a MoE (count); the others run the dense `intermediate_size` MLP.
    pub moe_layers: u32,
    /// Whether each expert's matrices carry biases and the router a bias (gpt-oss).
    #[serde(default)]
    pub expert_bias: bool,
}

/// Multi-head latent attention (DeepSeek-V2 `config.json` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlaSpec {
    /// Width of the compressed KV latent (elements; 512 for DeepSeek-V2/V3).
    pub kv_lora_rank: u32,
    /// Width of the low-rank query projection (elements); `None` when q is projected directly.
    #[serde(default)]
    pub q_lora_rank: Option<u32>,
    /// Per-head query/key width without rotary positions (elements).
    pub qk_nope_head_dim: u32,
    /// Per-head rotary query/key width, shared by all heads in the cache (elements).
    pub qk_rope_head_dim: u32,
    /// Per-head value width (elements).
    pub v_head_dim: u32,
}

/// Sliding-window attention: `layers` of the model attend only to the last `window` tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlidingWindow {
    /// Tokens a query of a sliding-window layer attends to (vLLM's `sliding_window`).
    pub window: u32,
    /// Layers that use the window (count); the other KV layers attend to the whole context.
    pub layers: u32,
}

/// The tokens a model's default chat template (its `tokenizer_config.json`, or gpt-oss's
/// harmony renderer in vLLM) wraps around a single user message with no system message of the
/// client's: a chat client counts only its own prompt, the server prefills these too.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatTemplate {
    /// Tokens before the message, the same in every request (BOS, the default system message,
    /// the user turn's header), count: with prefix caching on, their full blocks are computed
    /// once and shared.
    pub prefix_tokens: u32,
    /// Tokens after the message (end of turn and the assistant's generation prompt), count.
    pub suffix_tokens: u32,
    /// What renders the conversation in vLLM's API server: the tokenizer's Jinja template
    /// (`apply_chat_template`, Python, per request) or gpt-oss's harmony renderer (Rust).
    #[serde(default, skip_serializing_if = "ChatRenderer::is_jinja")]
    pub renderer: ChatRenderer,
    /// vLLM 0.11.0's per-request parse of this Jinja template (`resolve_chat_template_kwargs`
    /// builds a sandboxed Jinja environment and parses the template on every chat request; 0.11.1
    /// caches it), ms, as measured on the reference 2-vCPU Xeon of
    /// docs/research/output-path-0.11.0.md §3. `None`: not measured, [`DEFAULT_TEMPLATE_PARSE_MS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_ms: Option<f64>,
}

/// vLLM 0.11.0's per-request parse of a Jinja chat template nobody measured, ms: the median of the
/// three measured (Qwen3's 14.0 ms, an Instruct-2507-style template's 7.3 ms, DeepSeek-R1-0528's
/// 16.3 ms; docs/research/output-path-0.11.0.md §3).
pub const DEFAULT_TEMPLATE_PARSE_MS: f64 = 14.0;

impl ChatTemplate {
    /// What vLLM 0.11.0's API server spends parsing this template for each chat request, seconds
    /// (0 for gpt-oss's harmony renderer, which does not go through Jinja).
    pub fn parse_0_11_0_s(&self) -> f64 {
        if self.renderer.is_jinja() {
            self.parse_ms.unwrap_or(DEFAULT_TEMPLATE_PARSE_MS) * 1e-3
        } else {
            0.0
        }
    }
}

/// Who renders a chat request's prompt in vLLM's API server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatRenderer {
    /// The Hugging Face tokenizer's Jinja chat template, rendered in Python for each request.
    #[default]
    Jinja,
    /// openai-harmony's renderer (gpt-oss), compiled code.
    Harmony,
}

impl ChatRenderer {
    /// True for the Jinja template (the default, left out when written).
    pub fn is_jinja(&self) -> bool {
        *self == ChatRenderer::Jinja
    }
}

/// How a TTS model's input text maps to tokens (for workloads given in characters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TtsText {
    /// Prompt tokens that do not depend on the text (conditioning latents, markers), count.
    pub prompt_fixed_tokens: u32,
    /// Prompt tokens per character of text.
    pub text_tokens_per_char: f64,
    /// Generated tokens that do not depend on the text (leading and trailing silence), count.
    #[serde(default)]
    pub speech_fixed_tokens: f64,
    /// Generated tokens per character of text at a normal speaking rate.
    pub speech_tokens_per_char: f64,
    /// Where these rates come from.
    pub source: String,
}

impl TtsText {
    /// Prompt and output tokens for a text of `chars` characters.
    pub fn tokens_for(&self, chars: u32) -> (u32, u32) {
        let input = self.prompt_fixed_tokens as f64 + chars as f64 * self.text_tokens_per_char;
        let output = (self.speech_fixed_tokens + chars as f64 * self.speech_tokens_per_char).max(1.0);
        (input.round().max(1.0) as u32, output.round() as u32)
    }
}

impl ModelSpec {
    /// Total parameters (count): the override if set, else embeddings + layers + final norm
    /// + LM head unless tied.
    pub fn params_total(&self) -> u64 {
        self.params_total_override.unwrap_or_else(|| self.params_formula())
    }

    /// Weight memory, bytes: `params_total × dtype bytes`.
    pub fn weight_bytes(&self) -> u64 {
        self.params_total().saturating_mul(self.dtype.bytes())
    }

    /// Weights of the transformer layers' linear matrices (count): the part `--quantization`
    /// stores in fewer bytes (every routed expert included).
    pub fn linear_layer_weights(&self) -> u64 {
        // The same layers `linear_flops_per_token` counts.
        (u64::from(self.kv_layers()) * self.attn_weights() + self.mlp_weights_resident() + self.mixer_weights())
            .min(self.params_total())
    }

    /// Weights of the routed experts of all MoE layers (count; 0 for dense models): the
    /// weights MXFP4 checkpoints store in 4 bits, and the part a step reads only as far as its
    /// tokens route to them.
    pub fn routed_expert_weights(&self) -> u64 {
        self.moe.map_or(0, |m| {
            u64::from(m.moe_layers) * u64::from(m.num_experts) * self.expert_weights(m.moe_intermediate_size)
        })
    }

    /// Weight memory stored with `quantization`, bytes: the linear layers at its bytes per
    /// weight, everything else (embeddings, LM head, norms, biases) in the model's dtype. MXFP4
    /// and NVFP4 checkpoints of MoE models (gpt-oss) quantize the routed experts only.
    pub fn weight_bytes_with(&self, quantization: Option<crate::spec::engine::Quantization>) -> u64 {
        let Some(q) = quantization.filter(|q| *q != crate::spec::engine::Quantization::Unquantized) else {
            return self.weight_bytes();
        };
        let quantized = if q.experts_only() && self.moe.is_some() {
            self.routed_expert_weights()
        } else {
            self.linear_layer_weights()
        }
        .min(self.params_total());
        let rest = self.params_total() - quantized;
        (quantized as f64 * q.bytes_per_weight()).round() as u64 + rest.saturating_mul(self.dtype.bytes())
    }

    /// Matmul FLOPs per token of the routed experts it is sent to (FLOP): 2 × its top-k
    /// experts' weights over the MoE layers; 0 for dense models. Part of
    /// [`ModelSpec::linear_flops_per_token`].
    pub fn routed_expert_flops_per_token(&self) -> f64 {
        self.moe.map_or(0.0, |m| {
            2.0 * (self.moe_layer_count()
                * u64::from(m.num_experts_per_tok)
                * self.expert_weights(m.moe_intermediate_size)) as f64
        })
    }

    /// Weight bytes of the routed experts stored with `quantization` (0 for dense models).
    pub fn routed_expert_bytes_with(&self, quantization: Option<crate::spec::engine::Quantization>) -> u64 {
        let experts = self.routed_expert_weights();
        match quantization.filter(|q| *q != crate::spec::engine::Quantization::Unquantized) {
            Some(q) => (experts as f64 * q.bytes_per_weight()).round() as u64,
            None => experts.saturating_mul(self.dtype.bytes()),
        }
    }

    /// Weights a text step keeps in memory but does not stream (count): an untied model's input
    /// embedding table (`vocab × hidden`; a step gathers one row per token, while a tied table
    /// is read whole as the LM head) and a vision tower ([`ModelSpec::unstreamed_params`]).
    pub fn unstreamed_weights(&self) -> u64 {
        let embedding = if self.tie_word_embeddings {
            0
        } else {
            u64::from(self.vocab_size) * u64::from(self.hidden_size)
        };
        embedding + self.unstreamed_params
    }

    /// Layers that own paged KV cache (count).
    pub fn kv_layers(&self) -> u32 {
        self.kv_layers_override.unwrap_or(self.num_hidden_layers)
    }

    /// Layers with an MLP (count): the KV layers of an attention-only model, every layer of a
    /// hybrid one, unless `mlp_layers_override` says otherwise.
    pub fn mlp_layers(&self) -> u32 {
        self.mlp_layers_override.unwrap_or(if self.recurrent.is_some() {
            self.num_hidden_layers
        } else {
            self.kv_layers()
        })
    }

    /// Layers with a recurrent (mamba / linear-attention) mixer (count; 0 for attention-only models).
    pub fn recurrent_layers(&self) -> u32 {
        self.recurrent.map_or(0, |r| r.layers)
    }

    /// Weights of every recurrent mixer (count; 0 for attention-only models).
    fn mixer_weights(&self) -> u64 {
        self.recurrent.map_or(0, |r| u64::from(r.layers) * r.mixer_weights)
    }

    /// KV layers with sliding-window attention (count; 0 without a window).
    pub fn sliding_layers(&self) -> u32 {
        self.sliding_window.map_or(0, |w| w.layers.min(self.kv_layers()))
    }

    /// KV heads stored per GPU under tensor parallelism `tp` (count): vLLM's `max(1, kv_heads / tp)`.
    pub fn kv_heads_per_gpu(&self, tp: u32) -> u32 {
        (self.num_key_value_heads / tp.max(1)).max(1)
    }

    /// KV-cache bytes per token per GPU stored as `kv_dtype` (vLLM `--kv-cache-dtype`).
    pub fn kv_bytes_per_token_as(&self, tp: u32, kv_dtype: Dtype) -> u64 {
        u64::from(self.kv_layers()) * self.kv_elements_per_token_per_layer(tp) * kv_dtype.bytes()
    }

    /// KV-cache elements one token takes in one layer on one GPU: K and V of its KV heads
    /// (`2 × kv_heads_per_gpu(tp) × head_dim`), or MLA's latent (`kv_lora_rank + qk_rope_head_dim`,
    /// the same on every tensor-parallel rank).
    pub fn kv_elements_per_token_per_layer(&self, tp: u32) -> u64 {
        match self.mla {
            Some(m) => u64::from(m.kv_lora_rank) + u64::from(m.qk_rope_head_dim),
            None => 2 * u64::from(self.kv_heads_per_gpu(tp)) * u64::from(self.head_dim),
        }
    }

    /// KV-cache bytes per token per GPU in the model's dtype: `kv_layers ×` [`Self::kv_elements_per_token_per_layer`] `× dtype bytes`.
    pub fn kv_bytes_per_token(&self, tp: u32) -> u64 {
        self.kv_bytes_per_token_as(tp, self.dtype)
    }

    /// Matmul FLOPs per token (FLOP): `2 ×` (projection and MLP weights the token passes through
    /// in every KV-owning layer — its top-k routed experts and the shared ones in a MoE layer —
    /// + LM head), excluding the embedding lookup and attention over the context.
    pub fn linear_flops_per_token(&self) -> f64 {
        let d = u64::from(self.hidden_size);
        let lm_head = u64::from(self.vocab_size) * d;
        let scan = self
            .recurrent
            .map_or(0.0, |r| f64::from(r.layers) * r.scan_flops_per_token());
        2.0 * (u64::from(self.kv_layers()) * self.attn_weights()
            + self.mlp_weights_active()
            + self.mixer_weights()
            + lm_head) as f64
            + scan
    }

    /// Activation elements one token's elementwise kernels read and write on one GPU of a
    /// tensor-parallel group of `tp` (count): per layer two fused residual-add RMSNorms (each
    /// reads and writes the hidden state and the residual, `8 × hidden`, replicated on every
    /// rank), the rotary embedding of its query and key heads (read and written, sharded), and
    /// the MLP's activation (SiLU-and-mul reads gate and up and writes their product, `3 ×
    /// intermediate` for a gated MLP, `2 ×` for GPT-2's GELU: the MLP weights a token passes
    /// through divided by the hidden size, sharded; the routed experts' top-k included), and in
    /// a MoE layer the top-k expert outputs written and summed.
    /// These kernels stream activations and are bandwidth-bound: a prompt token costs this on
    /// top of its GEMMs, which is why small models prefill slower than their FLOPs say.
    pub fn elementwise_elements_per_token(&self, tp: u32) -> f64 {
        let tp = f64::from(tp.max(1));
        let d = f64::from(self.hidden_size);
        let heads = f64::from(self.num_attention_heads) + f64::from(self.num_key_value_heads);
        let rope = 2.0 * heads * f64::from(self.head_dim) / tp;
        // A MoE layer also writes each token's top-k expert outputs and sums them (vLLM's
        // `moe_sum`: top-k rows read, one written), on every rank.
        let moe = self.moe.map_or(0.0, |m| {
            self.moe_layer_count() as f64 * (2.0 * f64::from(m.num_experts_per_tok) + 1.0) * d
        });
        f64::from(self.num_hidden_layers) * 8.0 * d
            + f64::from(self.kv_layers()) * rope
            + self.mlp_weights_active() as f64 / d / tp
            + moe
    }

    /// Attention FLOPs per token per context token (FLOP), over all KV layers: `4 × heads ×
    /// head_dim` per layer (QKᵀ and AV), or `2 × heads × (qk_nope + qk_rope + v)` for MLA.
    pub fn attn_flops_per_token_per_ctx_token(&self) -> f64 {
        let per_layer = match self.mla {
            Some(m) => {
                2.0 * f64::from(self.num_attention_heads)
                    * f64::from(m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim)
            }
            None => 4.0 * f64::from(self.num_attention_heads) * f64::from(self.head_dim),
        };
        f64::from(self.kv_layers()) * per_layer
    }

    /// Parameters of one token's active path (count): every layer's attention, the dense MLPs,
    /// the routed experts it is sent to and the shared ones, embeddings and LM head.
    pub fn params_active(&self) -> u64 {
        let inactive = self.mlp_weights_resident().saturating_sub(self.mlp_weights_active());
        self.params_total().saturating_sub(inactive)
    }

    /// Parses a Hugging Face `config.json` (Llama, Qwen2, Qwen3, Mistral, GPT-2) into a spec;
    /// `origin` names the file. max_model_len follows vLLM's `_get_and_verify_max_len`.
    pub fn from_hf_config_json(text: &str, origin: &str) -> Result<ModelSpec> {
        crate::spec::hf::parse(text, origin)
    }

    /// Checks sizes are non-zero and heads divide evenly; `origin` names the file or flag.
    pub fn validate(&self, origin: &str) -> Result<()> {
        let who = format!("model '{}'", self.id);
        if self.id.trim().is_empty() {
            return Err(Error::invalid(origin, "id", "model id must not be empty"));
        }
        if let Some(ms) = self.chat_template.and_then(|t| t.parse_ms) {
            if !(ms.is_finite() && (0.0..=1000.0).contains(&ms)) {
                return Err(Error::invalid(
                    origin,
                    "chat_template.parse_ms",
                    format!("{who}: {ms} is not a parse time in ms between 0 and 1000"),
                ));
            }
        }
        let nonzero = [
            ("num_hidden_layers", self.num_hidden_layers),
            ("hidden_size", self.hidden_size),
            ("num_attention_heads", self.num_attention_heads),
            ("num_key_value_heads", self.num_key_value_heads),
            ("head_dim", self.head_dim),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
        ];
        for (field, value) in nonzero {
            if value == 0 {
                return Err(Error::invalid(origin, field, format!("{who}: must be > 0")));
            }
        }
        if self.vocab_size == 0 && self.params_total_override.is_none() {
            return Err(Error::invalid(
                origin,
                "vocab_size",
                format!("{who}: must be > 0 unless params_total_override gives the parameter count"),
            ));
        }
        if !self.num_attention_heads.is_multiple_of(self.num_key_value_heads) {
            return Err(Error::invalid(
                origin,
                "num_key_value_heads",
                format!(
                    "{who}: num_attention_heads ({}) must be a multiple of num_key_value_heads ({})",
                    self.num_attention_heads, self.num_key_value_heads
                ),
            ));
        }
        if self.architecture == Architecture::Gpt2 && self.num_key_value_heads != self.num_attention_heads {
            return Err(Error::invalid(
                origin,
                "num_key_value_heads",
                format!("{who}: GPT-2 uses multi-head attention; kv heads must equal heads"),
            ));
        }
        if self.params_total_override == Some(0) {
            return Err(Error::invalid(
                origin,
                "params_total_override",
                format!("{who}: must be > 0"),
            ));
        }
        if let Some(r) = self.recurrent {
            for (field, value) in [
                ("recurrent.layers", u64::from(r.layers)),
                ("recurrent.conv_dim", u64::from(r.conv_dim)),
                ("recurrent.state_heads", u64::from(r.state_heads)),
                ("recurrent.state_rows", u64::from(r.state_rows)),
                ("recurrent.state_cols", u64::from(r.state_cols)),
                ("recurrent.mixer_weights", r.mixer_weights),
            ] {
                if value == 0 {
                    return Err(Error::invalid(origin, field, format!("{who}: must be > 0")));
                }
            }
            if r.conv_kernel < 2 {
                return Err(Error::invalid(
                    origin,
                    "recurrent.conv_kernel",
                    format!(
                        "{who}: must be ≥ 2 (the state holds conv_kernel − 1 inputs), got {}",
                        r.conv_kernel
                    ),
                ));
            }
            let attention = self.kv_layers();
            // A parallel hybrid's mixers share their decoder layers with the attention.
            let shared = if r.parallel { attention.min(r.layers) } else { 0 };
            if u64::from(r.layers) + u64::from(attention) - u64::from(shared) > u64::from(self.num_hidden_layers) {
                return Err(Error::invalid(
                    origin,
                    "recurrent.layers",
                    format!(
                        "{who}: {} recurrent + {attention} attention layers (kv_layers_override) exceed num_hidden_layers ({})",
                        r.layers, self.num_hidden_layers
                    ),
                ));
            }
        }
        if let Some(n) = self.mlp_layers_override {
            if n > self.num_hidden_layers {
                return Err(Error::invalid(
                    origin,
                    "mlp_layers_override",
                    format!("{who}: {n} exceeds num_hidden_layers ({})", self.num_hidden_layers),
                ));
            }
        }
        if self.kv_layers_override == Some(0) {
            return Err(Error::invalid(
                origin,
                "kv_layers_override",
                format!("{who}: must be > 0"),
            ));
        }
        if let Some(rate) = self.audio_tokens_per_s {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(Error::invalid(
                    origin,
                    "audio_tokens_per_s",
                    format!("{who}: must be a finite number > 0, got {rate}"),
                ));
            }
        }
        for (field, value) in [
            ("extra_flops_per_decode_token", self.extra_flops_per_decode_token),
            (
                "vocoder_fp32_flops_per_output_token",
                self.vocoder_fp32_flops_per_output_token,
            ),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::invalid(
                    origin,
                    field,
                    format!("{who}: must be a finite number >= 0, got {value}"),
                ));
            }
        }
        if self.source.trim().is_empty() {
            return Err(Error::invalid(
                origin,
                "source",
                format!("{who}: source must not be empty"),
            ));
        }
        Ok(())
    }

    /// Weights of the attention projections of one layer (count, without biases): q, k, v and
    /// o, or MLA's q (direct or through its low-rank `q_a`/`q_b`), `kv_a` (latent and rotary
    /// key), `kv_b` (latent to per-head key and value), o, and its two latent norms.
    fn attn_weights(&self) -> u64 {
        let d = u64::from(self.hidden_size);
        let heads = u64::from(self.num_attention_heads);
        if let Some(m) = self.mla {
            let qk = u64::from(m.qk_nope_head_dim + m.qk_rope_head_dim);
            let q = match m.q_lora_rank {
                Some(r) => d * u64::from(r) + u64::from(r) + u64::from(r) * heads * qk,
                None => d * heads * qk,
            };
            let lora = u64::from(m.kv_lora_rank);
            let kv_a = d * (lora + u64::from(m.qk_rope_head_dim)) + lora;
            let kv_b = lora * heads * u64::from(m.qk_nope_head_dim + m.v_head_dim);
            let o = heads * u64::from(m.v_head_dim) * d;
            return q + kv_a + kv_b + o;
        }
        let q = heads * u64::from(self.head_dim);
        let kv = u64::from(self.num_key_value_heads) * u64::from(self.head_dim);
        d * q + 2 * d * kv + q * d
    }

    /// Weights of one MLP of inner size `inter` (count, without biases): gate, up and down for
    /// the gated (Llama) family, fc and proj for GPT-2.
    fn expert_weights(&self, inter: u32) -> u64 {
        let d = u64::from(self.hidden_size);
        let inter = u64::from(inter);
        match self.architecture {
            Architecture::Llama => 3 * d * inter,
            Architecture::Gpt2 => 2 * d * inter,
        }
    }

    /// Layers of the KV-owning stack whose MLP is a MoE (count).
    fn moe_layer_count(&self) -> u64 {
        self.moe.map_or(0, |m| u64::from(m.moe_layers.min(self.mlp_layers())))
    }

    /// Weights of every MLP resident in memory over the KV-owning layers (count): dense MLPs,
    /// and per MoE layer its router, all routed experts and the shared experts (with gpt-oss's
    /// expert and router biases).
    fn mlp_weights_resident(&self) -> u64 {
        let dense_layers = u64::from(self.mlp_layers()) - self.moe_layer_count();
        let dense = dense_layers * self.expert_weights(self.intermediate_size);
        let Some(m) = self.moe else {
            return dense;
        };
        let d = u64::from(self.hidden_size);
        let e = u64::from(m.num_experts);
        let bias = if m.expert_bias {
            e + e * (2 * u64::from(m.moe_intermediate_size) + d)
        } else {
            0
        };
        let per_layer = d * e
            + e * self.expert_weights(m.moe_intermediate_size)
            + self.expert_weights(m.shared_expert_intermediate_size)
            + bias;
        dense + self.moe_layer_count() * per_layer
    }

    /// Weights of the MLPs one token passes through over the KV-owning layers (count): the
    /// dense MLPs, and per MoE layer the router, its top-k experts and the shared experts.
    fn mlp_weights_active(&self) -> u64 {
        let dense_layers = u64::from(self.mlp_layers()) - self.moe_layer_count();
        let dense = dense_layers * self.expert_weights(self.intermediate_size);
        let Some(m) = self.moe else {
            return dense;
        };
        let d = u64::from(self.hidden_size);
        let per_layer = d * u64::from(m.num_experts)
            + u64::from(m.num_experts_per_tok) * self.expert_weights(m.moe_intermediate_size)
            + self.expert_weights(m.shared_expert_intermediate_size);
        dense + self.moe_layer_count() * per_layer
    }

    /// Parameter count from the shapes alone (count), plus `extra_params`.
    fn params_formula(&self) -> u64 {
        let d = u64::from(self.hidden_size);
        let layers = u64::from(self.num_hidden_layers);
        let vocab = u64::from(self.vocab_size);
        let q = u64::from(self.num_attention_heads) * u64::from(self.head_dim);
        let kv = u64::from(self.num_key_value_heads) * u64::from(self.head_dim);
        let inter = u64::from(self.intermediate_size);
        let lm_head = if self.tie_word_embeddings { 0 } else { vocab * d };
        // Layers beyond the KV-owning ones (none for every family but VoxCPM's overrides) count
        // like dense ones.
        let mlp = match self.moe {
            None => layers * self.expert_weights(self.intermediate_size),
            Some(_) => {
                self.mlp_weights_resident()
                    + layers.saturating_sub(u64::from(self.kv_layers())) * self.expert_weights(self.intermediate_size)
            }
        };
        if self.recurrent.is_some() {
            // A hybrid model: attention in its KV layers, a mixer in its recurrent ones, MLPs
            // where it has them, two norms per layer.
            let mlp = self.mlp_weights_resident();
            let attn = u64::from(self.kv_layers()) * self.attn_weights();
            return vocab * d + attn + self.mixer_weights() + layers * 2 * d + mlp + d + lm_head + self.extra_params;
        }
        let core = match self.architecture {
            Architecture::Llama => {
                let bias = if self.qkv_bias && self.mla.is_none() {
                    q + 2 * kv
                } else {
                    0
                };
                vocab * d + layers * (self.attn_weights() + bias + 2 * d) + mlp + d + lm_head
            }
            Architecture::Gpt2 => {
                // qkv bias + o bias, fc bias + proj bias, two LayerNorms (weight and bias).
                let biases = q + 2 * kv + d + inter + d;
                let per_layer = self.attn_weights() + biases + 4 * d;
                let positions = u64::from(self.max_position_embeddings) * d;
                vocab * d + positions + layers * per_layer + mlp + 2 * d + lm_head
            }
        };
        core + self.extra_params
    }
}

/// Parses a model list (`models:` with one [`ModelSpec`] per entry) into validated specs;
/// `origin` names the file.
pub fn models_from_yaml(text: &str, origin: &str) -> Result<Vec<ModelSpec>> {
    let file: ModelFile = serde_saphyr::from_str(text).map_err(|e| Error::from_yaml(origin, &e))?;
    for model in &file.models {
        model.validate(origin)?;
    }
    Ok(file.models)
}

/// Top level of a model catalog file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    models: Vec<ModelSpec>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Llama-family spec from config numbers (no override).
    #[allow(clippy::too_many_arguments)]
    fn llama(
        layers: u32,
        d: u32,
        heads: u32,
        kv: u32,
        head_dim: u32,
        inter: u32,
        vocab: u32,
        tied: bool,
        bias: bool,
    ) -> ModelSpec {
        ModelSpec {
            id: "t".into(),
            name: "t".into(),
            aliases: vec![],
            architecture: Architecture::Llama,
            num_hidden_layers: layers,
            hidden_size: d,
            num_attention_heads: heads,
            num_key_value_heads: kv,
            head_dim,
            intermediate_size: inter,
            vocab_size: vocab,
            max_position_embeddings: 4096,
            tie_word_embeddings: tied,
            qkv_bias: bias,
            dtype: Dtype::Bf16,
            params_total_override: None,
            audio_tokens_per_s: None,
            tts_text: None,
            extra_flops_per_decode_token: 0.0,
            extra_weight_reads_bytes_per_step: 0,
            vocoder_fp32_flops_per_output_token: 0.0,
            vocoder_weight_bytes: 0,
            kv_layers_override: None,
            checkpoint_quantization: None,
            moe: None,
            mla: None,
            sliding_window: None,
            extra_params: 0,
            unstreamed_params: 0,
            attention_sinks: false,
            chat_template: None,
            recurrent: None,
            resolved_from: None,
            mlp_layers_override: None,
            vllm_architecture: None,
            source: "test".into(),
        }
    }

    /// (name, spec, params_total, linear_flops_per_token, attn_flops, kv_bytes_bf16) from
    /// shared/research/specs/models.yaml.
    fn research() -> Vec<(&'static str, ModelSpec, u64, f64, f64, u64)> {
        vec![
            (
                "Qwen2-0.5B",
                llama(24, 896, 14, 2, 64, 4864, 151936, true, true),
                494032768,
                987922432.0,
                86016.0,
                12288,
            ),
            (
                "Qwen2.5-1.5B",
                llama(28, 1536, 12, 2, 128, 8960, 151936, true, true),
                1543714304,
                3087138816.0,
                172032.0,
                28672,
            ),
            (
                "Qwen2.5-7B",
                llama(28, 3584, 28, 4, 128, 18944, 152064, false, true),
                7615616512,
                14140571648.0,
                401408.0,
                57344,
            ),
            (
                "Qwen2.5-14B",
                llama(48, 5120, 40, 8, 128, 13824, 152064, false, true),
                14770033664,
                27981250560.0,
                983040.0,
                196608,
            ),
            (
                "Qwen2.5-32B",
                llama(64, 5120, 40, 8, 128, 27648, 152064, false, true),
                32763876352,
                63968378880.0,
                1310720.0,
                262144,
            ),
            (
                "Qwen2.5-72B",
                llama(80, 8192, 64, 8, 128, 29568, 152064, false, true),
                72706203648,
                142916714496.0,
                2621440.0,
                327680,
            ),
            (
                "Llama-2-7b",
                llama(32, 4096, 32, 32, 128, 11008, 32000, false, false),
                6738415616,
                13214154752.0,
                524288.0,
                524288,
            ),
            (
                "Llama-2-13b",
                llama(40, 5120, 40, 40, 128, 13824, 32000, false, false),
                13015864320,
                25703219200.0,
                819200.0,
                819200,
            ),
            (
                "Llama-2-70b",
                llama(80, 8192, 64, 8, 128, 28672, 32000, false, false),
                68976648192,
                137426370560.0,
                2621440.0,
                327680,
            ),
            (
                "Llama-3.1-8B",
                llama(32, 4096, 32, 8, 128, 14336, 128256, false, false),
                8030261248,
                15009316864.0,
                524288.0,
                131072,
            ),
            (
                "Llama-3.1-70B",
                llama(80, 8192, 64, 8, 128, 28672, 128256, false, false),
                70553706496,
                139003428864.0,
                2621440.0,
                327680,
            ),
            (
                "Mistral-7B",
                llama(32, 4096, 32, 8, 128, 14336, 32000, false, false),
                7241732096,
                14220787712.0,
                524288.0,
                131072,
            ),
        ]
    }

    #[test]
    fn formula_matches_research_params_flops_and_kv() {
        for (name, spec, params, linear, attn, kv) in research() {
            assert_eq!(spec.params_total(), params, "{name} params_total");
            assert_eq!(spec.linear_flops_per_token(), linear, "{name} linear flops");
            assert_eq!(spec.attn_flops_per_token_per_ctx_token(), attn, "{name} attn flops");
            assert_eq!(spec.kv_bytes_per_token(1), kv, "{name} kv bytes");
            assert_eq!(spec.weight_bytes(), params * 2, "{name} weight bytes");
            assert!(spec.validate("t").is_ok(), "{name} validates");
        }
    }

    #[test]
    fn qwen3_formula_plus_qk_norm_matches_research() {
        let spec = llama(36, 4096, 32, 8, 128, 12288, 151936, false, false);
        // Qwen3 adds q_norm and k_norm (head_dim each) per layer.
        assert_eq!(spec.params_total() + 36 * 2 * 128, 8190735360);
        assert_eq!(spec.linear_flops_per_token(), 15136194560.0);
        assert_eq!(spec.kv_bytes_per_token(1), 147456);
    }

    #[test]
    fn gpt2_small_has_its_known_parameter_count() {
        let mut spec = llama(12, 768, 12, 12, 64, 3072, 50257, true, true);
        spec.architecture = Architecture::Gpt2;
        spec.max_position_embeddings = 1024;
        assert_eq!(spec.params_total(), 124_439_808);
    }

    #[test]
    fn indextts2_gpt_shapes() {
        let mut spec = llama(24, 1280, 20, 20, 64, 5120, 8194, false, true);
        spec.architecture = Architecture::Gpt2;
        spec.dtype = Dtype::F16;
        spec.max_position_embeddings = 1818;
        assert_eq!(spec.kv_bytes_per_token(1), 122880);
        assert_eq!(spec.linear_flops_per_token(), 964695040.0);
        assert_eq!(spec.attn_flops_per_token_per_ctx_token(), 122880.0);
        // The served parts listed in vllm-semantics.md §5.
        let d: u64 = 1280;
        let served = 24 * (12 * d * d + 13 * d) + 1818 * d + 8194 * d + 8256 * d + 8256;
        assert_eq!(served, 495_649_856);
    }

    #[test]
    fn kv_heads_per_gpu_follows_vllm() {
        let spec = llama(28, 3584, 28, 4, 128, 18944, 152064, false, true);
        assert_eq!(spec.kv_heads_per_gpu(0), 4);
        assert_eq!(spec.kv_heads_per_gpu(1), 4);
        assert_eq!(spec.kv_heads_per_gpu(2), 2);
        assert_eq!(spec.kv_heads_per_gpu(4), 1);
        assert_eq!(spec.kv_heads_per_gpu(8), 1, "replicated when tp > kv heads");
        assert_eq!(spec.kv_bytes_per_token(1), 57344);
        assert_eq!(spec.kv_bytes_per_token(2), 28672);
        assert_eq!(spec.kv_bytes_per_token(8), 14336);
    }

    #[test]
    fn kv_layers_override_drives_kv_and_flops() {
        let mut spec = llama(24, 1024, 16, 2, 64, 4096, 0, false, false);
        spec.params_total_override = Some(801_729_856);
        spec.kv_layers_override = Some(32);
        assert!(spec.validate("t").is_ok());
        assert_eq!(spec.kv_layers(), 32);
        assert_eq!(spec.kv_bytes_per_token(1), 16384);
        // base + residual LM linear FLOPs from the research file.
        assert_eq!(spec.linear_flops_per_token(), 956301312.0);
        assert_eq!(spec.params_total(), 801_729_856);
    }

    #[test]
    fn dtype_names_and_aliases() {
        for (text, dtype) in [
            ("\"float16\"", Dtype::F16),
            ("\"fp16\"", Dtype::F16),
            ("\"half\"", Dtype::F16),
            ("\"bfloat16\"", Dtype::Bf16),
            ("\"bf16\"", Dtype::Bf16),
            ("\"float32\"", Dtype::F32),
            ("\"fp8\"", Dtype::Fp8),
        ] {
            let parsed: Dtype = serde_json::from_str(text).expect("parses");
            assert_eq!(parsed, dtype, "{text}");
        }
        assert_eq!(serde_json::to_string(&Dtype::Bf16).expect("serializes"), "\"bfloat16\"");
        assert_eq!(Dtype::F32.bytes(), 4);
        assert_eq!(Dtype::Fp8.bytes(), 1);
        assert_eq!(Dtype::F16.name(), "float16");
    }

    #[test]
    fn validate_rejects_bad_shapes() {
        let mut spec = llama(28, 3584, 28, 4, 128, 18944, 152064, false, true);
        spec.num_key_value_heads = 3;
        assert!(matches!(
            spec.validate("t"),
            Err(Error::InvalidField { field, .. }) if field == "num_key_value_heads"
        ));
        spec.num_key_value_heads = 4;
        spec.hidden_size = 0;
        assert!(matches!(
            spec.validate("t"),
            Err(Error::InvalidField { field, .. }) if field == "hidden_size"
        ));
        spec.hidden_size = 3584;
        spec.vocab_size = 0;
        assert!(matches!(
            spec.validate("t"),
            Err(Error::InvalidField { field, .. }) if field == "vocab_size"
        ));
        spec.vocab_size = 10;
        spec.audio_tokens_per_s = Some(-1.0);
        assert!(spec.validate("t").is_err());
    }

    const QWEN25_7B: &str = r#"{
      "architectures": ["Qwen2ForCausalLM"],
      "attention_dropout": 0.0,
      "bos_token_id": 151643,
      "eos_token_id": 151645,
      "hidden_act": "silu",
      "hidden_size": 3584,
      "initializer_range": 0.02,
      "intermediate_size": 18944,
      "max_position_embeddings": 32768,
      "max_window_layers": 28,
      "model_type": "qwen2",
      "num_attention_heads": 28,
      "num_hidden_layers": 28,
      "num_key_value_heads": 4,
      "rms_norm_eps": 1e-06,
      "rope_theta": 1000000.0,
      "sliding_window": 131072,
      "tie_word_embeddings": false,
      "torch_dtype": "bfloat16",
      "transformers_version": "4.43.1",
      "use_cache": true,
      "use_sliding_window": false,
      "vocab_size": 152064
    }"#;

    #[test]
    fn qwen25_config_json_parses() {
        let spec = ModelSpec::from_hf_config_json(QWEN25_7B, "models/Qwen2.5-7B-Instruct/config.json").expect("parses");
        assert_eq!(spec.id, "qwen2.5-7b-instruct");
        assert_eq!(spec.architecture, Architecture::Llama);
        assert!(spec.qkv_bias);
        assert_eq!(spec.head_dim, 128);
        assert_eq!(spec.max_position_embeddings, 32768);
        assert_eq!(spec.dtype, Dtype::Bf16);
        assert_eq!(spec.params_total(), 7615616512);
        assert_eq!(spec.kv_bytes_per_token(1), 57344);
    }

    #[test]
    fn qwen3_config_json_counts_qk_norm() {
        let text = r#"{"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3",
            "hidden_size": 4096, "intermediate_size": 12288, "num_attention_heads": 32,
            "num_hidden_layers": 36, "num_key_value_heads": 8, "head_dim": 128,
            "max_position_embeddings": 40960, "vocab_size": 151936, "tie_word_embeddings": false,
            "attention_bias": false, "torch_dtype": "bfloat16", "rope_scaling": null}"#;
        let spec = ModelSpec::from_hf_config_json(text, "Qwen3-8B/config.json").expect("parses");
        assert_eq!(spec.params_total(), 8190735360);
        assert_eq!(spec.id, "qwen3-8b");
        assert_eq!(spec.max_position_embeddings, 40960);
    }

    #[test]
    fn gpt2_config_json_parses_with_n_keys() {
        let text = r#"{"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
            "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_inner": null, "n_layer": 12,
            "n_positions": 1024, "vocab_size": 50257}"#;
        let spec = ModelSpec::from_hf_config_json(text, "gpt2/config.json").expect("parses");
        assert_eq!(spec.architecture, Architecture::Gpt2);
        assert_eq!(spec.intermediate_size, 3072);
        assert_eq!(spec.head_dim, 64);
        assert_eq!(spec.num_key_value_heads, 12);
        assert!(spec.tie_word_embeddings);
        assert_eq!(spec.max_position_embeddings, 1024);
        assert_eq!(spec.params_total(), 124_439_808);
        assert_eq!(spec.id, "gpt2");
    }

    #[test]
    fn indextts2_served_gpt2_config_takes_the_smallest_length_key() {
        // As written by index-tts-vllm's convert_hf_format.py (GPT2Config saved in fp16).
        let text = r#"{"architectures": ["GPT2TTSModel"], "model_type": "gpt2",
            "n_embd": 1280, "n_head": 20, "n_layer": 24, "n_positions": 1818,
            "max_position_embeddings": 4096, "vocab_size": 8194, "torch_dtype": "float16"}"#;
        let spec = ModelSpec::from_hf_config_json(text, "gpt/config.json").expect("parses");
        assert_eq!(spec.max_position_embeddings, 1818);
        assert_eq!(spec.dtype, Dtype::F16);
        assert_eq!(spec.kv_bytes_per_token(1), 122880);
    }

    #[test]
    fn yarn_rope_scaling_extends_max_len_like_vllm() {
        let text = QWEN25_7B.replace(
            "\"rope_theta\": 1000000.0,",
            "\"rope_theta\": 1000000.0, \"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4.0, \
             \"original_max_position_embeddings\": 32768},",
        );
        let spec = ModelSpec::from_hf_config_json(&text, "q/config.json").expect("parses");
        assert_eq!(spec.max_position_embeddings, 131072);
        let llama3 = QWEN25_7B.replace(
            "\"rope_theta\": 1000000.0,",
            "\"rope_theta\": 1000000.0, \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0},",
        );
        let spec = ModelSpec::from_hf_config_json(&llama3, "q/config.json").expect("parses");
        assert_eq!(spec.max_position_embeddings, 32768);
    }

    #[test]
    fn missing_key_names_the_key() {
        let text = QWEN25_7B.replace("\"hidden_size\": 3584,", "");
        match ModelSpec::from_hf_config_json(&text, "c.json") {
            Err(Error::InvalidField { origin, field, message }) => {
                assert_eq!(origin, "c.json");
                assert_eq!(field, "hidden_size");
                assert!(message.contains("required"), "{message}");
            }
            other => panic!("expected InvalidField, got {other:?}"),
        }
        let gpt2 = r#"{"model_type": "gpt2", "n_embd": 768, "n_head": 12, "vocab_size": 50257}"#;
        assert!(matches!(
            ModelSpec::from_hf_config_json(gpt2, "c.json"),
            Err(Error::InvalidField { field, .. }) if field == "n_layer"
        ));
    }

    #[test]
    fn wrong_type_names_the_key() {
        let text = QWEN25_7B.replace("\"num_hidden_layers\": 28", "\"num_hidden_layers\": \"28\"");
        assert!(matches!(
            ModelSpec::from_hf_config_json(&text, "c.json"),
            Err(Error::InvalidField { field, .. }) if field == "num_hidden_layers"
        ));
        let text = QWEN25_7B.replace("\"num_key_value_heads\": 4", "\"num_key_value_heads\": -4");
        assert!(matches!(
            ModelSpec::from_hf_config_json(&text, "c.json"),
            Err(Error::InvalidField { field, .. }) if field == "num_key_value_heads"
        ));
    }

    #[test]
    fn malformed_json_is_a_parse_error_with_position() {
        match ModelSpec::from_hf_config_json("{\"hidden_size\": 12,\n  oops }", "c.json") {
            Err(Error::Parse { origin, line, .. }) => {
                assert_eq!(origin, "c.json");
                assert_eq!(line, 2);
            }
            other => panic!("expected Parse, got {other:?}"),
        }
        assert!(matches!(
            ModelSpec::from_hf_config_json("[1, 2]", "c.json"),
            Err(Error::InvalidField { .. })
        ));
    }

    #[test]
    fn unsupported_architecture_is_named() {
        let text = r#"{"architectures": ["FalconForCausalLM"], "model_type": "falcon"}"#;
        match ModelSpec::from_hf_config_json(text, "c.json") {
            Err(Error::InvalidField { field, message, .. }) => {
                assert_eq!(field, "architectures");
                assert!(message.contains("FalconForCausalLM"), "{message}");
                assert!(
                    message.contains("MixtralForCausalLM"),
                    "lists what is supported: {message}"
                );
            }
            other => panic!("expected InvalidField, got {other:?}"),
        }
        // Hybrid families servecast has no state model for are refused by name, saying what is missing.
        for (text, field) in [
            (r#"{"architectures": ["Zamba2ForCausalLM"]}"#, "architectures"),
            (r#"{"model_type": "mamba2"}"#, "model_type"),
        ] {
            match ModelSpec::from_hf_config_json(text, "c.json") {
                Err(Error::InvalidField { field: f, message, .. }) => {
                    assert_eq!(f, field);
                    assert!(message.contains("mamba") && message.contains("recurrent"), "{message}");
                }
                other => panic!("expected InvalidField, got {other:?}"),
            }
        }
    }

    #[test]
    fn indivisible_heads_without_head_dim_is_refused() {
        let text = QWEN25_7B.replace("\"num_attention_heads\": 28", "\"num_attention_heads\": 27");
        assert!(matches!(
            ModelSpec::from_hf_config_json(&text, "c.json"),
            Err(Error::InvalidField { field, .. }) if field == "head_dim"
        ));
    }
}
