//! Hybrid families: attention layers mixed with layers that keep a recurrent state per sequence
//! instead of a KV cache — Qwen3-Next and Qwen3.5 (Gated DeltaNet), Nemotron-H, Granite 4.0-H,
//! Bamba and Falcon-H1 (Mamba-2) and Jamba (Mamba).
//!
//! The attention layers are the model's KV layers (`kv_layers_override`); the others are
//! `ModelSpec::recurrent`, whose state shapes follow vLLM's `MambaStateShapeCalculator`
//! (vllm/model_executor/layers/mamba/mamba_utils.py) and whose weights are counted from the
//! mixer's projections.

use serde_json::Value;

use super::dense::llama_shape;
use super::{Config, Family};
use crate::spec::model::{Dtype, RecurrentKind, RecurrentSpec};
use crate::spec::{ModelSpec, MoeSpec};
use crate::{Error, Result};

/// The temporal state's dtype a config sets (`mamba_ssm_cache_dtype`, Qwen3.5's
/// `mamba_ssm_dtype`); `None` for vLLM's `auto` (the model's dtype).
fn ssm_dtype(cfg: &Config<'_>) -> Result<Option<Dtype>> {
    for key in ["mamba_ssm_cache_dtype", "mamba_ssm_dtype"] {
        match cfg.map.get(key).or_else(|| cfg.top.get(key)) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                return match s.as_str() {
                    "float32" | "fp32" => Ok(Some(Dtype::F32)),
                    "bfloat16" => Ok(Some(Dtype::Bf16)),
                    "float16" => Ok(Some(Dtype::F16)),
                    "auto" => Ok(None),
                    other => Err(Error::invalid(
                        cfg.origin,
                        key,
                        format!("unsupported state dtype '{other}' (auto, float32, bfloat16 or float16)"),
                    )),
                }
            }
            Some(v) => return Err(Error::invalid(cfg.origin, key, format!("expected a string, got {v}"))),
        }
    }
    Ok(None)
}

/// The scan's chunk a config names (`mamba_chunk_size`, else `chunk_size`; 0 when neither).
fn chunk_size(cfg: &Config<'_>) -> Result<u32> {
    Ok(cfg
        .optional_u32("mamba_chunk_size")?
        .or(cfg.optional_u32("chunk_size")?)
        .unwrap_or(0))
}

