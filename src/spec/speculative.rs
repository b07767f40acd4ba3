//! Speculative decoding as vLLM V1 takes it (`--speculative-config` JSON): the method, the
//! draft tokens per step, and the acceptance servecast needs to cost it: given, or the published
//! acceptance of the method (`data/speculative-acceptance.yaml`, 37 measurements with sources).
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

impl SpecMethod {
    /// vLLM's name of the method.
    pub fn name(self) -> &'static str {
        match self {
            SpecMethod::Ngram => "ngram",
            SpecMethod::Suffix => "suffix",
            SpecMethod::Eagle => "eagle",
            SpecMethod::Eagle3 => "eagle3",
            SpecMethod::Mtp => "mtp",
            SpecMethod::DraftModel => "draft_model",
        }
    }
}

/// `--speculative-config` as vLLM takes it, plus servecast's acceptance keys. Other vLLM keys
/// (`prompt_lookup_max`, `draft_tensor_parallel_size`, …) are accepted and do not change the cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeculativeConfig {
    /// The proposer; none: told from `model` as vLLM tells it (`ngram` / `[ngram]`, a name with
    /// `eagle-` or `eagle3` in it, else a draft model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<SpecMethod>,
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
    /// servecast: the workload whose published acceptance to use when neither acceptance key
    /// is given (`mt-bench`, `sharegpt`, `humaneval`, `gsm8k`, …; default: a chat dataset);
    /// see `data/speculative-acceptance.yaml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance_dataset: Option<String>,
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
    /// Where the acceptance comes from: "given" or the published measurements it was taken from.
    pub acceptance_source: String,
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

    /// The proposer: `method`, else told from `model` as vLLM's `SpeculativeConfig` tells it
    /// (`vllm/config/speculative.py`: "[ngram]", then a name containing `eagle-` (EAGLE) or
    /// `eagle3` (EAGLE-3), else a draft model; servecast cannot read an MTP or Medusa head's
    /// `model_type`, so those need `method`).
    pub fn method(&self, origin: &str) -> Result<SpecMethod> {
        if let Some(m) = self.method {
            return Ok(m);
        }
        let Some(model) = self.model.as_deref() else {
            return Err(Error::invalid(
                origin,
                "speculative_config.method",
                "num_speculative_tokens was provided but without speculative model.",
            ));
        };
        let lower = model.to_ascii_lowercase();
        Ok(if lower == "ngram" || lower == "[ngram]" {
            SpecMethod::Ngram
        } else if lower.contains("eagle-") {
            SpecMethod::Eagle
        } else if lower.contains("eagle3") {
            SpecMethod::Eagle3
        } else {
            SpecMethod::DraftModel
        })
    }

    /// Checks the values and resolves the acceptance and the draft model. Without an acceptance
    /// key, the acceptance is the published one for the method on `target` (the served model;
    /// none: any target) and the `acceptance_dataset` (`data/speculative-acceptance.yaml`).
    pub fn resolve(&self, origin: &str, target: Option<&crate::spec::ModelSpec>) -> Result<SpecDecode> {
        let method = self.method(origin)?;
        let k = self.num_speculative_tokens;
        if !(1..=16).contains(&k) {
            return Err(Error::invalid(
                origin,
                "speculative_config.num_speculative_tokens",
                format!("{k} is outside 1..=16"),
            ));
        }
        let mut acceptance_source = "given".to_string();
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
                let Some((per_position, source)) =
                    published_acceptance(method, target, self.acceptance_dataset.as_deref(), k)
                else {
                    let mut datasets: Vec<&str> = acceptance_presets()
                        .iter()
                        .filter(|p| p.method == method)
                        .map(|p| p.dataset.as_str())
                        .collect();
                    datasets.sort_unstable();
                    datasets.dedup();
                    let published = if datasets.is_empty() {
                        String::new()
                    } else {
                        format!(" (published for {}: {})", method.name(), datasets.join(", "))
                    };
                    return Err(Error::invalid(
                        origin,
                        "speculative_config.acceptance_rate",
                        format!(
                            "servecast has no published acceptance for {}{}{published}: give acceptance_rate (α in \
                             (0, 1), each draft accepted with α given the ones before), per_position_acceptance \
                             (vLLM's \"Per-position acceptance rate\" line, e.g. [0.8, 0.6, 0.45] for EAGLE-3 on \
                             chat) or acceptance_dataset",
                            method.name(),
                            self.acceptance_dataset
                                .as_deref()
                                .map_or(String::new(), |d| format!(" on {d}"))
                        ),
                    ));
                };
                acceptance_source = source;
                per_position
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
        let draft_model = match (method, &self.model) {
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
        let lookahead_tokens = match method {
            SpecMethod::Ngram | SpecMethod::Suffix => 0,
            _ => k,
        };
        Ok(SpecDecode {
            method,
            num_speculative_tokens: k,
            per_position,
            lookahead_tokens,
            draft_model,
            acceptance_source,
        })
    }
}

