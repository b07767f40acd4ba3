//! A scenario: GPU, model, engine flags, workload and profile, resolved and ready to simulate.
//!
//! ```no_run
//! use servecast::scenario::Scenario;
//! let scenario = Scenario::builder().gpu("4090").from_builtin_report()?.build()?;
//! let prediction = scenario.run()?;
//! println!("{:.0} tok/s at c=64", prediction.levels[5].output_throughput_tok_s);
//! # Ok::<(), servecast::Error>(())
//! ```

use serde::Serialize;

use crate::cost::{Profile, ProfileKind, StepCostModel};
use crate::engine::cluster::{simulate_cluster_into, Router};
use crate::engine::{CollectSink, EngineModel, EngineStats, RecordSink, SimOutput, TeeSink};
use crate::error::{Error, Result};
use crate::measured::{builtin_reports, MeasuredReport};
use crate::memory::{plan_memory, MemoryCalibration, MemoryPlan};
use crate::metrics::level::{LevelAccumulator, LevelRecorder, LevelResult};
use crate::profiles::builtin_profile_or_transfer;
use crate::spec::engine::{EngineConfig, EngineFlags, EngineVersion};
use crate::spec::{Catalog, GpuSpec, ModelSpec};
use crate::units::secs_to_nanos;
use crate::workload::arrivals::WorkloadSpec;

/// The most sequences `max_num_seqs` may allow (2^20). vLLM preallocates per-sequence state at
/// start-up (its input batch holds `max_num_seqs` rows) and so does the simulator; no GPU batches a
/// million sequences, and larger values would only ask for tens of gigabytes before the first step.
pub const MAX_NUM_SEQS: u32 = 1 << 20;

/// vLLM release lines (`major.minor`) whose OpenAI server takes requests in breadth first, as
/// read in 0.10.2, 0.11.0 and 0.11.1 (docs/research/output-path-0.11.0.md §2); other releases,
/// and an unstated one, keep the one-stage intake until their front end is read.
pub const BREADTH_FIRST_INTAKE: std::ops::RangeInclusive<(u32, u32)> = (0, 10)..=(0, 11);

/// Everything a simulation needs, validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    /// The GPU (one of `tensor_parallel_size` per engine).
    pub gpu: GpuSpec,
    /// The model served.
    pub model: ModelSpec,
    /// Resolved engine configuration.
    pub engine: EngineConfig,
    /// The workload.
    pub workload: WorkloadSpec,
    /// Step-cost parameters and memory calibration.
    pub profile: Profile,
    /// Seed of every random draw.
    pub seed: u64,
    /// Engine replicas behind the router (data parallelism), each with `tensor_parallel_size` GPUs.
    pub replicas: u32,
    /// How the router spreads requests over replicas.
    pub router: Router,
    /// Tokens in the first streamed chunk (TTS: audio arrives in chunks; TTFB is its time).
    pub first_chunk_tokens: u32,
    /// The measured report this scenario reproduces, if it is exactly a measured setup.
    pub measured_report: Option<String>,
}

/// A prediction: the memory plan and the results per load level.
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    /// The scenario simulated.
    pub scenario: Scenario,
    /// The KV-cache budget.
    pub memory: MemoryPlan,
    /// One result per level, in the workload's order.
    pub levels: Vec<LevelResult>,
    /// Intervals per level from replications (empty unless asked for: see [`crate::uncertainty`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub intervals: Vec<crate::uncertainty::LevelIntervals>,
    /// For a prediction from the unfitted prior: how far measurements fell from such predictions
    /// on the corpus's sources (the unseen-source class's signed-error bands, percent, error =
    /// predicted ÷ measured − 1; data/calibration.yaml). None for a fitted profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmeasured_error_band: Option<crate::fit::classes::Calibration>,
}

