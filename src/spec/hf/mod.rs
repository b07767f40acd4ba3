//! Hugging Face `config.json` → [`ModelSpec`]: one room per model family (dense, MoE, MLA),
//! the shared typed access to the file, and the refusal of families servecast does not model.
//!
//! Each family reads the keys its `transformers` configuration class defines and vLLM's model
//! file uses (`vllm/model_executor/models/<family>.py`).

mod deepseek;
mod dense;
mod hybrid;
mod moe;

use serde_json::{Map, Value};

use crate::spec::{Architecture, Dtype, ModelSpec};
use crate::{Error, Result};

/// Parses a Hugging Face `config.json` into a validated spec; `origin` names the file.
/// max_model_len follows vLLM's `_get_and_verify_max_len`.
pub fn parse(text: &str, origin: &str) -> Result<ModelSpec> {
    // Python's json (which writes Hugging Face configs) allows the bare constants Infinity and
    // NaN (Nemotron-H's `time_step_limit`); JSON does not, so read them as null when plain JSON fails.
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => serde_json::from_str(&python_constants_as_null(text)).map_err(|_| Error::from_json(origin, &e))?,
    };
    let Value::Object(top) = value else {
        return Err(Error::invalid(
            origin,
            "config",
            "expected a JSON object at the top level",
        ));
    };
    let family = Family::detect(&top, origin)?;
    // Multimodal checkpoints (Gemma 3, Llama 4) keep the language model's keys in `text_config`.
    let map = match top.get("text_config") {
        Some(Value::Object(text)) if family.nests_text_config() => text,
        _ => &top,
    };
    // Keys a checkpoint leaves out take the `transformers` configuration class's defaults, as
    // vLLM (which loads the file through that class) sees them.
    let with_defaults;
    let map = match family.config_defaults() {
        [] => map,
        defaults => {
            with_defaults = fill_defaults(map, defaults);
            &with_defaults
        }
    };
    let cfg = Config { map, top: &top, origin };
    let spec = match family {
        Family::Gpt2 => dense::gpt2(&cfg)?,
        Family::Llama | Family::Mistral | Family::Qwen2 | Family::Qwen3 | Family::Phi3 => dense::llama(&cfg, family)?,
        Family::Gemma2 | Family::Gemma3 => dense::gemma(&cfg, family)?,
        Family::Mixtral | Family::Qwen2Moe | Family::Qwen3Moe | Family::Glm4Moe | Family::Llama4 => {
            moe::routed(&cfg, family)?
        }
        Family::GptOss => moe::gpt_oss(&cfg)?,
        Family::DeepseekV2 | Family::DeepseekV3 => deepseek::deepseek(&cfg, family)?,
        Family::Qwen3Next
        | Family::NemotronH
        | Family::Jamba
        | Family::GraniteMoeHybrid
        | Family::Bamba
        | Family::FalconH1 => hybrid::parse(&cfg, family)?,
    };
    spec.validate(origin)?;
    Ok(spec)
}

/// `map` with each of `defaults` added where the key is missing or null.
fn fill_defaults(map: &Map<String, Value>, defaults: &[(&str, u64)]) -> Map<String, Value> {
    let mut out = map.clone();
    for &(key, value) in defaults {
        if matches!(out.get(key), None | Some(Value::Null)) {
            out.insert(key.to_string(), Value::from(value));
        }
    }
    out
}

