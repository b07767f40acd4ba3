//! The learned prior: cost terms' central values and spreads, learned from the measured corpus.
//!
//! Host-side terms (CPU overheads of a step and of a sequence, the API server's time per request
//! and per streamed token, the front-end latency) are spent by vLLM's Python code, so they are
//! learned per release line; the roofline efficiencies (fractions of the datasheet's bandwidth and
//! tensor throughput that kernels reach) are learned per GPU architecture. Each term is learned in
//! a transformed space where it is unbounded (log for times, logit for efficiencies) as a group
//! centre plus a spread of setups around it. `servecast priors` writes `data/priors.yaml` from
//! the corpus ([`crate::fit::hierarchy`]); fits move a setup's terms away from these centres only as
//! far as its data demands ([`crate::fit::map`]).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::CostParams;
use crate::error::{Error, Result};
use crate::spec::engine::{EngineVersion, ReleaseLine};
use crate::spec::GpuArch;

/// A learnable cost term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Term {
    /// Fixed host time per engine step, seconds.
    StepOverheadS,
    /// Host time per scheduled sequence per step, seconds.
    PerSeqOverheadS,
    /// Client-to-engine latency that does not queue (HTTP, hand-off, first output), seconds.
    FrontendLatencyS,
    /// API-server time per request at intake (serial), seconds.
    ApiServerRequestS,
    /// API-server time per chat request rendering a Jinja chat template (serial), seconds.
    ApiServerChatRequestS,
    /// API-server time per streamed output token (serial), seconds.
    ApiServerItemS,
    /// Fraction of DRAM bandwidth reached streaming weights.
    WeightsBandwidthEfficiency,
    /// Fraction of DRAM bandwidth reached reading KV in attention.
    AttentionBandwidthEfficiency,
    /// Fraction of dense tensor FLOP/s reached.
    ComputeEfficiency,
    /// Fraction of dense 16-bit tensor FLOP/s reached by dequantising GEMMs (AWQ, GPTQ, W8A16).
    QuantizedComputeEfficiency,
    /// Fraction of dense 16-bit tensor FLOP/s reached by prefill attention.
    AttentionComputeEfficiency,
    /// Fraction of DRAM bandwidth reached reading routed experts (MoE models only).
    ExpertBandwidthEfficiency,
    /// Fraction of the linear layers' peak reached by routed-expert GEMMs (MoE models only).
    ExpertComputeEfficiency,
    /// Fraction of dense 16-bit tensor FLOP/s reached by prefill attention in vLLM's Triton
    /// kernels (models with attention sinks on GPUs without a FlashAttention that takes them).
    TritonAttentionComputeEfficiency,
    /// Fixed GPU time of one MoE layer's routing per step (MoE models only), seconds.
    MoeLayerFloorS,
    /// vLLM 0.2–0.5's API-server time per streamed token, in the engine's own process: step time
    /// per output token (each request's output stream and SSE frame between two steps), seconds.
    ApiServerInlineItemS,
}

/// How a term is made unbounded for learning and fitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// z = ln(value): positive times.
    Log,
    /// z = ln(value ÷ (1 − value)): fractions in (0, 1).
    Logit,
}

/// Which group a term is learned per.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermGroup {
    /// Per release line (host-side Python code).
    Host,
    /// Per GPU architecture (kernels on the device).
    Gpu,
}

impl Term {
    /// Every learnable term, host-side first.
    pub const ALL: [Term; 16] = [
        Term::StepOverheadS,
        Term::PerSeqOverheadS,
        Term::FrontendLatencyS,
        Term::ApiServerRequestS,
        Term::ApiServerChatRequestS,
        Term::ApiServerItemS,
        Term::WeightsBandwidthEfficiency,
        Term::AttentionBandwidthEfficiency,
        Term::ComputeEfficiency,
        Term::QuantizedComputeEfficiency,
        Term::AttentionComputeEfficiency,
        Term::ExpertBandwidthEfficiency,
        Term::ExpertComputeEfficiency,
        Term::TritonAttentionComputeEfficiency,
        Term::MoeLayerFloorS,
        Term::ApiServerInlineItemS,
    ];