/// Builds a [`Scenario`] from names and flags, as the CLI does.
#[derive(Debug, Clone, Default)]
pub struct ScenarioBuilder {
    gpu: Option<String>,
    model: Option<String>,
    model_spec: Option<ModelSpec>,
    engine: Option<EngineVersion>,
    /// The vLLM release as stated (`0.14.1`), deciding the release line.
    release: Option<String>,
    flags: EngineFlags,
    base_flags: EngineFlags,
    workload: Option<WorkloadSpec>,
    profile: Option<Profile>,
    roofline_profile: bool,
    /// Use the ideal GPU of the scenario's own engine ([`Profile::ideal`]).
    ideal_profile: bool,
    /// An input error found while the builder was edited (origin, field, message), returned by
    /// `build` (e.g. a sweep value that names no KV-cache type).
    invalid_input: Option<(String, String, String)>,
    seed: u64,
    replicas: Option<u32>,
    router: Option<Router>,
    first_chunk_tokens: Option<u32>,
    report: Option<String>,
    text_chars: Option<u32>,
}

impl Scenario {
    /// Starts a builder.
    pub fn builder() -> ScenarioBuilder {
        ScenarioBuilder {
            seed: 0,
            ..ScenarioBuilder::default()
        }
    }

    /// The memory budget and KV blocks, or the engine's start-up error.
    pub fn memory(&self) -> Result<MemoryPlan> {
        let calibration = self.memory_calibration();
        let source = if calibration == MemoryCalibration::default() {
            "estimated from first principles (weights + activation peak + non-torch)".to_string()
        } else {
            format!("non-KV terms pinned by profile {}", self.profile.id)
        };
        plan_memory(&self.model, &self.gpu, &self.engine, &calibration, &source)
    }

    /// Memory terms from the profile, applied only when the profile was calibrated on this GPU and model.
    fn memory_calibration(&self) -> MemoryCalibration {
        let same_gpu = self.profile.gpu.as_deref() == Some(self.gpu.id.as_str());
        let same_model = self.profile.model.as_deref() == Some(self.model.id.as_str());
        if same_gpu && same_model && self.profile.engine == self.engine.version {
            self.profile.memory
        } else {
            MemoryCalibration::default()
        }
    }

    /// The embedded calibration when the profile is the unfitted prior (see
    /// [`Prediction::unmeasured_error_band`]).
    pub fn unmeasured_error_band(&self) -> Option<crate::fit::classes::Calibration> {
        (self.profile.kind == ProfileKind::Roofline)
            .then(crate::fit::classes::builtin_calibration)
            .and_then(|c| c.ok())
    }

    /// The step-cost model for this scenario.
    pub fn cost_model(&self) -> StepCostModel {
        StepCostModel::new(&self.gpu, &self.model, &self.engine, &self.profile.cost)
    }

    /// Simulates every level of the workload.
    pub fn run(&self) -> Result<Prediction> {
        let memory = self.memory()?;
        let cost = self.cost_model();
        let levels: Vec<LevelResult> = (0..self.workload.levels().len())
            .map(|i| self.run_level_with(i, &memory, &cost))
            .collect();
        self.check_clock(&levels)?;
        Ok(Prediction {
            scenario: self.clone(),
            memory,
            levels,
            intervals: Vec::new(),
            unmeasured_error_band: self.unmeasured_error_band(),
        })
    }

    /// The error for a level whose step times overflowed the simulated clock (its figures would
    /// be wrong), naming the step-cost terms that produced them.
    pub fn check_clock(&self, levels: &[LevelResult]) -> Result<()> {
        match levels.iter().find_map(|l| l.engine.clock_overflow_step_s) {
            None => Ok(()),
            Some(secs) => Err(Error::invalid(
                format!("profile {}", self.profile.id),
                "cost",
                format!(
                    "a step of {secs:e} s carries the simulated clock past {} years: the profile's \
                     step-cost terms (efficiencies, overheads) on {} with {} give impossible step times",
                    crate::engine::MAX_CLOCK_NS / 1_000_000_000 / 31_557_600,
                    self.gpu.id,
                    self.model.id
                ),
            )),
        }
    }