/// Qwen3-Next and the language model of Qwen3.5-MoE: Gated DeltaNet layers with a gated full
/// attention layer every `full_attention_interval` layers (or as `layer_types` lists them), a
/// MoE MLP in every layer.
pub(super) fn qwen3_next(cfg: &Config<'_>) -> Result<ModelSpec> {
    // Qwen3.5 has no dense MLP and no `intermediate_size`: its experts' size stands in.
    let dense_key = if cfg.optional_u32("intermediate_size")?.is_some() {
        "intermediate_size"
    } else {
        "moe_intermediate_size"
    };
    let mut spec = llama_shape(cfg, dense_key, false)?;
    let layers = spec.num_hidden_layers;
    let attention = match cfg.str_list("layer_types")? {
        Some(types) => {
            if types.len() != layers as usize {
                return Err(Error::invalid(
                    cfg.origin,
                    "layer_types",
                    format!("lists {} layers, num_hidden_layers is {layers}", types.len()),
                ));
            }
            for t in &types {
                if t != "full_attention" && t != "linear_attention" {
                    return Err(Error::invalid(
                        cfg.origin,
                        "layer_types",
                        format!("'{t}' is neither full_attention nor linear_attention"),
                    ));
                }
            }
            types.iter().filter(|t| *t == "full_attention").count() as u32
        }
        None => {
            let every = cfg.required_u32(&["full_attention_interval"])?.max(1);
            (0..layers).filter(|i| (i + 1) % every == 0).count() as u32
        }
    };
    if attention == 0 {
        return Err(Error::invalid(
            cfg.origin,
            "full_attention_interval",
            "no full-attention layer: servecast models hybrids with at least one",
        ));
    }
    let d = u64::from(spec.hidden_size);
    let key_heads = cfg.required_u32(&["linear_num_key_heads"])?;
    let key_dim = cfg.required_u32(&["linear_key_head_dim"])?;
    let value_heads = cfg.required_u32(&["linear_num_value_heads"])?;
    let value_dim = cfg.required_u32(&["linear_value_head_dim"])?;
    let kernel = cfg.required_u32(&["linear_conv_kernel_dim"])?;
    let keys = u64::from(key_heads) * u64::from(key_dim);
    let values = u64::from(value_heads) * u64::from(value_dim);
    let conv_dim = 2 * keys + values;
    // in_proj_qkvz, in_proj_ba, the depthwise conv, A_log and dt_bias, the gated norm, out_proj.
    let mixer_weights = d * (2 * keys + 2 * values)
        + d * 2 * u64::from(value_heads)
        + conv_dim * u64::from(kernel)
        + 2 * u64::from(value_heads)
        + u64::from(value_dim)
        + values * d;
    spec.recurrent = Some(RecurrentSpec {
        kind: RecurrentKind::GatedDeltaNet,
        layers: layers - attention,
        conv_dim: u32::try_from(conv_dim)
            .map_err(|_| Error::invalid(cfg.origin, "linear_num_key_heads", "convolution width overflows"))?,
        conv_kernel: kernel,
        state_heads: value_heads,
        state_rows: key_dim,
        state_cols: value_dim,
        n_groups: 0,
        group_state: 0,
        mixer_weights,
        ssm_state_dtype: ssm_dtype(cfg)?,
        chunk_size: chunk_size(cfg)?,
        nemotron_h_state_rule: false,
        parallel: false,
    });
    spec.kv_layers_override = Some(attention);
    let experts = cfg.required_u32(&["num_experts"])?;
    let step = cfg.optional_u32("decoder_sparse_step")?.unwrap_or(1).max(1);
    let dense_only = cfg.u32_list("mlp_only_layers")?;
    let moe_layers = (0..layers)
        .filter(|&i| !dense_only.contains(&i) && experts > 0 && (i + 1) % step == 0)
        .count() as u32;
    spec.moe = Some(MoeSpec {
        num_experts: experts,
        num_experts_per_tok: cfg.required_u32(&["num_experts_per_tok"])?,
        moe_intermediate_size: cfg.required_u32(&["moe_intermediate_size"])?,
        shared_expert_intermediate_size: cfg.optional_u32("shared_expert_intermediate_size")?.unwrap_or(0),
        moe_layers,
        expert_bias: false,
    });
    // The attention's output gate (q_proj emits a gate beside each query, on by default), the
    // per-head q/k norms, and each MoE layer's shared-expert gate: weights the formula does not
    // count.
    let q = u64::from(spec.num_attention_heads) * u64::from(spec.head_dim);
    let gate = if cfg.optional_bool("attn_output_gate")?.unwrap_or(true) {
        d * q
    } else {
        0
    };
    spec.extra_params += u64::from(attention) * (gate + 2 * u64::from(spec.head_dim)) + u64::from(moe_layers) * d;
    if let Some(Value::Object(vision)) = cfg.top.get("vision_config") {
        let vision = super::dense::vision_tower_params(vision, d);
        spec.extra_params += vision;
        spec.unstreamed_params += vision;
    }
    Ok(spec)
}

