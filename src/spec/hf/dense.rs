//! Dense decoder families: GPT-2, the Llama shape (Llama, Mistral, Qwen2/3, Phi-3) and Gemma 2/3.

use serde_json::Value;

use super::{derived_head_dim, Config, Family};
use crate::spec::{Architecture, ModelSpec, SlidingWindow};
use crate::{Error, Result};

/// GPT-2 (`n_layer`, `n_embd`, …): GELU MLP, learned positions, multi-head attention.
pub(super) fn gpt2(cfg: &Config<'_>) -> Result<ModelSpec> {
    let layers = cfg.required_u32(&["n_layer", "num_hidden_layers"])?;
    let hidden = cfg.required_u32(&["n_embd", "hidden_size"])?;
    let heads = cfg.required_u32(&["n_head", "num_attention_heads"])?;
    let head_dim = derived_head_dim(hidden, heads, cfg)?;
    let inner = match cfg.optional_u32("n_inner")? {
        Some(v) => v,
        None => hidden
            .checked_mul(4)
            .ok_or_else(|| Error::invalid(cfg.origin, "n_embd", "n_embd × 4 overflows"))?,
    };
    Ok(ModelSpec {
        architecture: Architecture::Gpt2,
        num_hidden_layers: layers,
        hidden_size: hidden,
        num_attention_heads: heads,
        num_key_value_heads: heads,
        head_dim,
        intermediate_size: inner,
        vocab_size: cfg.required_u32(&["vocab_size"])?,
        max_position_embeddings: cfg.max_model_len()?,
        tie_word_embeddings: cfg.optional_bool("tie_word_embeddings")?.unwrap_or(true),
        qkv_bias: true,
        ..cfg.skeleton()?
    })
}

/// The shared decoder shape of the Llama-style families: hidden size, heads, GQA, head_dim
/// (given or hidden / heads), gated MLP of `intermediate_key`, vocabulary and lengths.
pub(super) fn llama_shape(cfg: &Config<'_>, intermediate_key: &str, qkv_bias: bool) -> Result<ModelSpec> {
    let hidden = cfg.required_u32(&["hidden_size"])?;
    let heads = cfg.required_u32(&["num_attention_heads"])?;
    let head_dim = match cfg.optional_u32("head_dim")? {
        Some(v) => v,
        None => derived_head_dim(hidden, heads, cfg)?,
    };
    Ok(ModelSpec {
        architecture: Architecture::Llama,
        num_hidden_layers: cfg.required_u32(&["num_hidden_layers"])?,
        hidden_size: hidden,
        num_attention_heads: heads,
        num_key_value_heads: cfg.optional_u32("num_key_value_heads")?.unwrap_or(heads),
        head_dim,
        intermediate_size: cfg.required_u32(&[intermediate_key])?,
        vocab_size: cfg.required_u32(&["vocab_size"])?,
        max_position_embeddings: cfg.max_model_len()?,
        tie_word_embeddings: cfg.optional_bool("tie_word_embeddings")?.unwrap_or(false),
        qkv_bias,
        ..cfg.skeleton()?
    })
}

/// Llama, Mistral, Qwen2, Qwen3 and Phi-3.
pub(super) fn llama(cfg: &Config<'_>, family: Family) -> Result<ModelSpec> {
    let qkv_bias = match family {
        Family::Qwen2 => true,
        Family::Mistral | Family::Phi3 => false,
        _ => cfg.optional_bool("attention_bias")?.unwrap_or(false),
    };
    let mut spec = llama_shape(cfg, "intermediate_size", qkv_bias)?;
    if family == Family::Qwen3 {
        // Qwen3 adds per-head RMSNorm weights on q and k: 2 × head_dim per layer.
        spec.extra_params += u64::from(spec.num_hidden_layers) * 2 * u64::from(spec.head_dim);
    }
    spec.sliding_window = sliding_window(cfg, spec.num_hidden_layers, family)?;
    if spec.extra_params > 0 {
        spec.params_total_override = Some(spec.params_total());
        spec.extra_params = 0;
    }
    Ok(spec)
}