/// `text` with Python's non-JSON constants (`-Infinity`, `Infinity`, `NaN`) outside strings
/// replaced by `null`.
fn python_constants_as_null(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        let constant = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|k| rest.starts_with(k));
        match constant {
            Some(k) => {
                out.push_str("null");
                rest = &rest[k.len()..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// config.json families servecast understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    Llama,
    Mistral,
    Qwen2,
    Qwen3,
    Phi3,
    Gpt2,
    Gemma2,
    Gemma3,
    Mixtral,
    Qwen2Moe,
    Qwen3Moe,
    Glm4Moe,
    GptOss,
    Llama4,
    DeepseekV2,
    DeepseekV3,
    /// Qwen3-Next and Qwen3.5-MoE's language model: Gated DeltaNet + gated attention, MoE.
    Qwen3Next,
    /// Nemotron-H (and Nemotron 3): Mamba-2 + attention + MLP / MoE layers.
    NemotronH,
    /// Jamba: Mamba + attention, MoE every other layer.
    Jamba,
    /// Granite 4.0-H: Mamba-2 + attention per `layer_types`, MoE and a shared MLP in every layer.
    GraniteMoeHybrid,
    /// Bamba: Mamba-2 + attention at `attn_layer_indices`, dense MLPs.
    Bamba,
    /// Falcon-H1: attention and Mamba-2 side by side in every layer, dense MLPs.
    FalconH1,
}

/// Families vLLM serves with per-sequence recurrent state (mamba, linear attention, gated delta
/// nets) next to or instead of attention: their memory and cost need a state model servecast
/// does not have yet, so they are refused by name rather than costed wrong.
const STATE_SPACE: [(&str, &str); 7] = [
    ("MambaForCausalLM", "mamba"),
    ("Mamba2ForCausalLM", "mamba2"),
    ("Zamba2ForCausalLM", "zamba2"),
    ("Plamo2ForCausalLM", "plamo2"),
    ("MiniMaxText01ForCausalLM", "minimax_text_01"),
    ("MiniMaxM1ForCausalLM", "minimax_m1"),
    ("Lfm2ForCausalLM", "lfm2"),
];

impl Family {
    const SUPPORTED: &'static str = "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, \
         Phi3ForCausalLM, GPT2LMHeadModel, Gemma2ForCausalLM, Gemma3ForCausalLM, \
         Gemma3ForConditionalGeneration, MixtralForCausalLM, Qwen2MoeForCausalLM, Qwen3MoeForCausalLM, \
         Glm4MoeForCausalLM, GptOssForCausalLM, Llama4ForConditionalGeneration, DeepseekV2ForCausalLM, \
         DeepseekV3ForCausalLM, Qwen3NextForCausalLM, Qwen3_5MoeForConditionalGeneration, NemotronHForCausalLM, \
         JambaForCausalLM, GraniteMoeHybridForCausalLM, BambaForCausalLM, FalconH1ForCausalLM";

    /// Defaults of the family's `transformers` configuration class for the keys servecast reads
    /// that checkpoints leave out. Gemma 3: `Gemma3TextConfig.__init__`
    /// (transformers `src/transformers/models/gemma3/configuration_gemma3.py` @ 008f5c8c); the
    /// 4B–27B checkpoints' `text_config` gives neither `vocab_size` nor `max_position_embeddings`.
    fn config_defaults(self) -> &'static [(&'static str, u64)] {
        match self {
            Family::Gemma3 => &[
                ("vocab_size", 262_208),
                ("hidden_size", 2304),
                ("intermediate_size", 9216),
                ("num_hidden_layers", 26),
                ("num_attention_heads", 8),
                ("num_key_value_heads", 4),
                ("head_dim", 256),
                ("max_position_embeddings", 131_072),
                ("sliding_window", 4096),
                ("sliding_window_pattern", 6),
            ],
            _ => &[],
        }
    }

    /// Whether the language model's keys sit in `text_config`.
    fn nests_text_config(self) -> bool {
        matches!(self, Family::Gemma3 | Family::Llama4 | Family::Qwen3Next)
    }

    fn from_architecture(name: &str) -> Option<Family> {
        Some(match name {
            "LlamaForCausalLM" => Family::Llama,
            "MistralForCausalLM" => Family::Mistral,
            "Qwen2ForCausalLM" => Family::Qwen2,
            "Qwen3ForCausalLM" => Family::Qwen3,
            "Phi3ForCausalLM" => Family::Phi3,
            "GPT2LMHeadModel" | "GPT2Model" => Family::Gpt2,
            "Gemma2ForCausalLM" => Family::Gemma2,
            "Gemma3ForCausalLM" | "Gemma3ForConditionalGeneration" => Family::Gemma3,
            "MixtralForCausalLM" => Family::Mixtral,
            "Qwen2MoeForCausalLM" => Family::Qwen2Moe,
            "Qwen3MoeForCausalLM" => Family::Qwen3Moe,
            "Glm4MoeForCausalLM" => Family::Glm4Moe,
            "GptOssForCausalLM" => Family::GptOss,
            "Llama4ForConditionalGeneration" | "Llama4ForCausalLM" => Family::Llama4,
            "DeepseekV2ForCausalLM" => Family::DeepseekV2,
            "DeepseekV3ForCausalLM" | "KimiK2ForCausalLM" => Family::DeepseekV3,
            "Qwen3NextForCausalLM" | "Qwen3_5MoeForConditionalGeneration" | "Qwen3_5MoeForCausalLM" => {
                Family::Qwen3Next
            }
            "NemotronHForCausalLM" => Family::NemotronH,
            "JambaForCausalLM" => Family::Jamba,
            "GraniteMoeHybridForCausalLM" => Family::GraniteMoeHybrid,
            "BambaForCausalLM" => Family::Bamba,
            "FalconH1ForCausalLM" => Family::FalconH1,
            _ => return None,
        })
    }

    fn from_model_type(name: &str) -> Option<Family> {
        Some(match name {
            "llama" => Family::Llama,
            "mistral" => Family::Mistral,
            "qwen2" => Family::Qwen2,
            "qwen3" => Family::Qwen3,
            "phi3" => Family::Phi3,
            "gpt2" => Family::Gpt2,
            "gemma2" => Family::Gemma2,
            "gemma3" | "gemma3_text" => Family::Gemma3,
            "mixtral" => Family::Mixtral,
            "qwen2_moe" => Family::Qwen2Moe,
            "qwen3_moe" => Family::Qwen3Moe,
            "glm4_moe" => Family::Glm4Moe,
            "gpt_oss" => Family::GptOss,
            "llama4" | "llama4_text" => Family::Llama4,
            "deepseek_v2" => Family::DeepseekV2,
            "deepseek_v3" | "kimi_k2" => Family::DeepseekV3,
            "qwen3_next" | "qwen3_5_moe" | "qwen3_5_moe_text" => Family::Qwen3Next,
            "nemotron_h" => Family::NemotronH,
            "jamba" => Family::Jamba,
            "granitemoehybrid" => Family::GraniteMoeHybrid,
            "bamba" => Family::Bamba,
            "falcon_h1" => Family::FalconH1,
            _ => return None,
        })
    }

    fn detect(cfg: &Map<String, Value>, origin: &str) -> Result<Family> {
        let arch = match cfg.get("architectures") {
            Some(Value::Array(list)) => list.first().and_then(Value::as_str),
            Some(Value::Null) | None => None,
            Some(other) => {
                return Err(Error::invalid(
                    origin,
                    "architectures",
                    format!("expected a list of class names, got {other}"),
                ))
            }
        };
        let model_type = cfg.get("model_type").and_then(Value::as_str);
        if let Some((class, _)) = STATE_SPACE
            .iter()
            .find(|(class, kind)| arch == Some(*class) || model_type == Some(*kind))
        {
            return Err(Error::invalid(
                origin,
                if arch.is_some() { "architectures" } else { "model_type" },
                format!(
                    "{class} mixes attention with mamba / linear-attention layers: vLLM keeps a recurrent \
                     state per sequence and aligns the attention block size to the mamba page, which \
                     servecast does not model yet (supported: {})",
                    Family::SUPPORTED
                ),
            ));
        }
        if let Some(f) = arch.and_then(Family::from_architecture) {
            return Ok(f);
        }
        if let Some(f) = model_type.and_then(Family::from_model_type) {
            return Ok(f);
        }
        match (arch, model_type) {
            (Some(a), _) => Err(Error::invalid(
                origin,
                "architectures",
                format!("unsupported architecture '{a}'; supported: {}", Family::SUPPORTED),
            )),
            (None, Some(t)) => Err(Error::invalid(
                origin,
                "model_type",
                format!("unsupported model_type '{t}'; supported: {}", Family::SUPPORTED),
            )),
            (None, None) => Err(Error::invalid(
                origin,
                "architectures",
                format!(
                    "required (or model_type) to tell the model family; supported: {}",
                    Family::SUPPORTED
                ),
            )),
        }
    }
}