    /// The field name in a profile's `cost`.
    pub fn name(self) -> &'static str {
        match self {
            Term::StepOverheadS => "step_overhead_s",
            Term::PerSeqOverheadS => "per_seq_overhead_s",
            Term::FrontendLatencyS => "frontend_latency_s",
            Term::ApiServerRequestS => "api_server_request_s",
            Term::ApiServerChatRequestS => "api_server_chat_request_s",
            Term::ApiServerItemS => "api_server_item_s",
            Term::WeightsBandwidthEfficiency => "weights_bandwidth_efficiency",
            Term::AttentionBandwidthEfficiency => "attention_bandwidth_efficiency",
            Term::ComputeEfficiency => "compute_efficiency",
            Term::QuantizedComputeEfficiency => "quantized_compute_efficiency",
            Term::AttentionComputeEfficiency => "attention_compute_efficiency",
            Term::ExpertBandwidthEfficiency => "expert_bandwidth_efficiency",
            Term::ExpertComputeEfficiency => "expert_compute_efficiency",
            Term::TritonAttentionComputeEfficiency => "triton_attention_compute_efficiency",
            Term::MoeLayerFloorS => "moe_layer_floor_s",
            Term::ApiServerInlineItemS => "api_server_inline_item_s",
        }
    }

    /// The term called `name`.
    pub fn by_name(name: &str) -> Option<Term> {
        Term::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Host or GPU term.
    pub fn group(self) -> TermGroup {
        match self {
            Term::WeightsBandwidthEfficiency
            | Term::AttentionBandwidthEfficiency
            | Term::ComputeEfficiency
            | Term::QuantizedComputeEfficiency
            | Term::AttentionComputeEfficiency
            | Term::ExpertBandwidthEfficiency
            | Term::ExpertComputeEfficiency
            | Term::TritonAttentionComputeEfficiency
            | Term::MoeLayerFloorS => TermGroup::Gpu,
            _ => TermGroup::Host,
        }
    }

    /// Its transform.
    pub fn transform(self) -> Transform {
        match self {
            // A GPU-side time, not a fraction.
            Term::MoeLayerFloorS => Transform::Log,
            _ => match self.group() {
                TermGroup::Gpu => Transform::Logit,
                TermGroup::Host => Transform::Log,
            },
        }
    }

    /// Value → transformed (z) space; values are clamped into the transform's domain first.
    pub fn to_z(self, value: f64) -> f64 {
        match self.transform() {
            Transform::Log => value.max(1e-9).ln(),
            Transform::Logit => {
                let v = value.clamp(1e-4, 1.0 - 1e-4);
                (v / (1.0 - v)).ln()
            }
        }
    }

    /// Transformed (z) space → value.
    pub fn from_z(self, z: f64) -> f64 {
        let z = z.clamp(-40.0, 40.0);
        match self.transform() {
            Transform::Log => z.exp(),
            Transform::Logit => 1.0 / (1.0 + (-z).exp()),
        }
    }

    /// d value ÷ d z at `value` (for turning a z-space covariance into natural units).
    pub fn dvalue_dz(self, value: f64) -> f64 {
        match self.transform() {
            Transform::Log => value,
            Transform::Logit => value * (1.0 - value),
        }
    }

    /// The term's value in `c`.
    pub fn get(self, c: &CostParams) -> f64 {
        match self {
            Term::StepOverheadS => c.step_overhead_s,
            Term::PerSeqOverheadS => c.per_seq_overhead_s,
            Term::FrontendLatencyS => c.frontend_latency_s,
            Term::ApiServerRequestS => c.api_server_request_s,
            Term::ApiServerChatRequestS => c.api_server_chat_request_s,
            Term::ApiServerItemS => c.api_server_item_s,
            Term::WeightsBandwidthEfficiency => c.weights_bandwidth_efficiency,
            Term::AttentionBandwidthEfficiency => c.attention_bandwidth_efficiency,
            Term::ComputeEfficiency => c.compute_efficiency,
            Term::QuantizedComputeEfficiency => c.quantized_compute_efficiency,
            Term::AttentionComputeEfficiency => c.attention_compute_efficiency,
            Term::ExpertBandwidthEfficiency => c.expert_bandwidth_efficiency,
            Term::ExpertComputeEfficiency => c.expert_compute_efficiency,
            Term::TritonAttentionComputeEfficiency => c.triton_attention_compute_efficiency,
            Term::MoeLayerFloorS => c.moe_layer_floor_s,
            Term::ApiServerInlineItemS => c.api_server_inline_item_s,
        }
    }

    /// Sets the term in `c`.
    pub fn set(self, c: &mut CostParams, v: f64) {
        match self {
            Term::StepOverheadS => c.step_overhead_s = v,
            Term::PerSeqOverheadS => c.per_seq_overhead_s = v,
            Term::FrontendLatencyS => c.frontend_latency_s = v,
            Term::ApiServerRequestS => c.api_server_request_s = v,
            Term::ApiServerChatRequestS => c.api_server_chat_request_s = v,
            Term::ApiServerItemS => c.api_server_item_s = v,
            Term::WeightsBandwidthEfficiency => c.weights_bandwidth_efficiency = v,
            Term::AttentionBandwidthEfficiency => c.attention_bandwidth_efficiency = v,
            Term::ComputeEfficiency => c.compute_efficiency = v,
            Term::QuantizedComputeEfficiency => c.quantized_compute_efficiency = v,
            Term::AttentionComputeEfficiency => c.attention_compute_efficiency = v,
            Term::ExpertBandwidthEfficiency => c.expert_bandwidth_efficiency = v,
            Term::ExpertComputeEfficiency => c.expert_compute_efficiency = v,
            Term::TritonAttentionComputeEfficiency => c.triton_attention_compute_efficiency = v,
            Term::MoeLayerFloorS => c.moe_layer_floor_s = v,
            Term::ApiServerInlineItemS => c.api_server_inline_item_s = v,
        }
    }

    /// Whether the release line has this term at all: vLLM 0.2–0.5.3 streams from the engine's
    /// own event loop, so its per-token API work is step time (`api_server_inline_item_s`), not
    /// a separate queue (`api_server_item_s`; docs/research/frontend.md §1).
    pub fn applies_to(self, line: ReleaseLine) -> bool {
        match self {
            Term::ApiServerItemS => line != ReleaseLine::V05,
            Term::ApiServerInlineItemS => line == ReleaseLine::V05,
            _ => true,
        }
    }

    /// Whether a deployment has this term: [`Term::applies_to`] its release line, and the API
    /// server's terms only where vLLM's OpenAI server fronts the engine. An engine a program
    /// builds and drives itself (`usage_context: engine_context`) has none: whatever its own front
    /// end costs is in `frontend_latency_s`. The offline `LLM` class (`llm_class`) has neither
    /// the API server nor a client-to-engine latency: its intake is [`OFFLINE_REQUEST_S`].
    pub fn applies(self, line: ReleaseLine, usage: crate::spec::engine::UsageContext) -> bool {
        use crate::spec::engine::UsageContext;
        let api = matches!(
            self,
            Term::ApiServerRequestS | Term::ApiServerChatRequestS | Term::ApiServerItemS | Term::ApiServerInlineItemS
        );
        let front = api || self == Term::FrontendLatencyS;
        self.applies_to(line)
            && !(api && usage == UsageContext::EngineContext)
            && !(front && usage == UsageContext::LlmClass)
    }

    /// The hyperprior: where a line or architecture with no measurement sits, and how far (in
    /// z units, one σ) the data may move the group from it. Centres are physics and the code-level
    /// measurements in docs/research/frontend.md. Widths are half a z unit (a factor of 1.65 either
    /// way at one σ for a time, 2.7 at two): at twice that, one added offline setup (vLLM PR #7162)
    /// moved 59 of 111 learned group centres by more than 8%, terms it cannot inform among them,
    /// because loose centres let the optimiser trade shared terms along flat directions; at half
    /// a unit 17 moved (README, "The corpus and the learned prior").
    pub fn hyperprior(self, line: ReleaseLine) -> (f64, f64) {
        let v0 = matches!(line, ReleaseLine::V05 | ReleaseLine::V06);
        let (centre, width) = match self {
            // V0 schedules and prepares inputs in Python every step (vLLM's 0.6.0 post: 62% of
            // step time on the host for Llama-3-8B on an H100); V1 is leaner.
            Term::StepOverheadS => (if v0 { 3.0e-3 } else { 1.5e-3 }, 0.5),
            // Sampling, detokenisation and output objects per sequence: V0 heavier.
            Term::PerSeqOverheadS => (if v0 { 150e-6 } else { 40e-6 }, 0.6),
            // Hand-off and first output (0.2 + 0.5 ms) plus HTTP.
            Term::FrontendLatencyS => (2.0e-3, 0.5),
            // HTTP parse, validation, chat template, request setup (#27407: 0.55–0.98 ms + setup).
            Term::ApiServerRequestS => (1.0e-3, 0.5),
            // apply_chat_template in Python: a Jinja render of the conversation, the template's
            // own loops (Qwen3's walks the messages for tool calls and reasoning) — a broad prior
            // around a millisecond.
            Term::ApiServerChatRequestS => (1.0e-3, 0.75),
            // Detokenise + stop checks + SSE frame per token (#52875, #12287: 10–80 µs).
            Term::ApiServerItemS => (30e-6, 0.5),
            Term::WeightsBandwidthEfficiency => (Term::WeightsBandwidthEfficiency.to_z(0.85), 0.5),
            Term::AttentionBandwidthEfficiency => (Term::AttentionBandwidthEfficiency.to_z(0.55), 0.5),
            Term::ComputeEfficiency => (Term::ComputeEfficiency.to_z(0.6), 0.5),
            Term::QuantizedComputeEfficiency => (Term::QuantizedComputeEfficiency.to_z(0.4), 0.5),
            Term::AttentionComputeEfficiency => (Term::AttentionComputeEfficiency.to_z(0.5), 0.5),
            Term::ExpertBandwidthEfficiency => (Term::ExpertBandwidthEfficiency.to_z(0.6), 0.5),
            Term::ExpertComputeEfficiency => (Term::ExpertComputeEfficiency.to_z(0.4), 0.5),
            Term::TritonAttentionComputeEfficiency => (
                Term::TritonAttentionComputeEfficiency
                    .to_z(super::profile::default_triton_attention_compute_efficiency()),
                0.5,
            ),
            // Routing kernels a fused-MoE layer launches whatever the batch (gate GEMM, top-k,
            // the expert-sorting alignment, the weighted sum), a few microseconds each, and the
            // grouped GEMMs' own launch and tail at a few rows per expert.
            Term::MoeLayerFloorS => (super::profile::default_moe_layer_floor_s(), 0.5),
            // Up to 0.5.3 the API server shares the engine's process and event loop: each token's
            // output wakes its request's asyncio stream and handler (JSON, the SSE write) between
            // two steps — the cost 0.5.4 moved to a process of its own. docs/research/frontend.md
            // (c_out_tok, in-process 0.4–0.5.3): 60 µs, 30–120 µs at two σ either way. Served runs
            // cannot tell it from the engine's per-sequence time (both are paid per sequence per
            // step), so the physics has to: a broad prior let the pooled fit trade the two.
            Term::ApiServerInlineItemS => (60e-6, 0.35),
        };
        match self.transform() {
            Transform::Log => (self.to_z(centre), width),
            Transform::Logit => (centre, width),
        }
    }
}

