//! Profiles: the fitted (or prior) parameters of the step-cost model and memory terms, as YAML.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::memory::MemoryCalibration;
use crate::spec::engine::EngineVersion;

/// Where a profile's numbers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileKind {
    /// The prior, nothing fitted to this setup: the learned prior (`data/priors.yaml`: the centres
    /// of the setup's release line and GPU architecture, learned from the measured corpus) over
    /// the datasheet roofline, or the engine's physics prior where nothing is learned.
    #[serde(rename = "prior", alias = "roofline")]
    Roofline,
    /// Fitted to measured reports.
    Fitted,
    /// The host-side terms (CPU overheads, front-end and API-server times) fitted for the same
    /// model and engine on another GPU, over this GPU's datasheet roofline.
    ///
    /// Those terms are spent by the same engine code on the host whatever the GPU, while the
    /// roofline carries everything the GPU does; memory calibrations stay with their card.
    Transferred,
    /// The ideal GPU (`--profile ideal`): every roofline efficiency 1, no host time. A bound on
    /// what any run of the setup reaches, not a prediction.
    Ideal,
}

/// Parameters of the step-cost model (efficiencies are fractions of the datasheet peak).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostParams {
    /// Fraction of memory bandwidth reached when streaming weights, in (0, 1].
    pub weights_bandwidth_efficiency: f64,
    /// Fraction of memory bandwidth reached by paged attention reading KV, in (0, 1].
    pub attention_bandwidth_efficiency: f64,
    /// Fraction of dense FP16/BF16 tensor FLOP/s reached, in (0, 1].
    pub compute_efficiency: f64,
    /// Fraction of dense FP16/BF16 tensor FLOP/s reached by prefill attention (FlashAttention's
    /// fused kernels over the prompt's query–key pairs), in (0, 1].
    #[serde(default = "default_attention_compute_efficiency")]
    pub attention_compute_efficiency: f64,
    /// Fraction of dense FP16/BF16 tensor FLOP/s reached by GEMMs that dequantise 4- or 8-bit
    /// weights on the fly (AWQ, GPTQ, Marlin; FP8 on GPUs without FP8 tensor cores), in (0, 1].
    #[serde(default = "default_quantized_compute_efficiency")]
    pub quantized_compute_efficiency: f64,
    /// Fraction of memory bandwidth reached reading a MoE model's routed experts (fused-MoE
    /// kernels over many small per-expert matrices, dequantising MXFP4 / FP8 blocks), in (0, 1];
    /// unused by dense models.
    #[serde(default = "default_expert_bandwidth_efficiency")]
    pub expert_bandwidth_efficiency: f64,
    /// Fraction of the linear layers' peak (16-bit, or the FP8 / FP4 tensor peak where the
    /// experts run there) reached by a MoE model's routed-expert GEMMs (fused-MoE kernels: many
    /// small per-expert matrices, a routing gather and scatter), in (0, 1]; unused by dense models.
    #[serde(default = "default_expert_compute_efficiency")]
    pub expert_compute_efficiency: f64,
    /// Fraction of dense FP16/BF16 tensor FLOP/s reached by prefill attention in vLLM's Triton
    /// (or other non-FlashAttention) attention kernels, in (0, 1]: the backend vLLM picks below
    /// Hopper for models with attention sinks (gpt-oss) and for FP8 KV caches, which its
    /// FlashAttention does not take there ([`crate::cost::uses_triton_attention`]); unused elsewhere.
    #[serde(default = "default_triton_attention_compute_efficiency")]
    pub triton_attention_compute_efficiency: f64,
    /// Fixed GPU time of one MoE layer per step, whatever the batch, seconds: the routing kernels
    /// (gate GEMM, top-k, the sort that aligns tokens to experts, the weighted sum) and the
    /// grouped GEMMs' launch and tail; unused by dense models.
    #[serde(default = "default_moe_layer_floor_s")]
    pub moe_layer_floor_s: f64,
    /// Fraction of the interconnect bandwidth reached by all-reduces, in (0, 1].
    pub link_efficiency: f64,
    /// Latency of one all-reduce, seconds.
    pub allreduce_latency_s: f64,
    /// Shortest time of one layer's attention kernels (launch and DRAM latency bound), seconds:
    /// a small batch cannot read its KV faster than this however few bytes it has.
    #[serde(default = "default_attention_kernel_floor_s")]
    pub attention_kernel_floor_s: f64,
    /// Fixed CPU and launch overhead per engine step, seconds.
    pub step_overhead_s: f64,
    /// CPU overhead per scheduled sequence per step (sampling, output processing), seconds.
    pub per_seq_overhead_s: f64,
    /// Time from the client sending a request to the engine queueing it (HTTP, tokenisation,
    /// input processing), seconds; it shows up in TTFT and E2E latency.
    pub frontend_latency_s: f64,
    /// Extra fixed time of a step that contains a prefill, seconds: engines that replay decode
    /// steps from CUDA graphs run prefill eagerly (every kernel launched from Python).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub prefill_step_overhead_s: f64,
    /// API-server time per request at intake (HTTP parsing, prompt processing, hand-off to the
    /// engine), seconds. The API server is one process: requests and output items queue for it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub api_server_request_s: f64,
    /// API-server time per prompt token at intake (tokenisation and input processing), seconds;
    /// added to `api_server_request_s` for each request, in the same single-process queue.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub api_server_token_s: f64,
    /// API-server time per chat request rendering its conversation in the tokenizer's Jinja chat
    /// template (Python, in the same single-process queue), seconds; added to
    /// `api_server_request_s` for requests to `/v1/chat/completions` of models with a Jinja
    /// template (not gpt-oss, whose harmony renderer is compiled code).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub api_server_chat_request_s: f64,
    /// Spread of each request's front-end latency around `frontend_latency_s` (σ of its
    /// logarithm; the mean stays `frontend_latency_s`): the jitter of HTTP, the server's event
    /// loop and the hand-off, which spreads TTFT even for one user.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub frontend_jitter_sigma: f64,
    /// API-server time per streamed output item (one token, or one audio chunk for TTS), seconds;
    /// the items of a step reach the client after the API server has handled them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub api_server_item_s: f64,
    /// vLLM 0.2–0.5 only: the API server's time per streamed token in the engine's own process,
    /// seconds, added to the step time of every step's output tokens
    /// ([`crate::cost::StepCostModel::new`]): the server and the engine loop share one process
    /// there, so a served step also streams.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub api_server_inline_item_s: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// Smallest roofline efficiency a profile may hold: 1% of the datasheet. Fitted values lie