/// Keys vLLM's `_get_and_verify_max_len` reads; the smallest one present wins.
const MAX_LEN_KEYS: [&str; 8] = [
    "max_position_embeddings",
    "n_positions",
    "max_seq_len",
    "seq_length",
    "model_max_length",
    "max_sequence_length",
    "max_seq_length",
    "seq_len",
];

/// vLLM's max_model_len when a config names none of [`MAX_LEN_KEYS`] (tokens).
const DEFAULT_MAX_MODEL_LEN: u32 = 2048;

/// Typed access to a config.json object that names the offending key in every error.
pub(super) struct Config<'a> {
    /// The object the family's keys live in (`text_config` of a multimodal checkpoint).
    pub(super) map: &'a Map<String, Value>,
    /// The whole file (dtype, name and quantization may sit at its top level).
    pub(super) top: &'a Map<String, Value>,
    /// The file name, for errors.
    pub(super) origin: &'a str,
}

impl Config<'_> {
    /// The first of `keys` present and non-null, as u32; missing -> InvalidField naming `keys[0]`.
    pub(super) fn required_u32(&self, keys: &[&str]) -> Result<u32> {
        for key in keys {
            if let Some(v) = self.optional_u32(key)? {
                return Ok(v);
            }
        }
        let key = keys.first().copied().unwrap_or("?");
        Err(Error::invalid(
            self.origin,
            key,
            "required key missing from config.json",
        ))
    }

    pub(super) fn optional_u32(&self, key: &str) -> Result<Option<u32>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                v.as_u64().and_then(|n| u32::try_from(n).ok()).map(Some).ok_or_else(|| {
                    Error::invalid(self.origin, key, format!("expected a non-negative integer, got {v}"))
                })
            }
        }
    }

    pub(super) fn optional_f64(&self, map: &Map<String, Value>, key: &str) -> Result<Option<f64>> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| Error::invalid(self.origin, key, format!("expected a number, got {v}"))),
        }
    }

    pub(super) fn optional_bool(&self, key: &str) -> Result<Option<bool>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(Error::invalid(
                self.origin,
                key,
                format!("expected true or false, got {v}"),
            )),
        }
    }

    /// vLLM's derived max_model_len: the smallest length key, scaled by rope_scaling where vLLM does.
    pub(super) fn max_model_len(&self) -> Result<u32> {
        let mut smallest: Option<u32> = None;
        for key in MAX_LEN_KEYS {
            if let Some(v) = self.optional_u32(key)? {
                smallest = Some(smallest.map_or(v, |s| s.min(v)));
            }
        }
        let Some(mut len) = smallest else {
            return Ok(DEFAULT_MAX_MODEL_LEN);
        };
        // vLLM: "Gemma3's max_model_len (128K) is already scaled by RoPE scaling, so we skip
        // applying the scaling factor again" (any model_type containing "gemma3").
        let gemma3 = [self.map, self.top].iter().any(|m| {
            m.get("model_type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.contains("gemma3"))
        });
        if gemma3 {
            return Ok(len);
        }
        if let Some(Value::Object(rope)) = self.map.get("rope_scaling") {
            let kind = rope
                .get("rope_type")
                .or_else(|| rope.get("type"))
                .and_then(Value::as_str)
                .unwrap_or("default");
            if !matches!(kind, "su" | "longrope" | "llama3" | "mrope" | "default") {
                let factor = self.optional_f64(rope, "factor")?.unwrap_or(1.0);
                if kind == "yarn" {
                    if let Some(original) = self.optional_f64(rope, "original_max_position_embeddings")? {
                        len = original as u32;
                    }
                }
                if !(factor.is_finite() && factor > 0.0) {
                    return Err(Error::invalid(self.origin, "rope_scaling.factor", "must be > 0"));
                }
                let scaled = (f64::from(len) * factor).floor();
                len = if scaled >= f64::from(u32::MAX) {
                    u32::MAX
                } else {
                    scaled as u32
                };
            }
        }
        Ok(len)
    }

    /// Fields that are the same for every family: names, dtype and defaults.
    /// A key of the file's top level, else of the family's object.
    pub(super) fn any_get(&self, key: &str) -> Option<&Value> {
        match self.top.get(key) {
            None | Some(Value::Null) => self.map.get(key),
            v => v,
        }
    }

    /// A list of non-negative integers (`mlp_only_layers`), empty when absent.
    pub(super) fn u32_list(&self, key: &str) -> Result<Vec<u32>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
                        Error::invalid(
                            self.origin,
                            key,
                            format!("expected a list of non-negative integers, got {v}"),
                        )
                    })
                })
                .collect(),
            Some(v) => Err(Error::invalid(self.origin, key, format!("expected a list, got {v}"))),
        }
    }

    /// A list of strings (`layer_types`); None when absent.
    pub(super) fn str_list(&self, key: &str) -> Result<Option<Vec<String>>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| Error::invalid(self.origin, key, format!("expected a list of strings, got {v}")))
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(v) => Err(Error::invalid(self.origin, key, format!("expected a list, got {v}"))),
        }
    }

    pub(super) fn skeleton(&self) -> Result<ModelSpec> {
        let name = match self.any_get("_name_or_path").and_then(Value::as_str) {
            Some(n) if !n.trim().is_empty() => n.trim().to_string(),
            _ => name_from_origin(self.origin),
        };
        let id = name
            .trim_end_matches('/')
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(&name)
            .to_lowercase();
        let dtype_key = if self.any_get("torch_dtype").is_some() {
            "torch_dtype"
        } else {
            "dtype"
        };
        let dtype = match self.any_get(dtype_key) {
            None | Some(Value::Null) => Dtype::Bf16,
            Some(Value::String(s)) => match s.as_str() {
                "float16" | "fp16" | "half" => Dtype::F16,
                // vLLM's dtype=auto serves float32 checkpoints in the platform's preferred half
                // type (bfloat16 from Ampere on; the byte count is the same as float16).
                "bfloat16" | "bf16" | "float32" | "fp32" | "float" => Dtype::Bf16,
                other => {
                    return Err(Error::invalid(
                        self.origin,
                        dtype_key,
                        format!("unsupported dtype '{other}' (float16, bfloat16 or float32)"),
                    ))
                }
            },
            Some(v) => {
                return Err(Error::invalid(
                    self.origin,
                    dtype_key,
                    format!("expected a string, got {v}"),
                ))
            }
        };
        // A pre-quantized checkpoint names its method; vLLM picks it up unless told otherwise.
        let checkpoint_quantization = match self.any_get("quantization_config") {
            None | Some(Value::Null) => None,
            Some(Value::Object(q)) => match q.get("quant_method") {
                // llm-compressor checkpoints: the weight scheme of their config groups says it.
                Some(Value::String(m)) if m == "compressed-tensors" => Some(compressed_tensors_scheme(q, self.origin)?),
                Some(Value::String(m)) => Some(checkpoint_method(m, q, self.origin)?),
                _ => {
                    return Err(Error::invalid(
                        self.origin,
                        "quantization_config.quant_method",
                        "expected a string naming the method",
                    ))
                }
            },
            Some(v) => {
                return Err(Error::invalid(
                    self.origin,
                    "quantization_config",
                    format!("expected an object, got {v}"),
                ))
            }
        };
        Ok(ModelSpec {
            id: if id.is_empty() { "model".to_string() } else { id },
            name,
            aliases: Vec::new(),
            architecture: Architecture::Llama,
            num_hidden_layers: 0,
            hidden_size: 0,
            num_attention_heads: 0,
            num_key_value_heads: 0,
            head_dim: 0,
            intermediate_size: 0,
            vocab_size: 0,
            max_position_embeddings: 0,
            tie_word_embeddings: false,
            qkv_bias: false,
            dtype,
            params_total_override: None,
            audio_tokens_per_s: None,
            tts_text: None,
            extra_flops_per_decode_token: 0.0,
            extra_weight_reads_bytes_per_step: 0,
            vocoder_fp32_flops_per_output_token: 0.0,
            vocoder_weight_bytes: 0,
            kv_layers_override: None,
            checkpoint_quantization,
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
            vllm_architecture: match self.top.get("architectures") {
                Some(Value::Array(list)) => list.first().and_then(Value::as_str).map(str::to_string),
                _ => None,
            },
            source: format!("{} (Hugging Face config.json)", self.origin),
        })
    }
}