/// Tokenisation time per prompt token in the API server, seconds: ~1 µs for a fast (Rust)
/// tokenizer (vLLM #19334: ≤ 1.3 µs per token for 10,000-token prompts). Held, not learned: no
/// corpus level separates it from the per-request time.
pub const API_SERVER_TOKEN_S: f64 = 1.0e-6;

/// The offline `LLM` class's intake per request, seconds: `LLM.generate` turns each prompt into
/// an engine request in the caller's process (input processing, sampling parameters, the request
/// object and its hand-off to the engine) before the engine sees it — the API server's request
/// work without HTTP, JSON and the OpenAI-protocol validation that make up most of its
/// millisecond (vLLM #27407). Held at 0.2 ms, not learned: no corpus level runs offline, and a
/// thousand prompts take 0.2 s of intake against tens of seconds of generation, so a factor of
/// two either way moves an offline throughput by well under 1%. Tokenisation is added per
/// prompt token ([`API_SERVER_TOKEN_S`]).
pub const OFFLINE_REQUEST_S: f64 = 0.2e-3;

/// Spread of the front-end latency (σ of its log): the one-user TTFTs of seed 000 (c = 1: 9.18 …
/// 21.22 ms, P50 11.42, P95 17.90 around ≈ 2.7 ms of prefill) give σ ≈ 0.35–0.45. Held, not
/// learned: most reports print no TTFT spread at one user.
pub const FRONTEND_JITTER_SIGMA: f64 = 0.4;