/// Nemotron-H: `hybrid_override_pattern` names each layer — `M` Mamba-2, `*` attention, `-` a
/// squared-ReLU MLP, `E` a MoE MLP (Nemotron 3).
pub(super) fn nemotron_h(cfg: &Config<'_>) -> Result<ModelSpec> {
    let pattern = match cfg.map.get("hybrid_override_pattern") {
        Some(Value::String(p)) => p.clone(),
        Some(v) => {
            return Err(Error::invalid(
                cfg.origin,
                "hybrid_override_pattern",
                format!("expected a string, got {v}"),
            ))
        }
        None => {
            return Err(Error::invalid(
                cfg.origin,
                "hybrid_override_pattern",
                "required key missing from config.json",
            ))
        }
    };
    if let Some(c) = pattern.chars().find(|c| !matches!(c, 'M' | '*' | '-' | 'E')) {
        return Err(Error::invalid(
            cfg.origin,
            "hybrid_override_pattern",
            format!("'{c}' is not a layer kind (M mamba, * attention, - MLP, E MoE)"),
        ));
    }
    let count = |k: char| pattern.chars().filter(|&c| c == k).count() as u32;
    let (mamba, attention, mlp, moe_layers) = (count('M'), count('*'), count('-'), count('E'));
    let hidden = cfg.required_u32(&["hidden_size"])?;
    let heads = cfg.required_u32(&["num_attention_heads"])?;
    let head_dim = match cfg
        .optional_u32("head_dim")?
        .or(cfg.optional_u32("attention_head_dim")?)
    {
        Some(v) => v,
        None => super::derived_head_dim(hidden, heads, cfg)?,
    };
    if attention == 0 || mamba == 0 {
        return Err(Error::invalid(
            cfg.origin,
            "hybrid_override_pattern",
            "needs at least one attention (*) and one mamba (M) layer",
        ));
    }
    // A squared-ReLU MLP has two matrices (up, down); servecast's MLP counts three (gate, up,
    // down), so its inner sizes are taken at two thirds.
    let two_thirds = |x: u32| ((u64::from(x) * 2).div_ceil(3)) as u32;
    let inter = cfg.required_u32(&["intermediate_size"])?;
    let d = u64::from(hidden);
    let n_heads = cfg.required_u32(&["mamba_num_heads"])?;
    let m_head_dim = cfg.required_u32(&["mamba_head_dim"])?;
    let d_state = cfg.required_u32(&["ssm_state_size"])?;
    let groups = cfg.required_u32(&["n_groups"])?;
    let kernel = cfg.required_u32(&["conv_kernel"])?;
    let intermediate = u64::from(n_heads) * u64::from(m_head_dim);
    let conv_dim = intermediate + 2 * u64::from(groups) * u64::from(d_state);
    let mixer_weights = mamba2_mixer_weights(d, intermediate, groups, d_state, n_heads, kernel);
    let moe = if moe_layers > 0 {
        let routed = cfg.required_u32(&["n_routed_experts"])?;
        let shared = cfg.optional_u32("n_shared_experts")?.unwrap_or(0)
            * cfg.optional_u32("moe_shared_expert_intermediate_size")?.unwrap_or(0);
        Some(MoeSpec {
            num_experts: routed,
            num_experts_per_tok: cfg.required_u32(&["num_experts_per_tok"])?,
            moe_intermediate_size: two_thirds(cfg.required_u32(&["moe_intermediate_size"])?),
            shared_expert_intermediate_size: two_thirds(shared),
            moe_layers,
            expert_bias: false,
        })
    } else {
        None
    };
    Ok(ModelSpec {
        num_hidden_layers: pattern.chars().count() as u32,
        hidden_size: hidden,
        num_attention_heads: heads,
        num_key_value_heads: cfg.optional_u32("num_key_value_heads")?.unwrap_or(heads),
        head_dim,
        intermediate_size: two_thirds(inter).max(1),
        vocab_size: cfg.required_u32(&["vocab_size"])?,
        max_position_embeddings: cfg.max_model_len()?,
        tie_word_embeddings: cfg.optional_bool("tie_word_embeddings")?.unwrap_or(false),
        kv_layers_override: Some(attention),
        mlp_layers_override: Some(mlp + moe_layers),
        moe,
        recurrent: Some(RecurrentSpec {
            kind: RecurrentKind::Mamba2,
            layers: mamba,
            conv_dim: u32::try_from(conv_dim)
                .map_err(|_| Error::invalid(cfg.origin, "mamba_num_heads", "convolution width overflows"))?,
            conv_kernel: kernel,
            state_heads: n_heads,
            state_rows: m_head_dim,
            state_cols: d_state,
            n_groups: groups,
            group_state: d_state,
            mixer_weights,
            ssm_state_dtype: ssm_dtype(cfg)?,
            chunk_size: chunk_size(cfg)?,
            nemotron_h_state_rule: true,
            parallel: false,
        }),
        ..cfg.skeleton()?
    })
}