/// between 0.4 and 1 (data/priors.yaml, data/profiles); far below this a step takes so long that
/// nanosecond clocks overflow.
pub const MIN_EFFICIENCY: f64 = 0.01;

impl CostParams {
    /// A fitted parameter by name (the names of [`CostParams::overhead_terms`]).
    pub fn fitted_mut(&mut self, name: &str) -> Option<&mut f64> {
        match name {
            "step_overhead_s" => Some(&mut self.step_overhead_s),
            "per_seq_overhead_s" => Some(&mut self.per_seq_overhead_s),
            "frontend_latency_s" => Some(&mut self.frontend_latency_s),
            "prefill_step_overhead_s" => Some(&mut self.prefill_step_overhead_s),
            "api_server_request_s" => Some(&mut self.api_server_request_s),
            "api_server_item_s" => Some(&mut self.api_server_item_s),
            "api_server_inline_item_s" => Some(&mut self.api_server_inline_item_s),
            "api_server_token_s" => Some(&mut self.api_server_token_s),
            "api_server_chat_request_s" => Some(&mut self.api_server_chat_request_s),
            "weights_bandwidth_efficiency" => Some(&mut self.weights_bandwidth_efficiency),
            "attention_bandwidth_efficiency" => Some(&mut self.attention_bandwidth_efficiency),
            "compute_efficiency" => Some(&mut self.compute_efficiency),
            "quantized_compute_efficiency" => Some(&mut self.quantized_compute_efficiency),
            "attention_compute_efficiency" => Some(&mut self.attention_compute_efficiency),
            "expert_bandwidth_efficiency" => Some(&mut self.expert_bandwidth_efficiency),
            "expert_compute_efficiency" => Some(&mut self.expert_compute_efficiency),
            "triton_attention_compute_efficiency" => Some(&mut self.triton_attention_compute_efficiency),
            "moe_layer_floor_s" => Some(&mut self.moe_layer_floor_s),
            _ => None,
        }
    }