/// A term's learned centre and spread.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermPrior {
    /// Central value, natural units (seconds or a fraction).
    pub centre: f64,
    /// How far one setup's value sits from the centre, σ in z units (log or logit).
    pub spread: f64,
    /// Uncertainty of the centre itself, σ in z units.
    pub centre_sd: f64,
    /// How far one deployment (host terms: a tester's machine) or one GPU type (GPU terms) sits
    /// from the centre, σ in z units; 0 for a GPU type's own entry.
    #[serde(default)]
    pub between: f64,
}

/// The learned terms of one release line or architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupPriors {
    /// `vllm-0.6-0.7`, `ampere`, …
    pub group: String,
    /// Corpus setups in the group.
    pub setups: usize,
    /// Machines those setups ran on (one source's setups on one GPU type): setups of one
    /// machine share its quirks, so a group whose setups come from few machines knows less than
    /// its setup count says.
    #[serde(default)]
    pub machines: usize,
    /// Setups of the machine with the most of them in the group.
    #[serde(default)]
    pub largest_machine_setups: usize,
    /// Terms by name.
    pub terms: std::collections::BTreeMap<String, TermPrior>,
}

/// One model's learned deviation of the GPU-side efficiencies from the centres, shared by its
/// deployments on every GPU type and release (its kernels' shapes: GEMM and expert sizes, head
/// layout, top-k routing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEffect {
    /// Catalog model id.
    pub model: String,
    /// Corpus setups of the model.
    pub setups: usize,
    /// Per GPU-side term (by name): the shift of its centre, z units (log-odds of the
    /// efficiency), and that shift's posterior σ.
    pub terms: std::collections::BTreeMap<String, EffectPrior>,
}