/// Jamba: Mamba layers with attention every `attn_layer_period` layers from
/// `attn_layer_offset`, MoE MLPs every `expert_layer_period` from `expert_layer_offset`.
pub(super) fn jamba(cfg: &Config<'_>) -> Result<ModelSpec> {
    let mut spec = llama_shape(cfg, "intermediate_size", false)?;
    let layers = spec.num_hidden_layers;
    let period = |key: &str| -> Result<u32> {
        let v = cfg.required_u32(&[key])?;
        if v == 0 {
            return Err(Error::invalid(cfg.origin, key, "must be > 0"));
        }
        Ok(v)
    };
    let (attn_period, attn_offset) = (period("attn_layer_period")?, cfg.required_u32(&["attn_layer_offset"])?);
    let (moe_period, moe_offset) = (
        period("expert_layer_period")?,
        cfg.required_u32(&["expert_layer_offset"])?,
    );
    let attention = (0..layers).filter(|i| i % attn_period == attn_offset).count() as u32;
    let moe_layers = (0..layers).filter(|i| i % moe_period == moe_offset).count() as u32;
    if attention == 0 || attention == layers {
        return Err(Error::invalid(
            cfg.origin,
            "attn_layer_period",
            "the pattern leaves no attention or no mamba layer",
        ));
    }
    let d = u64::from(spec.hidden_size);
    let expand = cfg.optional_u32("mamba_expand")?.unwrap_or(2);
    let d_state = cfg.required_u32(&["mamba_d_state"])?;
    let kernel = cfg.required_u32(&["mamba_d_conv"])?;
    let intermediate = u64::from(expand) * d;
    let dt_rank = match cfg.optional_u32("mamba_dt_rank")? {
        Some(r) => u64::from(r),
        None => d.div_ceil(16),
    };
    // in_proj, conv (+ bias), x_proj, dt_proj (+ bias), A_log, D, out_proj, Jamba's dt/B/C norms.
    let mixer_weights = d * 2 * intermediate
        + intermediate * (u64::from(kernel) + 1)
        + intermediate * (dt_rank + 2 * u64::from(d_state))
        + dt_rank * intermediate
        + intermediate
        + intermediate * u64::from(d_state)
        + intermediate
        + intermediate * d
        + dt_rank
        + 2 * u64::from(d_state);
    let channels =
        u32::try_from(intermediate).map_err(|_| Error::invalid(cfg.origin, "mamba_expand", "inner width overflows"))?;
    spec.recurrent = Some(RecurrentSpec {
        kind: RecurrentKind::Mamba,
        layers: layers - attention,
        conv_dim: channels,
        conv_kernel: kernel,
        state_heads: channels,
        state_rows: 1,
        state_cols: d_state,
        n_groups: 0,
        group_state: 0,
        mixer_weights,
        ssm_state_dtype: ssm_dtype(cfg)?,
        chunk_size: chunk_size(cfg)?,
        nemotron_h_state_rule: false,
        parallel: false,
    });
    spec.kv_layers_override = Some(attention);
    spec.moe = Some(MoeSpec {
        num_experts: cfg.required_u32(&["num_experts"])?,
        num_experts_per_tok: cfg.required_u32(&["num_experts_per_tok"])?,
        moe_intermediate_size: spec.intermediate_size,
        shared_expert_intermediate_size: 0,
        moe_layers,
        expert_bias: false,
    });
    Ok(spec)
}

/// Weights of one Mamba-2 mixer (`MambaMixer2`) of inner width `intermediate` on a model of width
/// `d`: in_proj (x, z, B, C, dt), the convolution with its bias, A / D / dt_bias, the gated norm,
/// out_proj (count; projection biases, off in every family here, not counted).
fn mamba2_mixer_weights(d: u64, intermediate: u64, groups: u32, d_state: u32, heads: u32, kernel: u32) -> u64 {
    let bc = 2 * u64::from(groups) * u64::from(d_state);
    let conv_dim = intermediate + bc;
    d * (2 * intermediate + bc + u64::from(heads))
        + conv_dim * (u64::from(kernel) + 1)
        + 3 * u64::from(heads)
        + intermediate
        + intermediate * d
}