    /// Prior parameters for an engine version, used when nothing is fitted.
    ///
    /// Efficiencies: weights stream at ~85% of peak bandwidth, paged attention at ~55% (decode
    /// kernels over 16-token blocks; seen on MHA head_dim 64), GEMMs at ~60% of dense peak. Overheads:
    /// vLLM V0 schedules synchronously on the CPU (≈ 3 ms a step, ≈ 0.25 ms a sequence: vLLM's own
    /// v0.6.0 post measured the API server and scheduler at 62% of step time); V1 overlaps more.
    pub fn prior(version: EngineVersion) -> CostParams {
        let (step, per_seq, frontend) = match version {
            EngineVersion::Vllm010 => (2.0e-3, 30e-6, 8e-3),
            EngineVersion::Vllm06 | EngineVersion::Vllm0600 | EngineVersion::Vllm05 => (3.0e-3, 250e-6, 15e-3),
            EngineVersion::NanoVllm => (1.5e-3, 20e-6, 5e-3),
        };
        CostParams {
            weights_bandwidth_efficiency: 0.85,
            attention_bandwidth_efficiency: 0.55,
            compute_efficiency: 0.6,
            quantized_compute_efficiency: default_quantized_compute_efficiency(),
            attention_compute_efficiency: default_attention_compute_efficiency(),
            expert_bandwidth_efficiency: default_expert_bandwidth_efficiency(),
            expert_compute_efficiency: default_expert_compute_efficiency(),
            triton_attention_compute_efficiency: default_triton_attention_compute_efficiency(),
            moe_layer_floor_s: default_moe_layer_floor_s(),
            link_efficiency: 0.7,
            allreduce_latency_s: 15e-6,
            attention_kernel_floor_s: default_attention_kernel_floor_s(),
            step_overhead_s: step,
            per_seq_overhead_s: per_seq,
            frontend_latency_s: frontend,
            prefill_step_overhead_s: 0.0,
            api_server_request_s: 0.0,
            api_server_token_s: 0.0,
            api_server_chat_request_s: 0.0,
            frontend_jitter_sigma: 0.0,
            api_server_item_s: 0.0,
            api_server_inline_item_s: 0.0,
        }
    }