    /// Simulates every level, also sending each request's record to `recorder` as it finishes
    /// (`--per-request FILE`).
    pub fn run_recording(&self, recorder: &mut dyn LevelRecorder) -> Result<Prediction> {
        let memory = self.memory()?;
        let cost = self.cost_model();
        let levels = self
            .workload
            .levels()
            .iter()
            .enumerate()
            .map(|(i, &level)| {
                recorder.begin_level(i, level);
                self.run_level_tee(i, &memory, &cost, recorder)
            })
            .collect::<Vec<_>>();
        self.check_clock(&levels)?;
        Ok(Prediction {
            scenario: self.clone(),
            memory,
            levels,
            intervals: Vec::new(),
            unmeasured_error_band: self.unmeasured_error_band(),
        })
    }

    /// An empty accumulator for this scenario's levels: the model's audio rate, and a chat
    /// workload's template tokens left out of the total throughput as a chat client counts it.
    pub fn level_accumulator(&self) -> LevelAccumulator {
        let (prefix, suffix) = self.workload.chat_template_tokens();
        LevelAccumulator::new(self.model.audio_tokens_per_s).with_chat_template_tokens(prefix + suffix)
    }

    /// Simulates level `index` with a given memory plan and cost model (used by fits and sweeps).
    ///
    /// The level is summarised as requests finish, in bounded memory (exact percentiles up to
    /// [`crate::metrics::stream::EXACT_LIMIT`] requests, within 0.5% beyond).
    pub fn run_level_with(&self, index: usize, memory: &MemoryPlan, cost: &StepCostModel) -> LevelResult {
        let mut acc = self.level_accumulator();
        let stats = self.simulate_level_into(index, memory, cost, &mut acc);
        acc.finish(self.workload.levels()[index], stats)
    }

    /// The same, also sending every request's record to `extra` as it finishes (e.g. a
    /// `--per-request` file).
    pub fn run_level_tee(
        &self,
        index: usize,
        memory: &MemoryPlan,
        cost: &StepCostModel,
        extra: &mut dyn RecordSink,
    ) -> LevelResult {
        let mut acc = self.level_accumulator();
        let stats = self.simulate_level_into(index, memory, cost, &mut TeeSink(&mut acc, extra));
        acc.finish(self.workload.levels()[index], stats)
    }

    /// The raw simulation of level `index`: one record per request, in workload order (plans
    /// compute goodput from them). Memory grows with the level's size; summaries should use
    /// [`Scenario::run_level_with`].
    pub fn simulate_level(&self, index: usize, memory: &MemoryPlan, cost: &StepCostModel) -> SimOutput {
        let mut sink = CollectSink::default();
        let stats = self.simulate_level_into(index, memory, cost, &mut sink);
        let mut records = sink.records;
        records.sort_unstable_by_key(|r| r.id);
        SimOutput {
            records,
            itl_ns: sink.itl_ns,
            stats,
        }
    }