/// A Mamba-2 state as vLLM's `mamba2_state_shape` takes it, from the `mamba_*` keys Granite
/// 4.0-H, Bamba and Falcon-H1 share, for a mixer of inner width `intermediate`.
fn mamba2_from_keys(cfg: &Config<'_>, d: u64, intermediate: u64, layers: u32, parallel: bool) -> Result<RecurrentSpec> {
    let heads = cfg.required_u32(&["mamba_n_heads"])?;
    let head_dim = cfg.required_u32(&["mamba_d_head"])?;
    let d_state = cfg.required_u32(&["mamba_d_state"])?;
    let groups = cfg.optional_u32("mamba_n_groups")?.unwrap_or(1);
    let kernel = cfg.optional_u32("mamba_d_conv")?.unwrap_or(4);
    if u64::from(heads) * u64::from(head_dim) != intermediate {
        return Err(Error::invalid(
            cfg.origin,
            "mamba_n_heads",
            format!(
                "{heads} heads × mamba_d_head {head_dim} must equal the mixer's inner width {intermediate} \
                 (mamba_expand × hidden_size, or mamba_d_ssm)"
            ),
        ));
    }
    let conv_dim = intermediate + 2 * u64::from(groups) * u64::from(d_state);
    Ok(RecurrentSpec {
        kind: RecurrentKind::Mamba2,
        layers,
        conv_dim: u32::try_from(conv_dim)
            .map_err(|_| Error::invalid(cfg.origin, "mamba_n_heads", "convolution width overflows"))?,
        conv_kernel: kernel,
        state_heads: heads,
        state_rows: head_dim,
        state_cols: d_state,
        n_groups: groups,
        group_state: d_state,
        mixer_weights: mamba2_mixer_weights(d, intermediate, groups, d_state, heads, kernel),
        ssm_state_dtype: ssm_dtype(cfg)?,
        chunk_size: chunk_size(cfg)?,
        nemotron_h_state_rule: false,
        parallel,
    })
}

/// `mamba_expand × hidden_size` (the inner width of Granite 4.0-H's and Bamba's mixers; Falcon-H1's
/// when it sets no `mamba_d_ssm`), elements; vLLM takes `int()` of a fractional expand.
fn expanded_width(cfg: &Config<'_>, hidden: u32) -> Result<u64> {
    let expand = cfg.optional_f64(cfg.map, "mamba_expand")?.unwrap_or(2.0);
    if !(expand > 0.0 && expand <= 64.0) {
        return Err(Error::invalid(
            cfg.origin,
            "mamba_expand",
            format!("must be in (0, 64], got {expand}"),
        ));
    }
    Ok((expand * f64::from(hidden)) as u64)
}

/// Granite 4.0-H (`GraniteMoeHybridForCausalLM`): `layer_types` names each layer `mamba` (Mamba-2)
/// or `attention`; every layer has the MoE block (`num_local_experts` > 0) and the shared MLP
/// (`shared_intermediate_size`), the shared MLP alone in the dense variants (H-Micro, H-1B).
pub(super) fn granite_moe_hybrid(cfg: &Config<'_>) -> Result<ModelSpec> {
    let shared = cfg.optional_u32("shared_intermediate_size")?.unwrap_or(0);
    let experts = cfg.optional_u32("num_local_experts")?.unwrap_or(0);
    let key = if shared > 0 {
        "shared_intermediate_size"
    } else {
        "intermediate_size"
    };
    let mut spec = llama_shape(cfg, key, false)?;
    let layers = spec.num_hidden_layers;
    let types = cfg.str_list("layer_types")?.ok_or_else(|| {
        Error::invalid(
            cfg.origin,
            "layer_types",
            "required key missing from config.json (mamba / attention per layer)",
        )
    })?;
    if types.len() != layers as usize {
        return Err(Error::invalid(
            cfg.origin,
            "layer_types",
            format!("lists {} layers, num_hidden_layers is {layers}", types.len()),
        ));
    }
    if let Some(t) = types.iter().find(|t| *t != "mamba" && *t != "attention") {
        return Err(Error::invalid(
            cfg.origin,
            "layer_types",
            format!("'{t}' is neither mamba nor attention"),
        ));
    }
    let attention = types.iter().filter(|t| *t == "attention").count() as u32;
    if attention == 0 {
        return Err(Error::invalid(
            cfg.origin,
            "layer_types",
            "no attention layer: servecast models hybrids with at least one",
        ));
    }
    let d = u64::from(spec.hidden_size);
    if attention < layers {
        let width = expanded_width(cfg, spec.hidden_size)?;
        spec.recurrent = Some(mamba2_from_keys(cfg, d, width, layers - attention, false)?);
        spec.kv_layers_override = Some(attention);
    }
    spec.tie_word_embeddings = cfg.optional_bool("tie_word_embeddings")?.unwrap_or(true);
    if experts > 0 {
        spec.moe = Some(MoeSpec {
            num_experts: experts,
            num_experts_per_tok: cfg.required_u32(&["num_experts_per_tok"])?,
            moe_intermediate_size: cfg.required_u32(&["intermediate_size"])?,
            shared_expert_intermediate_size: shared,
            moe_layers: layers,
            expert_bias: false,
        });
    } else if shared == 0 {
        return Err(Error::invalid(
            cfg.origin,
            "shared_intermediate_size",
            "neither experts (num_local_experts) nor a shared MLP: the layers would have no MLP",
        ));
    }
    Ok(spec)
}