    /// The CPU-side and server terms a fit may move, by name (seconds each).
    pub fn overhead_terms(&self) -> [(&'static str, f64); 8] {
        [
            ("step_overhead_s", self.step_overhead_s),
            ("per_seq_overhead_s", self.per_seq_overhead_s),
            ("frontend_latency_s", self.frontend_latency_s),
            ("prefill_step_overhead_s", self.prefill_step_overhead_s),
            ("api_server_request_s", self.api_server_request_s),
            ("api_server_token_s", self.api_server_token_s),
            ("api_server_item_s", self.api_server_item_s),
            ("api_server_inline_item_s", self.api_server_inline_item_s),
        ]
    }

    /// Checks ranges; efficiencies above 1 would mean a GPU faster than its datasheet.
    pub fn validate(&self, origin: &str) -> Result<()> {
        for (field, v) in [
            ("weights_bandwidth_efficiency", self.weights_bandwidth_efficiency),
            ("attention_bandwidth_efficiency", self.attention_bandwidth_efficiency),
            ("compute_efficiency", self.compute_efficiency),
            ("quantized_compute_efficiency", self.quantized_compute_efficiency),
            ("attention_compute_efficiency", self.attention_compute_efficiency),
            ("expert_bandwidth_efficiency", self.expert_bandwidth_efficiency),
            ("expert_compute_efficiency", self.expert_compute_efficiency),
            (
                "triton_attention_compute_efficiency",
                self.triton_attention_compute_efficiency,
            ),
            ("link_efficiency", self.link_efficiency),
        ] {
            if !(v.is_finite() && (MIN_EFFICIENCY..=1.0).contains(&v)) {
                return Err(Error::invalid(
                    origin,
                    field,
                    format!(
                        "{v} is outside [{MIN_EFFICIENCY}, 1]: above 1 would beat the datasheet, and below \
                         {MIN_EFFICIENCY} no serving engine runs (step times would overflow)"
                    ),
                ));
            }
        }
        for (field, v) in [
            ("allreduce_latency_s", self.allreduce_latency_s),
            ("attention_kernel_floor_s", self.attention_kernel_floor_s),
            ("moe_layer_floor_s", self.moe_layer_floor_s),
            ("step_overhead_s", self.step_overhead_s),
            ("per_seq_overhead_s", self.per_seq_overhead_s),
            ("frontend_latency_s", self.frontend_latency_s),
            ("prefill_step_overhead_s", self.prefill_step_overhead_s),
            ("api_server_request_s", self.api_server_request_s),
            ("api_server_token_s", self.api_server_token_s),
            ("api_server_chat_request_s", self.api_server_chat_request_s),
            ("api_server_item_s", self.api_server_item_s),
            ("api_server_inline_item_s", self.api_server_inline_item_s),
        ] {
            if !(v.is_finite() && (0.0..=10.0).contains(&v)) {
                return Err(Error::invalid(origin, field, format!("{v} s is outside [0, 10] s")));
            }
        }
        if !(self.frontend_jitter_sigma.is_finite() && (0.0..=2.0).contains(&self.frontend_jitter_sigma)) {
            return Err(Error::invalid(
                origin,
                "frontend_jitter_sigma",
                format!("{} is outside [0, 2] (σ of a logarithm)", self.frontend_jitter_sigma),
            ));
        }
        Ok(())
    }
}

/// Physics prior of [`CostParams::expert_bandwidth_efficiency`]: the weights' 0.85 of a dense
/// GEMV less what a fused-MoE kernel loses to per-expert tiles that are small at decode (a few
/// rows per expert) and to its routing gather/scatter: 0.6, learned per architecture from the
/// corpus' MoE setups.
pub fn default_expert_bandwidth_efficiency() -> f64 {
    0.6
}

/// Physics prior of [`CostParams::expert_compute_efficiency`]: vLLM's fused-MoE kernels run a
/// grouped GEMM over the tokens each expert was routed; with E experts a batch of n tokens gives
/// each about n·k/E rows, far smaller tiles than a dense GEMM's, so about 0.4 of the peak.
pub fn default_expert_compute_efficiency() -> f64 {
    0.4
}

/// Physics prior of [`CostParams::quantized_compute_efficiency`]: Marlin's published curves reach
/// near-ideal speed-ups only while a batch is memory-bound and fall to or below the 16-bit GEMM's
/// throughput at a few hundred rows, so about 0.4 of the peak.
pub fn default_quantized_compute_efficiency() -> f64 {
    0.4
}

/// Physics prior of [`CostParams::attention_compute_efficiency`]: FlashAttention-2 reaches 50–70%
/// of an A100's 16-bit peak on long sequences (its paper's forward-pass figures), less on short ones.
pub fn default_attention_compute_efficiency() -> f64 {
    0.5
}

/// Physics prior of [`CostParams::triton_attention_compute_efficiency`]: vLLM's Triton attention
/// is one paged kernel for prefill and decode, reading K and V through the block table in small
/// tiles, with no FlashAttention-2 warp specialisation; half of FlashAttention's 0.5 prior, 0.25,
/// with a broad spread, learned from the corpus' gpt-oss setups on Ampere.
pub fn default_triton_attention_compute_efficiency() -> f64 {
    0.25
}

/// Physics prior of [`CostParams::moe_layer_floor_s`]: four routing kernels of a few
/// microseconds each under CUDA graphs, plus the two grouped GEMMs' launch and tail: 20 µs,
/// learned per architecture from the corpus' MoE setups at small batches.
pub fn default_moe_layer_floor_s() -> f64 {
    20e-6
}

/// Prior per-layer attention kernel floor: FlashAttention's split-KV decode is a main and a combine
/// kernel, each a few microseconds of launch and DRAM latency even under CUDA graphs.
pub fn default_attention_kernel_floor_s() -> f64 {
    10e-6
}

/// A named set of cost parameters and memory calibration for one GPU / model / engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Identifier, e.g. `rtx-4090.indextts2-gpt.vllm-0.10`.
    pub id: String,
    /// Roofline prior or fitted.
    pub kind: ProfileKind,
    /// Catalog id of the GPU it was fitted on (None for a generic prior).
    #[serde(default)]
    pub gpu: Option<String>,
    /// Catalog id of the model it was fitted on.
    #[serde(default)]
    pub model: Option<String>,
    /// Engine version.
    pub engine: EngineVersion,
    /// Step-cost parameters.
    pub cost: CostParams,
    /// Pinned memory terms.
    #[serde(default)]
    pub memory: MemoryCalibration,
    /// What it was fitted to, how, and when.
    pub source: String,
    /// The fitted parameters' covariance (local curvature at the optimum), so predictions can
    /// carry the fit's uncertainty; absent for priors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncertainty: Option<ParamCovariance>,
    /// Each fitted term against the learned prior it corrects (MAP fits of vLLM reports), with
    /// the reason for any move beyond 3σ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prior: Vec<crate::fit::map::PriorShift>,
}