    /// Simulates level `index`, sending records and inter-token latencies to `sink` as they
    /// happen; returns the engine counters.
    pub fn simulate_level_into(
        &self,
        index: usize,
        memory: &MemoryPlan,
        cost: &StepCostModel,
        sink: &mut dyn RecordSink,
    ) -> EngineStats {
        let (requests, clients) = self.workload.generate(index, self.seed);
        let model = if self.engine.usage_context == crate::spec::engine::UsageContext::LlmClass {
            // The offline LLM class: no HTTP, no API server, no streaming; `LLM.generate` takes
            // each prompt in turn in the caller's process and the engine starts on the first.
            EngineModel {
                cfg: &self.engine,
                cost,
                usable_blocks: memory.usable_blocks,
                frontend_latency_ns: 0,
                skip_ahead: true,
                first_chunk_tokens: self.first_chunk_tokens,
                api_server_request_ns: secs_to_nanos(crate::cost::prior::OFFLINE_REQUEST_S),
                api_server_token_ns: self.profile.cost.api_server_token_s * 1e9,
                frontend_jitter_sigma: 0.0,
                api_server_item_ns: 0,
                api_server_breadth_first: false,
            }
        } else {
            EngineModel {
                cfg: &self.engine,
                cost,
                usable_blocks: memory.usable_blocks,
                frontend_latency_ns: secs_to_nanos(self.profile.cost.frontend_latency_s + self.engine.tokenizer_wait_s),
                skip_ahead: true,
                first_chunk_tokens: self.first_chunk_tokens,
                api_server_request_ns: secs_to_nanos(
                    self.profile.cost.api_server_request_s
                        + if self.workload.renders_jinja_chat() {
                            self.profile.cost.api_server_chat_request_s + self.chat_template_parse_s()
                        } else {
                            0.0
                        },
                ),
                api_server_token_ns: self.profile.cost.api_server_token_s * 1e9,
                frontend_jitter_sigma: self.profile.cost.frontend_jitter_sigma,
                api_server_item_ns: secs_to_nanos(self.profile.cost.api_server_item_s),
                api_server_breadth_first: self.engine.version == crate::spec::engine::EngineVersion::Vllm010
                    && self
                        .engine
                        .release
                        .as_deref()
                        .and_then(crate::spec::engine::release_number)
                        .is_some_and(|r| BREADTH_FIRST_INTAKE.contains(&r)),
            }
        };
        let models = vec![model; self.replicas.max(1) as usize];
        // One engine draws its front-end jitter from stream 0 whatever the seed (as the fitted
        // profiles were calibrated); replicas draw from the scenario's seed.
        let seed = if self.replicas <= 1 { 0 } else { self.seed };
        simulate_cluster_into(&models, self.router, seed, &requests, &clients, sink)
    }

    /// The per-request parse of the chat template that a stated vLLM 0.11.0 adds to its API
    /// server's intake of a Jinja-rendered chat request, seconds (0 on the ideal GPU, and for every
    /// other release: 0.10 renders with the compiled template cached, 0.11.1 caches the parse;
    /// docs/research/chat-template-0.11.0.md).
    pub fn chat_template_parse_s(&self) -> f64 {
        let stated_0_11_0 = self.engine.version == crate::spec::engine::EngineVersion::Vllm010
            && self
                .engine
                .release
                .as_deref()
                .and_then(crate::spec::engine::release_triple)
                == Some((0, 11, 0));
        // The ideal GPU is a bound with no host time.
        let host_time = self.profile.kind != crate::cost::ProfileKind::Ideal;
        match self.workload.chat_template {
            Some(t) if stated_0_11_0 && host_time && self.workload.renders_jinja_chat() => t.parse_0_11_0_s(),
            _ => 0.0,
        }
    }
}

impl ScenarioBuilder {
    /// The GPU, by catalog name (matched loosely: `4090`, `RTX 4090`).
    pub fn gpu(mut self, name: &str) -> Self {
        self.gpu = Some(name.to_string());
        self
    }

    /// The model, by catalog name.
    pub fn model(mut self, name: &str) -> Self {
        self.model = Some(name.to_string());
        self
    }

    /// A model spec given directly (e.g. parsed from a config.json).
    pub fn model_spec(mut self, spec: ModelSpec) -> Self {
        self.model_spec = Some(spec);
        self
    }

    /// The engine version (default vllm-0.10, or the report's).
    pub fn engine(mut self, version: EngineVersion) -> Self {
        self.engine = Some(version);
        self
    }

    /// The vLLM release (`0.14.1`): its release line decides async scheduling's default, the
    /// tokenizer's wait and which learned host-side terms apply. `--engine 0.14.1` sets both.
    pub fn release(mut self, release: &str) -> Self {
        self.release = Some(release.to_string());
        self
    }

    /// Engine flags; set fields override the report's.
    pub fn flags(mut self, flags: EngineFlags) -> Self {
        self.flags = flags;
        self
    }

    /// Edits the flags given so far in place (fields left unset keep the report's or the engine's
    /// defaults); sweeps use it to vary one flag over a base configuration.
    pub fn edit_flags(mut self, edit: impl FnOnce(&mut EngineFlags)) -> Self {
        edit(&mut self.flags);
        self
    }

