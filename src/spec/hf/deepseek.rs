//! DeepSeek-V2 / V3 (and Kimi K2, which ships as `DeepseekV3ForCausalLM`): multi-head latent
//! attention over a routed MoE with shared experts, the first layers dense.
//!
//! vLLM caches one latent of `kv_lora_rank + qk_rope_head_dim` elements per token per layer
//! (`MLAAttentionSpec`), replicated on every tensor-parallel rank. The multi-token-prediction
//! layers (`num_nextn_predict_layers`) are not loaded unless speculative decoding asks for them.

use super::dense::llama_shape;
use super::{Config, Family};
use crate::spec::{MlaSpec, ModelSpec, MoeSpec};
use crate::Result;

/// DeepSeek-V2 / V2-Lite / V3 / R1, Kimi K2.
pub(super) fn deepseek(cfg: &Config<'_>, family: Family) -> Result<ModelSpec> {
    let nope = cfg.required_u32(&["qk_nope_head_dim"])?;
    let rope = cfg.required_u32(&["qk_rope_head_dim"])?;
    let mut spec = llama_shape(cfg, "intermediate_size", false)?;
    // Per-head query/key width; the KV cache size comes from the latent, not from heads.
    spec.head_dim = nope + rope;
    spec.num_key_value_heads = spec.num_attention_heads;
    spec.mla = Some(MlaSpec {
        kv_lora_rank: cfg.required_u32(&["kv_lora_rank"])?,
        q_lora_rank: cfg.optional_u32("q_lora_rank")?,
        qk_nope_head_dim: nope,
        qk_rope_head_dim: rope,
        v_head_dim: cfg.required_u32(&["v_head_dim"])?,
    });
    let layers = spec.num_hidden_layers;
    let first_dense = cfg.optional_u32("first_k_dense_replace")?.unwrap_or(0);
    let freq = cfg.optional_u32("moe_layer_freq")?.unwrap_or(1).max(1);
    let experts = cfg.optional_u32("n_routed_experts")?.unwrap_or(0);
    if experts > 0 {
        let inter = cfg.required_u32(&["moe_intermediate_size"])?;
        let moe_layers = (0..layers).filter(|&i| i >= first_dense && i % freq == 0).count() as u32;
        spec.moe = Some(MoeSpec {
            num_experts: experts,
            num_experts_per_tok: cfg.required_u32(&["num_experts_per_tok"])?,
            moe_intermediate_size: inter,
            shared_expert_intermediate_size: cfg.optional_u32("n_shared_experts")?.unwrap_or(0) * inter,
            moe_layers,
            expert_bias: false,
        });
        if family == Family::DeepseekV3 {
            // The router's score-correction bias (noaux_tc routing).
            spec.extra_params += u64::from(moe_layers) * u64::from(experts);
        }
    }
    Ok(spec)
}
