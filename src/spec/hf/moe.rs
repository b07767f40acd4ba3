//! Mixture-of-experts families with ordinary attention: Mixtral, Qwen2-MoE, Qwen3-MoE,
//! GLM-4.5 (`glm4_moe`), Llama 4 and gpt-oss.
//!
//! Every expert is resident in memory; a token passes through the router, its top-k routed
//! experts and the shared experts (vLLM `fused_moe`), which is what `ModelSpec::moe` records.

use serde_json::Value;

use super::dense::{llama_shape, sliding_window, vision_tower_params};
use super::{Config, Family};
use crate::spec::{ModelSpec, MoeSpec};
use crate::{Error, Result};

/// MoE layers of a stack of `layers` given which layer indices route.
fn count_layers(layers: u32, routes: impl Fn(u32) -> bool) -> u32 {
    (0..layers).filter(|&i| routes(i)).count() as u32
}

/// Mixtral, Qwen2-MoE, Qwen3-MoE, GLM-4.5 and Llama 4 (text model).
pub(super) fn routed(cfg: &Config<'_>, family: Family) -> Result<ModelSpec> {
    let qkv_bias = match family {
        Family::Qwen2Moe => true,
        _ => cfg.optional_bool("attention_bias")?.unwrap_or(false),
    };
    // The dense MLP of the layers that do not route (Mixtral has none: its experts' size).
    let dense_key = match family {
        Family::Llama4 => "intermediate_size_mlp",
        _ => "intermediate_size",
    };
    let mut spec = llama_shape(cfg, dense_key, qkv_bias)?;
    let layers = spec.num_hidden_layers;
    let (experts, expert_inter, shared, moe_layers) = match family {
        Family::Mixtral => (
            cfg.required_u32(&["num_local_experts"])?,
            cfg.required_u32(&["intermediate_size"])?,
            0,
            layers,
        ),
        Family::Qwen2Moe | Family::Qwen3Moe => {
            let experts = cfg.required_u32(&["num_experts"])?;
            let step = cfg.optional_u32("decoder_sparse_step")?.unwrap_or(1).max(1);
            let dense_only = cfg.u32_list("mlp_only_layers")?;
            let shared = cfg.optional_u32("shared_expert_intermediate_size")?.unwrap_or(0);
            let moe_layers = count_layers(layers, |i| {
                !dense_only.contains(&i) && experts > 0 && (i + 1) % step == 0
            });
            (
                experts,
                cfg.required_u32(&["moe_intermediate_size"])?,
                shared,
                moe_layers,
            )
        }
        Family::Glm4Moe => {
            let inter = cfg.required_u32(&["moe_intermediate_size"])?;
            let shared = cfg.optional_u32("n_shared_experts")?.unwrap_or(0) * inter;
            let first_dense = cfg.optional_u32("first_k_dense_replace")?.unwrap_or(0);
            (
                cfg.required_u32(&["n_routed_experts"])?,
                inter,
                shared,
                count_layers(layers, |i| i >= first_dense),
            )
        }
        Family::Llama4 => {
            let inter = cfg.required_u32(&["intermediate_size"])?;
            let listed = cfg.u32_list("moe_layers")?;
            let moe_layers = if listed.is_empty() {
                let step = cfg.optional_u32("interleave_moe_layer_step")?.unwrap_or(1).max(1);
                count_layers(layers, |i| (i + 1) % step == 0)
            } else {
                listed.iter().filter(|&&i| i < layers).count() as u32
            };
            // One shared expert of the routed experts' size in every MoE layer.
            (cfg.required_u32(&["num_local_experts"])?, inter, inter, moe_layers)
        }
        _ => {
            return Err(Error::invalid(
                cfg.origin,
                "architectures",
                format!("{family:?} is not a routed-MoE family"),
            ))
        }
    };
    spec.moe = Some(MoeSpec {
        num_experts: experts,
        num_experts_per_tok: cfg.required_u32(&["num_experts_per_tok"])?,
        moe_intermediate_size: expert_inter,
        shared_expert_intermediate_size: shared,
        moe_layers,
        expert_bias: false,
    });
    let d = u64::from(spec.hidden_size);
    match family {
        Family::Qwen3Moe => spec.extra_params += u64::from(layers) * 2 * u64::from(spec.head_dim),
        // The shared expert's sigmoid gate.
        Family::Qwen2Moe if shared > 0 => spec.extra_params += u64::from(moe_layers) * d,
        Family::Glm4Moe => {
            if cfg.optional_bool("use_qk_norm")?.unwrap_or(false) {
                spec.extra_params += u64::from(layers) * 2 * u64::from(spec.head_dim);
            }
            // The router's score-correction bias.
            spec.extra_params += u64::from(moe_layers) * u64::from(experts);
        }
        Family::Llama4 => {
            if let Some(Value::Object(vision)) = cfg.top.get("vision_config") {
                spec.extra_params += vision_tower_params(vision, d);
            }
        }
        _ => {}
    }
    spec.sliding_window = sliding_window(cfg, layers, family)?;
    Ok(spec)
}

/// gpt-oss: biased attention with a learned sink per head, alternating sliding-window (128) and
/// full layers, 32 / 128 biased experts of which 4 run per token, experts in MXFP4.
pub(super) fn gpt_oss(cfg: &Config<'_>) -> Result<ModelSpec> {
    let mut spec = llama_shape(cfg, "intermediate_size", true)?;
    let layers = spec.num_hidden_layers;
    let top_k = match cfg.optional_u32("num_experts_per_tok")? {
        Some(k) => k,
        None => cfg.required_u32(&["experts_per_token"])?,
    };
    spec.moe = Some(MoeSpec {
        num_experts: cfg.required_u32(&["num_local_experts"])?,
        num_experts_per_tok: top_k,
        moe_intermediate_size: spec.intermediate_size,
        shared_expert_intermediate_size: 0,
        moe_layers: layers,
        expert_bias: true,
    });
    // The o-projection's bias and one sink logit per head, in every layer.
    spec.extra_params += u64::from(layers) * (u64::from(spec.hidden_size) + u64::from(spec.num_attention_heads));
    spec.sliding_window = sliding_window(cfg, layers, Family::GptOss)?;
    spec.attention_sinks = true;
    Ok(spec)
}