/// One published acceptance measurement (`data/speculative-acceptance.yaml`).
#[derive(Debug, Clone, Deserialize)]
pub struct AcceptancePreset {
    /// The proposer measured.
    pub method: SpecMethod,
    /// The target model (for MTP, the model itself).
    pub target: String,
    /// The draft checkpoint or EAGLE head, where stated.
    #[serde(default)]
    pub draft: Option<String>,
    /// The prompts the acceptance was measured on (`mt-bench`, `sharegpt`, `humaneval`, …).
    pub dataset: String,
    /// Draft tokens per step the figure was measured with (none: not stated, or tree decoding).
    #[serde(default)]
    pub num_speculative_tokens: Option<u32>,
    /// Share of steps whose draft position i was accepted, where printed.
    #[serde(default)]
    pub per_position_acceptance: Option<Vec<f64>>,
    /// `1 + Σ per-position`, where printed.
    #[serde(default)]
    pub mean_acceptance_length: Option<f64>,
    /// The engine it was measured on (a tree-decoding reference is not vLLM's chain).
    #[serde(default)]
    pub engine: Option<String>,
    /// Where it was published.
    #[serde(default)]
    pub source: serde_json::Value,
}

impl AcceptancePreset {
    /// Whether the figure was measured with tree drafts (the EAGLE papers' τ), which vLLM's
    /// chain of drafts does not reach.
    fn tree(&self) -> bool {
        self.engine
            .as_deref()
            .is_some_and(|e| e.to_ascii_lowercase().contains("tree"))
    }

    /// The source's address, for notes.
    fn address(&self) -> String {
        ["url", "repo"]
            .iter()
            .find_map(|k| self.source.get(*k).and_then(|v| v.as_str()).map(str::to_string))
            .unwrap_or_else(|| "data/speculative-acceptance.yaml".to_string())
    }

    /// Per-position acceptance for `k` drafts: the printed positions (those beyond the printed
    /// ones continue at the last printed position's conditional rate), else the constant
    /// conditional rate α whose `Σ_{i ≤ K₀} αⁱ` gives the printed mean acceptance length at the
    /// measured K₀.
    pub fn per_position(&self, k: u32) -> Option<Vec<f64>> {
        let k = k as usize;
        if let Some(list) = self.per_position_acceptance.as_ref().filter(|l| !l.is_empty()) {
            let mut out: Vec<f64> = list.iter().take(k).copied().collect();
            let ratio = match list.len() {
                1 => list[0],
                n => {
                    if list[n - 2] > 0.0 {
                        list[n - 1] / list[n - 2]
                    } else {
                        0.0
                    }
                }
            }
            .clamp(0.0, 1.0);
            while out.len() < k {
                let last = out.last().copied().unwrap_or(1.0);
                out.push(last * ratio);
            }
            return Some(out);
        }
        let tau = self.mean_acceptance_length?;
        let k0 = self.num_speculative_tokens? as i32;
        let accepted = tau - 1.0;
        if !(accepted.is_finite() && accepted > 0.0 && accepted < f64::from(k0)) {
            return None;
        }
        // Σ_{i=1..K₀} αⁱ rises with α from 0 to K₀: bisect for the printed sum.
        let sum = |a: f64| (1..=k0).map(|i| a.powi(i)).sum::<f64>();
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if sum(mid) < accepted {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let alpha = 0.5 * (lo + hi);
        Some((1..=k as i32).map(|i| alpha.powi(i)).collect())
    }
}

#[derive(Deserialize)]
struct AcceptanceFile {
    presets: Vec<AcceptancePreset>,
}

/// The published acceptance measurements embedded from `data/speculative-acceptance.yaml`
/// (none if the file fails to parse; its test checks it does).
pub fn acceptance_presets() -> &'static [AcceptancePreset] {
    static PRESETS: std::sync::OnceLock<Vec<AcceptancePreset>> = std::sync::OnceLock::new();
    PRESETS.get_or_init(|| {
        serde_saphyr::from_str::<AcceptanceFile>(include_str!("../../data/speculative-acceptance.yaml"))
            .map(|f| f.presets)
            .unwrap_or_default()
    })
}

