//! Speculative decoding as vLLM V1 takes it (`--speculative-config` JSON): the method, the
//! draft tokens per step, and the acceptance servecast needs to cost it.
//!
//! vLLM verifies `1 + K` tokens per decoding request per step (the last sampled token and K
//! drafts) and keeps the accepted prefix plus one bonus token; EAGLE-family and draft-model
//! proposers reserve K more lookahead slots (`num_lookahead_tokens`,
//! docs/research/vllm-memory-current.md §6).

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The proposer (`method` of `--speculative-config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecMethod {
    /// Prompt-lookup n-grams, proposed on the CPU (no GPU cost).
    Ngram,
    /// Suffix decoding (Arctic Inference), proposed on the CPU.
    Suffix,
    /// EAGLE: one extra decoder layer over the target's hidden states and its LM head.
    Eagle,
    /// EAGLE-3: one decoder layer fed three target layers, with its own (smaller) draft vocabulary.
    Eagle3,
    /// Multi-token prediction: the checkpoint's own MTP layer (DeepSeek, Qwen3-Next, GLM, …).
    #[serde(
        alias = "deepseek_mtp",
        alias = "qwen3_next_mtp",
        alias = "glm4_moe_mtp",
        alias = "mimo_mtp",
        alias = "ernie_mtp"
    )]
    Mtp,
    /// A separate smaller model (`model`: a catalog id or Hugging Face name).
    DraftModel,
}

/// `--speculative-config` as vLLM takes it, plus servecast's acceptance keys. Other vLLM keys
/// (`prompt_lookup_max`, `draft_tensor_parallel_size`, …) are accepted and do not change the cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeculativeConfig {
    /// The proposer.
    pub method: SpecMethod,
    /// Draft tokens per step (K ≥ 1).
    pub num_speculative_tokens: u32,
    /// The draft model or EAGLE head (`draft_model`: a catalog model servecast costs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// servecast: the chance each draft token is accepted given the ones before it were
    /// (per-position acceptance `α, α², …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance_rate: Option<f64>,
    /// servecast: vLLM's "Per-position acceptance rate" (the share of steps whose draft
    /// position i was accepted, non-increasing), one value per draft position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_position_acceptance: Option<Vec<f64>>,
    /// vLLM's other keys, kept as given.
    #[serde(flatten, default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// A validated speculative-decoding setup: what the engine and the step cost use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpecDecode {
    /// The proposer.
    pub method: SpecMethod,
    /// Draft tokens per step (K).
    pub num_speculative_tokens: u32,
    /// Share of steps whose draft position i (1-based: index i − 1) is accepted; non-increasing.
    pub per_position: Vec<f64>,
    /// Extra KV slots reserved per request per step beyond the verified tokens (K for
    /// EAGLE-family and draft models, 0 for n-gram and suffix proposers).
    pub lookahead_tokens: u32,
    /// The draft model's catalog entry (`draft_model` only).
    pub draft_model: Option<Box<crate::spec::ModelSpec>>,
}

impl SpecDecode {
    /// Tokens a decoding request gains per step on average: `1 + Σ per_position`
    /// (vLLM's "Mean acceptance length").
    pub fn mean_acceptance_length(&self) -> f64 {
        1.0 + self.per_position.iter().sum::<f64>()
    }

    /// Accepted drafts for a uniform draw `u` in [0, 1): the positions whose share exceeds `u`
    /// (so position i is accepted with probability `per_position[i]`, and only after i − 1).
    pub fn accepted_for(&self, u: f64) -> u32 {
        self.per_position.iter().take_while(|&&p| u < p).count() as u32
    }
}

impl SpeculativeConfig {
    /// Parses the JSON vLLM's `--speculative-config` takes; `origin` names the flag or file.
    pub fn parse(text: &str, origin: &str) -> Result<SpeculativeConfig> {
        serde_json::from_str(text).map_err(|e| Error::invalid(origin, "speculative_config", e.to_string()))
    }

    /// Checks the values and resolves the acceptance and the draft model.
    pub fn resolve(&self, origin: &str) -> Result<SpecDecode> {
        let k = self.num_speculative_tokens;
        if !(1..=16).contains(&k) {
            return Err(Error::invalid(
                origin,
                "speculative_config.num_speculative_tokens",
                format!("{k} is outside 1..=16"),
            ));
        }
        let per_position = match (&self.per_position_acceptance, self.acceptance_rate) {
            (Some(list), _) => {
                if list.len() != k as usize {
                    return Err(Error::invalid(
                        origin,
                        "speculative_config.per_position_acceptance",
                        format!("{} values for {k} draft tokens; give one per position", list.len()),
                    ));
                }
                list.clone()
            }
            (None, Some(a)) => {
                if !(a.is_finite() && a > 0.0 && a <= 1.0) {
                    return Err(Error::invalid(
                        origin,
                        "speculative_config.acceptance_rate",
                        format!("{a} is outside (0, 1]"),
                    ));
                }
                (1..=k).map(|i| a.powi(i as i32)).collect()
            }
            (None, None) => {
                return Err(Error::invalid(
                    origin,
                    "speculative_config.acceptance_rate",
                    "servecast needs the acceptance: give acceptance_rate (α in (0, 1), each draft \
                     accepted with α given the ones before) or per_position_acceptance (vLLM's \
                     \"Per-position acceptance rate\" line, e.g. [0.8, 0.6, 0.45] for EAGLE-3 on chat)",
                ))
            }
        };
        for (i, p) in per_position.iter().enumerate() {
            if !(p.is_finite() && (0.0..=1.0).contains(p)) || (i > 0 && *p > per_position[i - 1] + 1e-12) {
                return Err(Error::invalid(
                    origin,
                    "speculative_config.per_position_acceptance",
                    format!("values must lie in [0, 1] and not increase (position {} is {p})", i + 1),
                ));
            }
        }
        let draft_model = match (self.method, &self.model) {
            (SpecMethod::DraftModel, Some(name)) => {
                Some(Box::new(crate::spec::Catalog::builtin()?.model(name)?.clone()))
            }
            (SpecMethod::DraftModel, None) => {
                return Err(Error::invalid(
                    origin,
                    "speculative_config.model",
                    "draft_model needs the draft's name (a catalog model)",
                ))
            }
            _ => None,
        };
        let lookahead_tokens = match self.method {
            SpecMethod::Ngram | SpecMethod::Suffix => 0,
            _ => k,
        };
        Ok(SpecDecode {
            method: self.method,
            num_speculative_tokens: k,
            per_position,
            lookahead_tokens,
            draft_model,
        })
    }
}