/// `hidden / heads`, refusing shapes that do not divide.
pub(super) fn derived_head_dim(hidden: u32, heads: u32, cfg: &Config<'_>) -> Result<u32> {
    if heads == 0 {
        return Err(Error::invalid(cfg.origin, "num_attention_heads", "must be > 0"));
    }
    if !hidden.is_multiple_of(heads) {
        return Err(Error::invalid(
            cfg.origin,
            "head_dim",
            format!("hidden size {hidden} is not divisible by {heads} heads; give head_dim"),
        ));
    }
    Ok(hidden / heads)
}

/// A model name from a config path: the directory holding `config.json`, else the file stem.
fn name_from_origin(origin: &str) -> String {
    let path = std::path::Path::new(origin);
    let is_config = path.file_name().and_then(|f| f.to_str()) == Some("config.json");
    let part = if is_config {
        path.parent().and_then(|p| p.file_name()).and_then(|f| f.to_str())
    } else {
        path.file_stem().and_then(|f| f.to_str())
    };
    match part {
        Some(p) if !p.is_empty() => p.to_string(),
        _ => "model".to_string(),
    }
}

/// A checkpoint's `quant_method` with its `bits`: AWQ is 4-bit only; GPTQ 4- or 8-bit.
fn checkpoint_method(
    method: &str,
    q: &serde_json::Map<String, Value>,
    origin: &str,
) -> Result<crate::spec::engine::Quantization> {
    use crate::spec::engine::Quantization;
    let unknown = || {
        Error::invalid(
            origin,
            "quantization_config.quant_method",
            format!(
                "'{method}' is not a method servecast costs (fp8, awq, awq_marlin, gptq, gptq_marlin, \
                 compressed-tensors with 8-bit float or 4-bit integer weights)"
            ),
        )
    };
    let parsed = match Quantization::parse(method, origin) {
        Ok(Quantization::Unquantized) | Err(_) => return Err(unknown()),
        Ok(q) => q,
    };
    let bits = q.get("bits").and_then(Value::as_u64);
    match (parsed, bits) {
        (Quantization::Gptq | Quantization::GptqMarlin, Some(8)) => Ok(Quantization::GptqInt8),
        (Quantization::Fp8, _) | (_, None | Some(4)) => Ok(parsed),
        (_, Some(b)) => Err(Error::invalid(
            origin,
            "quantization_config.bits",
            format!("{b}-bit {method}: servecast costs 4-bit AWQ/GPTQ and 8-bit GPTQ"),
        )),
    }
}