/// A model's shift of one term.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectPrior {
    /// Added to the centre, z units.
    pub shift: f64,
    /// Posterior σ of the shift, z units.
    pub shift_sd: f64,
}

/// `data/priors.yaml`: the learned prior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnedPriors {
    /// How it was made.
    pub source: String,
    /// Measured setups it was learned from (ids).
    pub corpus: Vec<String>,
    /// Typical misfit of one measured figure (σ of its log error) after the fit, per metric
    /// (`throughput`, `e2e`, `ttft`, `tpot`, `itl`): the noise the data term of a MAP fit divides by.
    pub residual_sd: std::collections::BTreeMap<String, f64>,
    /// Per release line: host-side terms.
    pub release_lines: Vec<GroupPriors>,
    /// Per GPU architecture: roofline efficiencies.
    pub architectures: Vec<GroupPriors>,
    /// Per GPU type the corpus measured: its architecture's efficiencies corrected by what its
    /// own setups showed (clocks, power limits, memory system of that card).
    #[serde(default)]
    pub gpus: Vec<GroupPriors>,
    /// Per model the corpus measured: how its kernels ran against the centres (GPU-side terms).
    #[serde(default)]
    pub models: Vec<ModelEffect>,
}

/// One term's prior for a scenario: its centre in z space and the σ a setup may move.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScenarioPrior {
    /// The term.
    pub term: Term,
    /// Centre, z units.
    pub centre_z: f64,
    /// σ of a setup around it, z units (spread and the centre's own uncertainty).
    pub sd_z: f64,
}