/// Gemma 2 and Gemma 3 (the language model of `Gemma3ForConditionalGeneration`, whose SigLIP
/// vision tower and projector vLLM also loads): gated GELU MLP, four norms per layer (Gemma 3:
/// and q/k norms), tied embeddings, local attention on most layers.
pub(super) fn gemma(cfg: &Config<'_>, family: Family) -> Result<ModelSpec> {
    let mut spec = llama_shape(cfg, "intermediate_size", false)?;
    if cfg.optional_bool("tie_word_embeddings")?.is_none() {
        spec.tie_word_embeddings = true;
    }
    let layers = u64::from(spec.num_hidden_layers);
    let d = u64::from(spec.hidden_size);
    // pre/post feed-forward norms beyond the two the formula counts.
    spec.extra_params += layers * 2 * d;
    if family == Family::Gemma3 {
        spec.extra_params += layers * 2 * u64::from(spec.head_dim);
        if let Some(Value::Object(vision)) = cfg.top.get("vision_config") {
            let vision = vision_tower_params(vision, d);
            spec.extra_params += vision;
            spec.unstreamed_params += vision;
        }
    }
    spec.sliding_window = sliding_window(cfg, spec.num_hidden_layers, family)?;
    Ok(spec)
}

/// Parameters of a ViT vision tower (SigLIP: `hidden_size`, `intermediate_size`,
/// `num_hidden_layers`, `patch_size`, `image_size`) and a linear projector into the language
/// model's `text_hidden` width (count); 0 when the keys are missing.
pub(super) fn vision_tower_params(vision: &serde_json::Map<String, Value>, text_hidden: u64) -> u64 {
    let get = |k: &str| vision.get(k).and_then(Value::as_u64).unwrap_or(0);
    let (h, inter, layers) = (get("hidden_size"), get("intermediate_size"), get("num_hidden_layers"));
    let (patch, image) = (get("patch_size"), get("image_size"));
    if h == 0 || layers == 0 {
        return 0;
    }
    let per_layer = 4 * h * h + 4 * h + 2 * h * inter + inter + h + 4 * h;
    let patches = image.checked_div(patch).map_or(0, |n| n.saturating_mul(n));
    let embed = 3 * patch * patch * h + h + patches * h;
    layers * per_layer + embed + 2 * h + h * text_hidden
}

/// The sliding window and how many layers use it: `layer_types` when the config lists them;
/// else Gemma 2 (even layers), Gemma 3 (all but every `sliding_window_pattern`-th), Qwen2/3
/// with `use_sliding_window` (layers from `max_window_layers` on), Mistral and Phi-3 (every
/// layer when `sliding_window` is set).
pub(super) fn sliding_window(cfg: &Config<'_>, layers: u32, family: Family) -> Result<Option<SlidingWindow>> {
    let Some(window) = cfg.optional_u32("sliding_window")? else {
        return Ok(None);
    };
    if window == 0 {
        return Ok(None);
    }
    let sliding = if let Some(types) = cfg.str_list("layer_types")? {
        types.iter().filter(|t| t.as_str() == "sliding_attention").count() as u32
    } else {
        match family {
            Family::Gemma2 => layers.div_ceil(2),
            Family::Gemma3 => {
                let pattern = cfg.optional_u32("sliding_window_pattern")?.unwrap_or(6).max(1);
                layers - layers / pattern
            }
            Family::Qwen2 | Family::Qwen3 | Family::Qwen2Moe | Family::Qwen3Moe
                if cfg.optional_bool("use_sliding_window")?.unwrap_or(false) =>
            {
                let first = cfg.optional_u32("max_window_layers")?.unwrap_or(layers);
                layers.saturating_sub(first)
            }
            Family::Mistral | Family::Phi3 | Family::Mixtral => layers,
            _ => 0,
        }
    };
    Ok((sliding > 0).then_some(SlidingWindow {
        window,
        layers: sliding.min(layers),
    }))
}