/// The weight scheme of a `compressed-tensors` checkpoint: 8-bit float weights are FP8, 4-bit
/// integer weights are W4A16 (served by the Marlin kernels, costed as `gptq_marlin`).
fn compressed_tensors_scheme(
    q: &serde_json::Map<String, Value>,
    origin: &str,
) -> Result<crate::spec::engine::Quantization> {
    use crate::spec::engine::Quantization;
    let field = "quantization_config.config_groups";
    let weights = q
        .get("config_groups")
        .and_then(Value::as_object)
        .and_then(|groups| groups.values().find_map(|g| g.get("weights")))
        .ok_or_else(|| Error::invalid(origin, field, "no group with a `weights` scheme"))?;
    let bits = weights.get("num_bits").and_then(Value::as_u64);
    let kind = weights.get("type").and_then(Value::as_str);
    match (bits, kind) {
        (Some(8), Some("float")) => Ok(Quantization::Fp8),
        (Some(4), Some("int")) => Ok(Quantization::GptqMarlin),
        _ => Err(Error::invalid(
            origin,
            field,
            format!(
                "weights of {} bits, type {}: servecast costs 8-bit float or 4-bit integer weights",
                bits.map_or("?".to_string(), |b| b.to_string()),
                kind.unwrap_or("?")
            ),
        )),
    }
}