impl LearnedPriors {
    /// The embedded `data/priors.yaml` (None if it holds no priors yet).
    pub fn builtin() -> Option<&'static LearnedPriors> {
        static PARSED: OnceLock<Option<LearnedPriors>> = OnceLock::new();
        PARSED
            .get_or_init(|| LearnedPriors::from_yaml(include_str!("../../data/priors.yaml"), "data/priors.yaml").ok())
            .as_ref()
    }

    /// Parses and checks a priors file.
    pub fn from_yaml(text: &str, origin: &str) -> Result<LearnedPriors> {
        let p: LearnedPriors = serde_saphyr::from_str(text).map_err(|e| Error::from_yaml(origin, &e))?;
        for g in p.release_lines.iter().chain(&p.architectures) {
            for (name, t) in &g.terms {
                if Term::by_name(name).is_none() {
                    return Err(Error::invalid(
                        origin,
                        format!("{}.terms", g.group),
                        format!("'{name}' is not a learnable term"),
                    ));
                }
                if !(t.centre.is_finite()
                    && t.centre > 0.0
                    && t.spread.is_finite()
                    && t.spread > 0.0
                    && t.centre_sd.is_finite()
                    && t.centre_sd >= 0.0)
                {
                    return Err(Error::invalid(
                        origin,
                        format!("{}.terms.{name}", g.group),
                        "centre and spread must be finite and > 0",
                    ));
                }
            }
        }
        for m in &p.models {
            for (name, e) in &m.terms {
                match Term::by_name(name) {
                    Some(t) if t.group() == TermGroup::Gpu => {}
                    _ => {
                        return Err(Error::invalid(
                            origin,
                            format!("models.{}.terms", m.model),
                            format!("'{name}' is not a learnable GPU-side term"),
                        ))
                    }
                }
                if !(e.shift.is_finite() && e.shift_sd.is_finite() && e.shift_sd >= 0.0) {
                    return Err(Error::invalid(
                        origin,
                        format!("models.{}.terms.{name}", m.model),
                        "shift must be finite and shift_sd finite and ≥ 0",
                    ));
                }
            }
        }
        if p.residual_sd.values().any(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(Error::invalid(origin, "residual_sd", "every σ must be finite and > 0"));
        }
        Ok(p)
    }

    /// The prior of every learnable term for a release line on a GPU architecture: the group's
    /// learned centre where the corpus had it, else the hyperprior.
    pub fn for_scenario(&self, line: ReleaseLine, arch: GpuArch) -> Vec<ScenarioPrior> {
        self.for_gpu(line, arch, "")
    }

    /// [`LearnedPriors::for_scenario`] for one GPU type: its own learned efficiencies where the
    /// corpus measured it, else its architecture's.
    pub fn for_gpu(&self, line: ReleaseLine, arch: GpuArch, gpu_id: &str) -> Vec<ScenarioPrior> {
        self.for_deployment(line, arch, gpu_id, "")
    }

    /// [`LearnedPriors::for_gpu`] for one model too: its GPU-side centres shifted by the model's
    /// learned effect where the corpus measured it (`model_id` empty or unmeasured: no shift).
    pub fn for_deployment(&self, line: ReleaseLine, arch: GpuArch, gpu_id: &str, model_id: &str) -> Vec<ScenarioPrior> {
        let model = self.model_effect(model_id);
        let host = self.release_lines.iter().find(|g| g.group == line.as_str());
        let gpu = self
            .gpus
            .iter()
            .find(|g| g.group == gpu_id)
            .or_else(|| self.architectures.iter().find(|g| g.group == arch.as_str()));
        Term::ALL
            .into_iter()
            .filter(|t| t.applies_to(line))
            .map(|term| {
                let group = match term.group() {
                    TermGroup::Host => host,
                    TermGroup::Gpu => gpu,
                };
                let shift = model.and_then(|m| m.terms.get(term.name())).map_or(0.0, |e| e.shift);
                match group.and_then(|g| g.terms.get(term.name())) {
                    Some(p) => ScenarioPrior {
                        term,
                        centre_z: term.to_z(p.centre) + shift,
                        sd_z: (p.spread * p.spread + p.between * p.between + p.centre_sd * p.centre_sd).sqrt(),
                    },
                    None => {
                        let (c, w) = term.hyperprior(line);
                        ScenarioPrior {
                            term,
                            centre_z: c + shift,
                            sd_z: w,
                        }
                    }
                }
            })
            .collect()
    }

    /// The learned effect of a model, if the corpus measured it.
    pub fn model_effect(&self, model_id: &str) -> Option<&ModelEffect> {
        self.models.iter().find(|m| m.model == model_id)
    }

    /// Cost parameters at the prior's centres for a release line on an architecture (the engine
    /// version's physics prior for everything not learned).
    pub fn cost_params(
        &self,
        version: EngineVersion,
        line: ReleaseLine,
        usage: crate::spec::engine::UsageContext,
        arch: GpuArch,
        gpu_id: &str,
        model_id: &str,
    ) -> CostParams {
        let mut c = CostParams::prior(version);
        c.api_server_token_s = API_SERVER_TOKEN_S;
        c.frontend_jitter_sigma = FRONTEND_JITTER_SIGMA;
        for p in self.for_deployment(line, arch, gpu_id, model_id) {
            p.term.set(&mut c, p.term.from_z(p.centre_z));
        }
        for t in [
            Term::ApiServerItemS,
            Term::ApiServerInlineItemS,
            Term::ApiServerRequestS,
            Term::FrontendLatencyS,
        ] {
            if !t.applies(line, usage) {
                t.set(&mut c, 0.0);
            }
        }
        c
    }

    /// The group a line or architecture was learned in, if the corpus had it.
    pub fn group(&self, name: &str) -> Option<&GroupPriors> {
        self.release_lines
            .iter()
            .chain(&self.architectures)
            .find(|g| g.group == name)
    }
}