    /// Forgets the measured report the defaults came from, so the scenario is not compared with it
    /// (and `build` does not look it up again: sweeps build thousands of scenarios).
    pub fn without_report(mut self) -> Self {
        self.report = None;
        self
    }

    /// TTS models: every request reads a text of `chars` characters (prompt and output tokens from
    /// the model's text and speech rates).
    pub fn text_chars(mut self, chars: u32) -> Self {
        self.text_chars = Some(chars);
        self
    }

    /// The GPU name chosen so far.
    pub fn gpu_name(&self) -> Option<&str> {
        self.gpu.as_deref()
    }

    /// The workload chosen so far (the report's, if taken from one), before `build` resolves it.
    pub fn workload_spec(&self) -> Option<&WorkloadSpec> {
        self.workload.as_ref()
    }

    /// The workload (replaces the report's).
    pub fn workload(mut self, workload: WorkloadSpec) -> Self {
        self.workload = Some(workload);
        self
    }

    /// Edits the current workload (the report's, if taken from one) in place.
    pub fn edit_workload(mut self, edit: impl FnOnce(&mut WorkloadSpec)) -> Self {
        if let Some(w) = self.workload.as_mut() {
            edit(w);
        }
        self
    }

    /// The profile to use (default: a built-in fitted one for this GPU/model/engine, else the roofline prior).
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = Some(profile);
        self.roofline_profile = false;
        self.ideal_profile = false;
        self
    }

    /// Use the ideal GPU ([`Profile::ideal`]) for the scenario's own engine version: a bound on
    /// what any run of the setup can reach, not a prediction.
    pub fn ideal_profile(mut self) -> Self {
        self.profile = None;
        self.roofline_profile = false;
        self.ideal_profile = true;
        self
    }

    /// Use the uncalibrated roofline prior of the scenario's own engine version (whatever the
    /// report or `engine` sets), not a fitted profile.
    pub fn roofline_profile(mut self) -> Self {
        self.profile = None;
        self.roofline_profile = true;
        self.ideal_profile = false;
        self
    }

    /// Records an input error that `build` will return (the first one recorded wins); for edits
    /// that cannot fail themselves, such as sweep settings applied to a builder.
    pub fn invalid_input(mut self, origin: &str, field: &str, message: &str) -> Self {
        self.invalid_input
            .get_or_insert_with(|| (origin.to_string(), field.to_string(), message.to_string()));
        self
    }

    /// Seed of every random draw.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Engine replicas behind a router (default 1).
    pub fn replicas(mut self, replicas: u32) -> Self {
        self.replicas = Some(replicas);
        self
    }

    /// Tokens in the first streamed chunk (default 1: TTFB equals TTFT).
    pub fn first_chunk_tokens(mut self, tokens: u32) -> Self {
        self.first_chunk_tokens = Some(tokens);
        self
    }

    /// The router policy (default round robin).
    pub fn router(mut self, router: Router) -> Self {
        self.router = Some(router);
        self
    }

    /// Takes model, engine, flags and workload from a measured report (unset fields only).
    pub fn from_report(mut self, report: &MeasuredReport) -> Self {
        if self.gpu.is_none() {
            self.gpu = Some(report.gpu.clone());
        }
        if self.model.is_none() && self.model_spec.is_none() {
            self.model = Some(report.model.clone());
        }
        if self.engine.is_none() {
            self.engine = Some(report.engine);
            if self.release.is_none() {
                self.release = report.release.clone();
            }
        }
        if self.replicas.is_none() {
            self.replicas = Some(report.replicas);
        }
        if self.router.is_none() {
            self.router = Some(report.router);
        }
        self.base_flags = report.flags.clone();
        if self.workload.is_none() {
            self.workload = Some(report.workload.clone());
        }
        self.report = Some(report.id.clone());
        self
    }

    /// Takes the built-in measured report for the chosen GPU, if there is one.
    pub fn from_builtin_report(mut self) -> Result<Self> {
        let Some(gpu_name) = self.gpu.clone() else {
            return Ok(self);
        };
        let catalog = Catalog::builtin()?;
        let gpu = catalog.gpu(&gpu_name)?;
        let model_id = match (&self.model_spec, &self.model) {
            (Some(spec), _) => Some(spec.id.clone()),
            (None, Some(name)) => Some(catalog.model(name)?.id.clone()),
            (None, None) => None,
        };
        let reports = builtin_reports()?;
        let same = |r: &MeasuredReport| -> bool {
            let gpu_ok = catalog.gpu(&r.gpu).map(|g| g.id == gpu.id).unwrap_or(false);
            let model_ok = model_id
                .as_deref()
                .is_none_or(|m| catalog.model(&r.model).map(|x| x.id == m).unwrap_or(false));
            let engine_ok = self.engine.is_none_or(|e| e == r.engine);
            gpu_ok && model_ok && engine_ok
        };
        let found = reports.into_iter().find(|r| same(r));
        Ok(match (found, model_id) {
            // Nothing chosen: the GPU's report supplies model, engine, flags and workload.
            (Some(r), None) => self.from_report(&r),
            // The model was chosen: borrow only the report's workload, not its engine flags.
            (Some(r), Some(_)) => {
                if self.workload.is_none() {
                    self.workload = Some(r.workload.clone());
                }
                self
            }
            (None, _) => self,
        })
    }

    /// The measured report id the builder took its defaults from, if any.
    pub fn report_id(&self) -> Option<&str> {
        self.report.as_deref()
    }

    /// Resolves names, flags and defaults; refuses what the engine would refuse.
    pub fn build(self) -> Result<Scenario> {
        if let Some((origin, field, message)) = &self.invalid_input {
            return Err(Error::invalid(origin, field, message));
        }
        let catalog = Catalog::builtin()?;
        let gpu_name = self
            .gpu
            .as_deref()
            .ok_or_else(|| Error::invalid("scenario", "gpu", "a GPU is required (e.g. --gpu 4090)"))?;
        let gpu = catalog.gpu(gpu_name)?.clone();
        let model = match (self.model_spec, self.model.as_deref()) {
            (Some(spec), _) => spec,
            (None, Some(name)) => catalog.model(name)?.clone(),
            (None, None) => {
                return Err(Error::invalid(
                    "scenario",
                    "model",
                    format!(
                        "a model is required: {} has no built-in measured report to take one from",
                        gpu.id
                    ),
                ))
            }
        };
        let version = self.engine.unwrap_or_default();
        let flags = self.flags.or(&self.base_flags);
        let engine = flags.resolve_release(version, self.release.as_deref(), &model, &gpu, "engine flags")?;
        // A release may run another engine on this GPU than its number says (V0 on Turing).
        let version = engine.version;
        if engine.max_num_seqs > MAX_NUM_SEQS {
            return Err(Error::invalid(
                "engine flags",
                "max_num_seqs",
                format!(
                    "{} is outside 1..={} (--max-num-seqs): the engine sizes its per-sequence batch \
                     buffers by it at start-up, and vLLM would run out of memory allocating them",
                    engine.max_num_seqs,
                    crate::memory::thousands(u64::from(MAX_NUM_SEQS)),
                ),
            ));
        }
        let mut workload = self.workload.ok_or_else(|| {
            Error::invalid(
                "scenario",
                "workload",
                "a workload is required (e.g. --concurrency 1,4,8)",
            )
        })?;
        workload.resolve_for_model(&model, "workload")?;
        workload.fill_dataset_parts();
        workload.validate("workload")?;
        let profile = match self.profile {
            Some(p) => p,
            None if self.ideal_profile => Profile::ideal(version),
            None if self.roofline_profile => {
                Profile::learned_prior(version, engine.release_line, engine.usage_context, &gpu, &model.id)
            }
            None => builtin_profile_or_transfer(&gpu, &model.id, version, engine.release_line)?.unwrap_or_else(|| {
                Profile::learned_prior(version, engine.release_line, engine.usage_context, &gpu, &model.id)
            }),
        };
        if profile.engine != version {
            let how = match profile.kind {
                ProfileKind::Roofline => "holds the priors of",
                ProfileKind::Ideal => "is the ideal GPU of",
                _ => "was fitted on",
            };
            return Err(Error::invalid(
                "profile",
                "engine",
                format!(
                    "profile {} {how} {}, but the scenario runs {version}{}",
                    profile.id,
                    profile.engine,
                    if matches!(profile.kind, ProfileKind::Roofline | ProfileKind::Ideal) {
                        " (`roofline` or `ideal` alone follows the scenario's engine)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        let mut scenario = Scenario {
            gpu,
            model,
            engine,
            workload,
            profile,
            seed: self.seed,
            replicas: match self.replicas {
                Some(0) => return Err(Error::invalid("scenario", "replicas", "must be in 1..=64")),
                Some(n) if n > 64 => return Err(Error::invalid("scenario", "replicas", "must be in 1..=64")),
                Some(n) => n,
                None => 1,
            },
            router: self.router.unwrap_or_default(),
            first_chunk_tokens: match self.first_chunk_tokens {
                Some(0) => return Err(Error::invalid("scenario", "first_chunk_tokens", "must be ≥ 1 token")),
                Some(k) => k,
                None => 1,
            },
            measured_report: None,
        };
        // vLLM's offline benchmarks (V1 releases) assert before they start that every request
        // fits (vllm/benchmarks/throughput.py and latency.py); a served request that does not
        // fit fails alone, with HTTP 400.
        if scenario.engine.usage_context == crate::spec::engine::UsageContext::LlmClass
            && !matches!(
                scenario.engine.release_line,
                crate::spec::engine::ReleaseLine::V05 | crate::spec::engine::ReleaseLine::V06
            )
            && scenario.workload.longest_request_tokens() > scenario.engine.max_model_len
        {
            return Err(Error::invalid(
                "--client",
                "max_model_len",
                format!(
                    "AssertionError: Please ensure that max_model_len is greater than the sum of prompt_len and \
                     expected_output_len for all requests. (max_model_len {}, longest request {} tokens)",
                    scenario.engine.max_model_len,
                    scenario.workload.longest_request_tokens()
                ),
            ));
        }
        if let Some(chars) = self.text_chars {
            if chars == 0 {
                return Err(Error::invalid("--text-chars", "text_chars", "must be ≥ 1 character"));
            }
            let Some(text) = scenario.model.tts_text.clone() else {
                return Err(Error::invalid(
                    "--text-chars",
                    "model",
                    format!("{} is not a text-to-speech model with text rates", scenario.model.id),
                ));
            };
            scenario.workload.set_text_chars(chars, &text);
            return Ok(scenario);
        }
        if let Some(id) = self.report {
            let reports = builtin_reports()?;
            if let Some(r) = reports.iter().find(|r| r.id == id) {
                if scenario.reproduces(r)? {
                    scenario.measured_report = Some(id);
                }
            }
        }
        Ok(scenario)
    }
}

impl Scenario {
    /// True when this scenario is exactly the measured setup of `report` (same GPU, model, engine
    /// configuration and workload), so measured figures may be shown beside predictions.
    pub fn reproduces(&self, report: &MeasuredReport) -> Result<bool> {
        let catalog = Catalog::builtin()?;
        let gpu = catalog.gpu(&report.gpu)?;
        let model = catalog.model(&report.model)?;
        if gpu.id != self.gpu.id || model.id != self.model.id {
            return Ok(false);
        }
        let engine = report
            .flags
            .resolve_release(report.engine, report.release.as_deref(), model, gpu, &report.id)?;
        let mut workload = report.workload.clone();
        workload.resolve_for_model(model, &report.id)?;
        Ok(engine == self.engine
            && workload == self.workload
            && self.replicas == report.replicas
            && (self.replicas == 1 || self.router == report.router))
    }
}