/// Bamba (`BambaForCausalLM`): Mamba-2 layers with attention at `attn_layer_indices`, a dense
/// SwiGLU MLP in every layer.
pub(super) fn bamba(cfg: &Config<'_>) -> Result<ModelSpec> {
    let mut spec = llama_shape(cfg, "intermediate_size", false)?;
    let layers = spec.num_hidden_layers;
    let indices = cfg.u32_list("attn_layer_indices")?;
    if let Some(i) = indices.iter().find(|&&i| i >= layers) {
        return Err(Error::invalid(
            cfg.origin,
            "attn_layer_indices",
            format!("layer {i} is beyond num_hidden_layers ({layers})"),
        ));
    }
    let mut unique = indices.clone();
    unique.sort_unstable();
    unique.dedup();
    let attention = unique.len() as u32;
    if attention == 0 || attention == layers {
        return Err(Error::invalid(
            cfg.origin,
            "attn_layer_indices",
            "the list leaves no attention or no mamba layer",
        ));
    }
    let width = expanded_width(cfg, spec.hidden_size)?;
    spec.recurrent = Some(mamba2_from_keys(
        cfg,
        u64::from(spec.hidden_size),
        width,
        layers - attention,
        false,
    )?);
    spec.kv_layers_override = Some(attention);
    // Bamba-9B's file names no length: transformers' BambaConfig fills in its default, 262,144.
    if cfg.optional_u32("max_position_embeddings")?.is_none() {
        spec.max_position_embeddings = 262_144;
    }
    Ok(spec)
}

/// Falcon-H1 (`FalconH1ForCausalLM`): every decoder layer runs attention and a Mamba-2 mixer side
/// by side (`FalconH1ParallelHybrid`), then a SwiGLU MLP — as many recurrent as attention layers.
pub(super) fn falcon_h1(cfg: &Config<'_>) -> Result<ModelSpec> {
    let mut spec = llama_shape(cfg, "intermediate_size", false)?;
    let layers = spec.num_hidden_layers;
    let width = match cfg.optional_u32("mamba_d_ssm")? {
        Some(w) => u64::from(w),
        None => expanded_width(cfg, spec.hidden_size)?,
    };
    spec.recurrent = Some(mamba2_from_keys(cfg, u64::from(spec.hidden_size), width, layers, true)?);
    spec.kv_layers_override = Some(layers);
    spec.mlp_layers_override = Some(layers);
    // Each layer norms its attention, its mixer's input and its MLP input (the formula counts two).
    spec.extra_params += u64::from(layers) * u64::from(spec.hidden_size);
    Ok(spec)
}

/// Which of this room's families `family` is (for the dispatcher).
pub(super) fn parse(cfg: &Config<'_>, family: Family) -> Result<ModelSpec> {
    match family {
        Family::Qwen3Next => qwen3_next(cfg),
        Family::NemotronH => nemotron_h(cfg),
        Family::Jamba => jamba(cfg),
        Family::GraniteMoeHybrid => granite_moe_hybrid(cfg),
        Family::Bamba => bamba(cfg),
        Family::FalconH1 => falcon_h1(cfg),
        _ => Err(Error::invalid(cfg.origin, "architectures", "not a hybrid family")),
    }
}