/// Covariance of fitted cost parameters, in their own units (seconds², for overheads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamCovariance {
    /// Parameter names, as in `cost` (e.g. `step_overhead_s`).
    pub params: Vec<String>,
    /// Row-major covariance matrix, `params.len()` × `params.len()`.
    pub covariance: Vec<Vec<f64>>,
}

impl ParamCovariance {
    /// Checks the shape and that the diagonal is non-negative and finite.
    pub fn validate(&self, origin: &str) -> Result<()> {
        let n = self.params.len();
        let square = self.covariance.len() == n && self.covariance.iter().all(|r| r.len() == n);
        let diagonal_ok = (0..n).all(|i| square && self.covariance[i][i].is_finite() && self.covariance[i][i] >= 0.0);
        if !square || !diagonal_ok {
            return Err(Error::invalid(
                origin,
                "uncertainty.covariance",
                format!("must be a {n} × {n} matrix with a finite, non-negative diagonal"),
            ));
        }
        for name in &self.params {
            let known = CostParams::prior(EngineVersion::default()).overhead_terms();
            if !known.iter().any(|(n, _)| n == name) && super::prior::Term::by_name(name).is_none() {
                return Err(Error::invalid(
                    origin,
                    "uncertainty.params",
                    format!("'{name}' is not a cost parameter"),
                ));
            }
        }
        Ok(())
    }
}

impl Profile {
    /// The uncalibrated prior profile for an engine version.
    pub fn roofline(version: EngineVersion) -> Profile {
        Profile {
            id: format!("roofline.{version}"),
            kind: ProfileKind::Roofline,
            gpu: None,
            model: None,
            engine: version,
            cost: CostParams::prior(version),
            memory: MemoryCalibration::default(),
            source: "datasheet roofline with servecast's prior efficiencies and overheads (not fitted)".into(),
            uncertainty: None,
            prior: Vec::new(),
        }
    }