/// Datasets taken for "chat" when no `acceptance_dataset` is named.
const CHAT_DATASETS: [&str; 4] = ["mt-bench", "sharegpt", "chat", "alpaca"];

/// The published per-position acceptance of `method` for `k` drafts, and what it was taken from:
/// the measurements on `target` (else on any target) and on `dataset` (else on chat prompts),
/// measured with vLLM's chain of drafts where there are such (else the papers' tree drafts),
/// position by position the median over the measurements chosen.
pub fn published_acceptance(
    method: SpecMethod,
    target: Option<&crate::spec::ModelSpec>,
    dataset: Option<&str>,
    k: u32,
) -> Option<(Vec<f64>, String)> {
    let all: Vec<&AcceptancePreset> = acceptance_presets()
        .iter()
        .filter(|p| p.method == method && p.per_position(k).is_some())
        .collect();
    let on_dataset = |p: &&AcceptancePreset| match dataset {
        Some(d) => p.dataset.eq_ignore_ascii_case(d.trim()),
        None => CHAT_DATASETS.iter().any(|c| p.dataset.eq_ignore_ascii_case(c)),
    };
    let catalog = crate::spec::Catalog::builtin().ok();
    let on_target = |p: &&AcceptancePreset| {
        target.is_some_and(|t| {
            catalog.as_ref().and_then(|c| c.model(&p.target).ok()).map_or_else(
                || crate::spec::catalog::normalize_name(&p.target) == crate::spec::catalog::normalize_name(&t.id),
                |m| m.id == t.id,
            )
        })
    };
    let chain = |p: &&AcceptancePreset| !p.tree();
    // Narrowest first: this target on this dataset, then any target on it, then (no dataset
    // named) any dataset; vLLM's chain before the papers' trees.
    let tiers: [(bool, bool); 3] = [(true, true), (false, true), (false, false)];
    for chain_only in [true, false] {
        for (need_target, need_dataset) in tiers {
            // A named dataset is never widened to others.
            if !need_dataset && dataset.is_some() {
                continue;
            }
            let mut chosen: Vec<&&AcceptancePreset> = all
                .iter()
                .filter(|p| {
                    (!chain_only || chain(p)) && (!need_target || on_target(p)) && (!need_dataset || on_dataset(p))
                })
                .collect();
            if chosen.is_empty() {
                continue;
            }
            // Measured at the K asked for, where some were.
            if chosen.iter().any(|p| p.num_speculative_tokens == Some(k)) {
                chosen.retain(|p| p.num_speculative_tokens == Some(k));
            }
            let lists: Vec<Vec<f64>> = chosen.iter().filter_map(|p| p.per_position(k)).collect();
            let per_position: Vec<f64> = (0..k as usize)
                .map(|i| {
                    let mut v: Vec<f64> = lists.iter().map(|l| l[i]).collect();
                    v.sort_by(f64::total_cmp);
                    let n = v.len();
                    if n % 2 == 1 {
                        v[n / 2]
                    } else {
                        0.5 * (v[n / 2 - 1] + v[n / 2])
                    }
                })
                .collect();
            // Keep the positions non-increasing (a median of lists need not be).
            let mut monotone = per_position;
            for i in 1..monotone.len() {
                monotone[i] = monotone[i].min(monotone[i - 1]);
            }
            let first = chosen[0];
            let what = if chosen.len() == 1 {
                format!(
                    "published acceptance of {} on {} ({}{}; {})",
                    method.name(),
                    first.target,
                    first.dataset,
                    first.engine.as_deref().map_or(String::new(), |e| format!(", {e}")),
                    first.address()
                )
            } else {
                let mut datasets: Vec<&str> = chosen.iter().map(|p| p.dataset.as_str()).collect();
                datasets.sort_unstable();
                datasets.dedup();
                let mut targets: Vec<&str> = chosen.iter().map(|p| p.target.as_str()).collect();
                targets.sort_unstable();
                targets.dedup();
                format!(
                    "median of {} published acceptances of {} ({} on {}; data/speculative-acceptance.yaml)",
                    chosen.len(),
                    method.name(),
                    targets.join(", "),
                    datasets.join(", ")
                )
            };
            let what = if matches!(method, SpecMethod::Ngram | SpecMethod::Suffix) {
                format!(
                    "{what}; vLLM counts only the steps that found a match, so steps without one gain less than this"
                )
            } else {
                what
            };
            return Some((monotone, what));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preset(per_position: Option<Vec<f64>>, tau: Option<f64>, k: Option<u32>) -> AcceptancePreset {
        AcceptancePreset {
            method: SpecMethod::Eagle3,
            target: "llama-3.1-8b".into(),
            draft: None,
            dataset: "mt-bench".into(),
            num_speculative_tokens: k,
            per_position_acceptance: per_position,
            mean_acceptance_length: tau,
            engine: Some("vLLM".into()),
            source: serde_json::Value::Null,
        }
    }

    #[test]
    fn every_published_acceptance_is_a_chain_vllm_could_print() {
        let all = acceptance_presets();
        assert_eq!(all.len(), 37, "data/speculative-acceptance.yaml parses whole");
        for p in all {
            let k = p.num_speculative_tokens;
            if let Some(list) = &p.per_position_acceptance {
                // Shares in [0, 1], non-increasing, one per draft position.
                assert!(list.iter().all(|a| (0.0..=1.0).contains(a)), "{} {:?}", p.target, list);
                assert!(list.windows(2).all(|w| w[1] <= w[0]), "{} {:?}", p.target, list);
                assert_eq!(k, Some(list.len() as u32), "{} {:?}", p.target, list);
                // Where both are printed, the mean acceptance length is 1 + their sum.
                if let Some(tau) = p.mean_acceptance_length {
                    let sum: f64 = list.iter().sum();
                    assert!((1.0 + sum - tau).abs() <= 0.011, "{} {:?} {tau}", p.target, list);
                }
            } else {
                assert!(p.mean_acceptance_length.is_some(), "{}: no acceptance", p.target);
            }
            assert!(!p.tree() || p.per_position_acceptance.is_none(), "{}", p.target);
            assert!(p.address().starts_with("http"), "{}: {}", p.target, p.address());
        }
    }

    #[test]
    fn a_published_acceptance_gives_any_number_of_positions() {
        // Printed positions are kept; later ones continue at the last conditional rate (0.75).
        let p = preset(Some(vec![0.8, 0.6, 0.45]), None, Some(3));
        let got = p.per_position(5).unwrap_or_default();
        for (g, want) in got.iter().zip([0.8, 0.6, 0.45, 0.3375, 0.253125]) {
            assert!((g - want).abs() < 1e-12, "{got:?}");
        }
        assert_eq!(p.per_position(2), Some(vec![0.8, 0.6]));
        // A mean acceptance length alone: the constant rate α with α + α² + α³ = 3.0 − 1 at K = 3
        // (α = 0.8105…), then αⁱ.
        let p = preset(None, Some(3.0), Some(3));
        let got = p.per_position(2).unwrap_or_default();
        assert!((got[0] - 0.810_536).abs() < 1e-5, "{got:?}");
        assert!((got[1] - got[0] * got[0]).abs() < 1e-12);
        // MTP's one draft accepted 80% of the time: τ = 1.8 at K = 1.
        let p = preset(None, Some(1.8), Some(1));
        let got = p.per_position(3).unwrap_or_default();
        for (g, want) in got.iter().zip([0.8, 0.64, 0.512]) {
            assert!((g - want).abs() < 1e-9, "{got:?}");
        }
        // A length that no chain of K drafts gives (every draft accepted, or worse than none) is
        // not used.
        assert_eq!(preset(None, Some(4.0), Some(3)).per_position(3), None);
        assert_eq!(preset(None, Some(0.9), Some(3)).per_position(3), None);
        assert_eq!(preset(None, Some(2.0), None).per_position(3), None);
    }
}