    /// The learned prior for a release line on a GPU architecture (`data/priors.yaml`), or the
    /// engine's physics prior ([`Profile::roofline`]) if none is embedded.
    pub fn learned_prior(
        version: EngineVersion,
        line: crate::spec::engine::ReleaseLine,
        usage: crate::spec::engine::UsageContext,
        gpu: &crate::spec::GpuSpec,
        model_id: &str,
    ) -> Profile {
        let arch = gpu.architecture;
        let Some(priors) = super::prior::LearnedPriors::builtin() else {
            return Profile::roofline(version);
        };
        if version == EngineVersion::NanoVllm {
            return Profile::roofline(version);
        }
        let count = |g: &str| priors.group(g).map_or(0, |g| g.setups);
        let own = priors.gpus.iter().find(|g| g.group == gpu.id);
        Profile {
            id: format!("prior.{line}.{arch}"),
            kind: ProfileKind::Roofline,
            gpu: None,
            model: None,
            engine: version,
            cost: priors.cost_params(version, line, usage, arch, &gpu.id, model_id),
            memory: MemoryCalibration::default(),
            source: {
                let arch_setups = count(arch.as_str());
                let gpu_part = if arch_setups == 0 {
                    format!(
                        "no measured setup on {arch} GPUs, so their roofline efficiencies are an unfitted prior \
                         (the pooled centre of the measured architectures, with its spread)"
                    )
                } else {
                    format!(
                        "{arch_setups} on {arch} GPUs (roofline efficiencies{})",
                        match own {
                            Some(g) if g.setups > 0 => format!(
                                ", corrected by {} on this GPU{}",
                                g.setups,
                                match g.machines {
                                    0 => String::new(),
                                    1 => " from one tester's machine".to_string(),
                                    m if 2 * g.largest_machine_setups > g.setups => format!(
                                        " from {m} testers' machines, {} of them from one",
                                        g.largest_machine_setups
                                    ),
                                    m => format!(" from {m} testers' machines"),
                                }
                            ),
                            _ => String::new(),
                        }
                    )
                };
                let model_part = match priors.model_effect(model_id) {
                    Some(m) => format!(
                        ", the GPU-side terms shifted by what {} measured setups of {model_id} showed",
                        m.setups
                    ),
                    None => String::new(),
                };
                format!(
                    "learned prior: the centres of {} measured setups of {line} (host-side terms) and {gpu_part}{model_part}, \
                     from data/priors.yaml (servecast priors); nothing fitted to this setup",
                    count(line.as_str()),
                )
            },
            uncertainty: None,
            prior: Vec::new(),
        }
    }

    /// This fitted profile's host-side terms over `gpu`'s roofline (the learned prior's
    /// efficiencies for that GPU, no memory calibration): see [`ProfileKind::Transferred`].
    pub fn transferred_to(&self, gpu: &crate::spec::GpuSpec, line: crate::spec::engine::ReleaseLine) -> Profile {
        let gpu_id = gpu.id.as_str();
        let mut cost = Profile::learned_prior(
            self.engine,
            line,
            crate::spec::engine::UsageContext::default(),
            gpu,
            self.model.as_deref().unwrap_or(""),
        )
        .cost;
        for (name, value) in self.cost.overhead_terms() {
            if let Some(slot) = cost.fitted_mut(name) {
                *slot = value;
            }
        }
        Profile {
            id: format!("{}→{gpu_id}", self.id),
            kind: ProfileKind::Transferred,
            gpu: Some(gpu_id.to_string()),
            model: self.model.clone(),
            engine: self.engine,
            cost,
            memory: MemoryCalibration::default(),
            source: format!(
                "host-side terms of {} (fitted on {}), GPU-side roofline of {gpu_id} with the learned prior's efficiencies",
                self.id,
                self.gpu.as_deref().unwrap_or("another GPU")
            ),
            uncertainty: self.uncertainty.clone(),
            prior: Vec::new(),
        }
    }

    /// Parses a profile from YAML text; `origin` names the file in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Profile> {
        let p: Profile = serde_saphyr::from_str(text).map_err(|e| Error::from_yaml(origin, &e))?;
        p.cost.validate(origin)?;
        p.memory.validate(origin)?;
        if let Some(u) = &p.uncertainty {
            u.validate(origin)?;
        }
        Ok(p)
    }

    /// Serialises to YAML.
    pub fn to_yaml(&self) -> Result<String> {
        serde_saphyr::to_string(self).map_err(|e| Error::Fit(format!("cannot write profile YAML: {e}")))
    }
}
