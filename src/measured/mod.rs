//! Measured reports: what a load test recorded, transcribed with its provenance and assumptions.
//!
//! One YAML file per measured setup lives in `data/measured/`; the built-in ones are embedded.
//! Numbers are copied exactly as printed; whatever the report left out is an explicit assumption.

pub mod import;

use serde::{Deserialize, Serialize};

use crate::engine::cluster::Router;
use crate::error::{Error, Result};
use crate::spec::engine::{EngineFlags, EngineVersion};
use crate::workload::arrivals::{Level, LoadSpec, WorkloadSpec};

/// YAML reading options for measured reports and workloads: `.inf` is a request rate (a burst,
/// every request sent at once), so non-finite floats pass through to the checks that place them.
pub fn yaml_options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::PassThrough;
    o
}

/// Where a report came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The source file (e.g. `shared/seeds/000_109a3adb795637d0.txt`); empty for a public source
    /// named by `url` or `repo`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub file: String,
    /// The public page the numbers come from (an issue comment, a blog post, a paper).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// The repository holding the numbers (`owner/name`), with `path` and `commit`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repo: String,
    /// The file within `repo`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// The commit of `repo` read (40 hex digits).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub commit: String,
    /// When it was measured, else when it was published (`YYYY-MM-DD` or `YYYY-MM`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub date: String,
    /// The part of it transcribed.
    pub section: String,
    /// The server command exactly as printed (empty if the source prints none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub server_command: String,
    /// The load-test client command exactly as printed (empty if the source prints none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_command: String,
    /// What the source itself states about the setup (hardware, software, workload).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stated: String,
    /// Anything a reader should know about how it was measured.
    #[serde(default)]
    pub notes: String,
}

impl Provenance {
    /// Where to find the numbers: the file, the URL, or `repo:path@commit`.
    pub fn source(&self) -> String {
        if !self.url.is_empty() {
            self.url.clone()
        } else if !self.repo.is_empty() {
            format!("{}:{}@{}", self.repo, self.path, self.commit)
        } else {
            self.file.clone()
        }
    }

    /// Checks that the source can be found again: a file, a URL, or a repository with path and commit.
    pub fn validate(&self, origin: &str) -> Result<()> {
        if self.file.is_empty() && self.url.is_empty() && self.repo.is_empty() {
            return Err(Error::invalid(
                origin,
                "provenance",
                "names no source: give file, url, or repo with path and commit",
            ));
        }
        if !self.repo.is_empty() && self.url.is_empty() {
            if self.path.is_empty() {
                return Err(Error::invalid(
                    origin,
                    "provenance.path",
                    "a repository source needs the file's path",
                ));
            }
            if !(self.commit.len() == 40 && self.commit.chars().all(|c| c.is_ascii_hexdigit())) {
                return Err(Error::invalid(
                    origin,
                    "provenance.commit",
                    format!("'{}' is not a 40-hex-digit commit", self.commit),
                ));
            }
        }
        Ok(())
    }
}

/// A value the report does not state, with the reason for the choice and its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assumption {
    /// The field assumed (dotted path in this file).
    pub field: String,
    /// The value used.
    pub value: String,
    /// Why this value.
    pub reason: String,
    /// Where the facts behind it come from.
    pub source: String,
}

/// Memory figures the engine logged at start-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggedMemory {
    /// "Maximum concurrency for N tokens per request: X.XXx" — the X.XX.
    #[serde(default)]
    pub max_concurrency_x: Option<f64>,
    /// The N of that line (max_model_len).
    #[serde(default)]
    pub tokens_per_request: Option<u32>,
    /// "# GPU blocks: N" (V0) or num_gpu_blocks.
    #[serde(default)]
    pub num_gpu_blocks: Option<u64>,
    /// Memory used on each card once the server is up and idle, as `nvidia-smi --query-gpu=
    /// memory.used` reads it, MiB (reports often print it as "MB").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_memory_used_mib: Option<f64>,
}

/// min/max/mean/percentiles of one metric as printed; a report may give only some of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricStats {
    /// Minimum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Mean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Standard deviation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
    /// Median.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    /// 90th percentile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90: Option<f64>,
    /// 95th percentile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95: Option<f64>,
    /// 99th percentile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
}

impl MetricStats {
    /// Refuses a statistic that is not a finite value ≥ 0 (no time, length or rate is negative),
    /// naming it as `field.stat`.
    pub fn validate(&self, origin: &str, field: &str) -> Result<()> {
        for (stat, v) in [
            ("min", self.min),
            ("max", self.max),
            ("mean", self.mean),
            ("std", self.std),
            ("p50", self.p50),
            ("p90", self.p90),
            ("p95", self.p95),
            ("p99", self.p99),
        ] {
            if let Some(v) = v.filter(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(Error::invalid(
                    origin,
                    format!("{field}.{stat}"),
                    format!("{v} is not a measured figure (must be finite and ≥ 0)"),
                ));
            }
        }
        Ok(())
    }

    /// All six present, as a [`crate::workload::lengths::ReportedStats`] for matched lengths.
    pub fn as_reported(&self) -> Option<crate::workload::lengths::ReportedStats> {
        Some(crate::workload::lengths::ReportedStats {
            min: self.min?,
            max: self.max?,
            mean: self.mean?,
            p50: self.p50?,
            p95: self.p95?,
            p99: self.p99?,
        })
    }
}

/// One measured load level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasuredLevel {
    /// Closed-loop users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Open-loop request rate, req/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qps: Option<f64>,
    /// Requests sent.
    pub requests: u32,
    /// Requests that completed ("Successful requests"); none: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successful_requests: Option<u32>,
    /// Prompt tokens over the level's successful requests ("Total input tokens").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_input_tokens: Option<u64>,
    /// Generated tokens over the level's successful requests ("Total generated tokens").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_output_tokens: Option<u64>,
    /// Wall time of the level, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_time_s: Option<f64>,
    /// Generated tokens per second over the level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_throughput_tok_s: Option<f64>,
    /// Requests per second over the level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_throughput_req_s: Option<f64>,
    /// Prompt and generated tokens per second over the level ("Total Token throughput").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_token_throughput_tok_s: Option<f64>,
    /// Time to first token, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<MetricStats>,
    /// End-to-end latency, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e2e_latency_ms: Option<MetricStats>,
    /// Time per output token, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpot_ms: Option<MetricStats>,
    /// Inter-token latency, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub itl_ms: Option<MetricStats>,
    /// Generated tokens per request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<MetricStats>,
    /// Each request's generated tokens ÷ its latency, tokens/s (a per-request decode rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_output_rate_tok_s: Option<MetricStats>,
    /// Audio seconds generated ÷ wall time of the level (TTS "× real time").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_throughput_x_realtime: Option<f64>,
    /// Time to the first audio chunk (TTS streaming), ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttfb_ms: Option<MetricStats>,
    /// Mean of the lowest quarter of the TTFBs, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttfb_lowest_quarter_mean_ms: Option<f64>,
    /// Mean of the highest quarter of the TTFBs, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttfb_highest_quarter_mean_ms: Option<f64>,
    /// Real-time factor per request (generation time ÷ audio duration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtf: Option<MetricStats>,
    /// A column the report calls RTF whose numbers do not follow its stated definition, copied as
    /// printed; `notes` says how it relates to the other figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_rtf: Option<f64>,
    /// Audio seconds per request (a single-request level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_s: Option<f64>,
    /// Fraction of requests that succeeded, in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_rate: Option<f64>,
    /// The level's requests failed (e.g. longer than the server's max_model_len).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
    /// Why the level's figures measure something servecast does not simulate (e.g. prompts the
    /// prefix cache had seen at an earlier level of the same server): shown, never fitted or
    /// scored. The reason must come from the source, not from how well servecast fits it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded: Option<String>,
    /// Why the level's TTFT measures something servecast does not simulate while its other
    /// figures do not (prompts served partly from a prefix cache the source says was warm, by an
    /// amount it does not record: prefill is a small share of the level's work, and none of a
    /// decode step's): its TTFT is shown, never fitted or scored. Like `excluded`, the reason
    /// must come from the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_excluded: Option<String>,
    /// The level includes engine warm-up (a cold first request): shown, never fitted or scored.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cold_start: bool,
    /// How the report's own labels map onto these fields, where they differ.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
}

impl MeasuredLevel {
    /// Refuses a figure that is not finite and ≥ 0 (a rate may be `inf`: everything sent at
    /// once), a success rate outside [0, 1], and a level that completed more requests than it
    /// sent; `at` names the level (`levels[2]`).
    pub fn validate_figures(&self, origin: &str, at: &str) -> Result<()> {
        if let Some(q) = self.qps.filter(|q| q.is_nan() || *q <= 0.0) {
            return Err(Error::invalid(
                origin,
                format!("{at}.qps"),
                format!("{q} is not a request rate (> 0)"),
            ));
        }
        for (name, v) in [
            ("total_time_s", self.total_time_s),
            ("output_throughput_tok_s", self.output_throughput_tok_s),
            ("request_throughput_req_s", self.request_throughput_req_s),
            ("total_token_throughput_tok_s", self.total_token_throughput_tok_s),
            ("audio_throughput_x_realtime", self.audio_throughput_x_realtime),
            ("ttfb_lowest_quarter_mean_ms", self.ttfb_lowest_quarter_mean_ms),
            ("ttfb_highest_quarter_mean_ms", self.ttfb_highest_quarter_mean_ms),
            ("reported_rtf", self.reported_rtf),
            ("audio_s", self.audio_s),
        ] {
            if let Some(v) = v.filter(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(Error::invalid(
                    origin,
                    format!("{at}.{name}"),
                    format!("{v} is not a measured figure (must be finite and ≥ 0)"),
                ));
            }
        }
        if let Some(r) = self.success_rate.filter(|r| !(0.0..=1.0).contains(r)) {
            return Err(Error::invalid(
                origin,
                format!("{at}.success_rate"),
                format!("{r} is not a fraction in [0, 1]"),
            ));
        }
        for (name, stats) in [
            ("ttft_ms", &self.ttft_ms),
            ("e2e_latency_ms", &self.e2e_latency_ms),
            ("tpot_ms", &self.tpot_ms),
            ("itl_ms", &self.itl_ms),
            ("output_tokens", &self.output_tokens),
            ("request_output_rate_tok_s", &self.request_output_rate_tok_s),
            ("ttfb_ms", &self.ttfb_ms),
            ("rtf", &self.rtf),
        ] {
            if let Some(s) = stats {
                s.validate(origin, &format!("{at}.{name}"))?;
            }
        }
        Ok(())
    }

    /// The load level it was measured at.
    pub fn level(&self) -> Level {
        match (self.concurrency, self.qps) {
            (Some(c), _) => Level::Concurrency(c),
            (None, Some(q)) => Level::Qps(q),
            _ => Level::Trace,
        }
    }
}

/// One measured setup: hardware, model, engine flags, workload and the levels measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasuredReport {
    /// Identifier, unique within data/measured.
    pub id: String,
    /// Where the numbers come from.
    pub provenance: Provenance,
    /// GPU (catalog name).
    pub gpu: String,
    /// Model (catalog name).
    pub model: String,
    /// Engine version (the modelled engine the release runs).
    pub engine: EngineVersion,
    /// The release as stated (e.g. `0.6.3.post1`); none for the seeds, whose `engine` says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Engine flags as started.
    pub flags: EngineFlags,
    /// Server flags the source sets that servecast does not model (e.g. `--num-scheduler-steps 10`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmodelled_flags: Vec<String>,
    /// Memory figures from the start-up log.
    #[serde(default)]
    pub logged: LoggedMemory,
    /// The workload as run.
    pub workload: WorkloadSpec,
    /// Engine replicas behind one server (data parallelism), each with `flags.tensor_parallel_size` GPUs.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub replicas: u32,
    /// How the server spreads requests over its replicas.
    #[serde(default, skip_serializing_if = "is_round_robin")]
    pub router: Router,
    /// Whether the server started; a setup that did not start has no levels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup: Option<RecordedStartup>,
    /// Values the report does not state.
    #[serde(default)]
    pub assumptions: Vec<Assumption>,
    /// The measured levels.
    #[serde(default)]
    pub levels: Vec<MeasuredLevel>,
}

fn one() -> u32 {
    1
}

fn is_one(v: &u32) -> bool {
    *v == 1
}

fn is_round_robin(r: &Router) -> bool {
    *r == Router::RoundRobin
}

/// The recorded start-up of a measured setup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedStartup {
    /// Started or refused.
    pub outcome: StartupOutcome,
    /// What the report says happened, verbatim.
    #[serde(default)]
    pub observed: String,
}

impl MeasuredReport {
    /// Whether the report records that the server did not start.
    pub fn refused_to_start(&self) -> bool {
        self.startup
            .as_ref()
            .is_some_and(|s| s.outcome == StartupOutcome::Refused)
    }
}

impl MeasuredReport {
    /// Parses and validates a report; `origin` (the file path) is named in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<MeasuredReport> {
        let r: MeasuredReport =
            serde_saphyr::from_str_with_options(text, yaml_options()).map_err(|e| Error::from_yaml(origin, &e))?;
        r.checked(origin)
    }

    /// Parses a file of one or more YAML documents (`---` between them), one setup each.
    pub fn from_yaml_documents(text: &str, origin: &str) -> Result<Vec<MeasuredReport>> {
        let docs: Vec<MeasuredReport> =
            serde_saphyr::from_multiple_with_options(text, yaml_options()).map_err(|e| Error::from_yaml(origin, &e))?;
        if docs.is_empty() {
            return Err(Error::invalid(origin, "id", "the file holds no measured report"));
        }
        docs.into_iter()
            .enumerate()
            .map(|(i, r)| r.checked(&format!("{origin} (document {})", i + 1)))
            .collect()
    }

    fn checked(mut self, origin: &str) -> Result<MeasuredReport> {
        self.provenance.validate(origin)?;
        self.flags.check_values(origin, "flags.")?;
        // Figures first: the workload's user deal and lengths are derived from them.
        for (i, l) in self.levels.iter().enumerate() {
            l.validate_figures(origin, &format!("levels[{i}]"))?;
        }
        for (name, v) in [
            ("logged.max_concurrency_x", self.logged.max_concurrency_x),
            ("logged.card_memory_used_mib", self.logged.card_memory_used_mib),
        ] {
            if let Some(v) = v.filter(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(Error::invalid(
                    origin,
                    name,
                    format!("{v} is not a logged figure (must be finite and ≥ 0)"),
                ));
            }
        }
        self.workload.fill_dataset_parts();
        if self.workload.initial_test_run.is_none() {
            self.workload.initial_test_run =
                crate::workload::client_command::sends_test_prompt(&self.provenance.client_command);
        }
        self.derive_user_deal();
        self.derive_lengths_from_totals();
        let r = self;
        r.workload.validate(origin)?;
        if !(1..=64).contains(&r.replicas) {
            return Err(Error::invalid(
                origin,
                "replicas",
                format!("{} is outside 1..=64", r.replicas),
            ));
        }
        if r.levels.is_empty() && r.startup.is_none() && r.logged.card_memory_used_mib.is_none() {
            return Err(Error::invalid(
                origin,
                "levels",
                "a measured report needs at least one level (or a recorded startup or card memory)",
            ));
        }
        for (i, l) in r.levels.iter().enumerate() {
            if l.requests == 0 {
                return Err(Error::invalid(origin, format!("levels[{i}].requests"), "must be ≥ 1"));
            }
            for (name, v) in [
                ("total_time_s", l.total_time_s),
                ("output_throughput_tok_s", l.output_throughput_tok_s),
                ("request_throughput_req_s", l.request_throughput_req_s),
                ("total_token_throughput_tok_s", l.total_token_throughput_tok_s),
                ("audio_throughput_x_realtime", l.audio_throughput_x_realtime),
                ("audio_s", l.audio_s),
            ] {
                if let Some(v) = v {
                    if !(v.is_finite() && v > 0.0) {
                        return Err(Error::invalid(origin, format!("levels[{i}].{name}"), "must be > 0"));
                    }
                }
            }
        }
        Ok(r)
    }

    /// Sets the workload's busiest-user ratios from each closed-loop level's total time and mean
    /// latency (total time ÷ (requests per user × mean E2E latency)), unless the file gives them.
    fn derive_user_deal(&mut self) {
        let LoadSpec::ClosedLoop { requests_per_user, .. } = &self.workload.load else {
            return;
        };
        if self.workload.busiest_user_ratio_per_level.is_some() || self.levels.len() != self.workload.levels().len() {
            return;
        }
        let rpu = *requests_per_user as f64;
        let ratios: Option<Vec<Option<f64>>> = self
            .levels
            .iter()
            .map(|l| {
                let total = l.total_time_s?;
                let mean = l.e2e_latency_ms?.mean?;
                Some(Some((total * 1000.0 / (rpu * mean)).clamp(1.0, 10.0)))
            })
            .collect();
        self.workload.busiest_user_ratio_per_level = ratios;
    }

    /// Sets each level's prompt and output lengths from its printed token totals ("Total input
    /// tokens", "Total generated tokens" ÷ successful requests), unless the file gives per-level
    /// lengths: a dataset preset is scaled to the printed mean (another tokenizer; answers the
    /// model ended before max_tokens); a fixed output the model could end early (no ignore_eos)
    /// becomes [`LengthDist::Capped`] at the printed mean; a fixed prompt takes the printed mean.
    /// These are the workload as it ran, not outcomes: the simulator needs them to send it.
    fn derive_lengths_from_totals(&mut self) {
        use crate::workload::lengths::LengthDist;
        let n_levels = self.workload.levels().len();
        if self.levels.len() != n_levels || n_levels == 0 {
            return;
        }
        let means = |total: fn(&MeasuredLevel) -> Option<u64>| -> Vec<Option<f64>> {
            self.levels
                .iter()
                .map(|l| {
                    let done = l.successful_requests.unwrap_or(l.requests);
                    let t = total(l)?;
                    (done > 0 && t > 0).then(|| t as f64 / f64::from(done))
                })
                .collect()
        };
        // A dataset preset scaled to the printed mean.
        let scaled = |d: &LengthDist, m: f64| match d {
            LengthDist::Dataset { name, part, max, .. } => LengthDist::Dataset {
                name: name.clone(),
                part: *part,
                mean: Some(m),
                max: *max,
            },
            other => other.clone(),
        };
        let input_means = means(|l| l.total_input_tokens);
        let output_means = means(|l| l.total_output_tokens);
        let ignore_eos = self.workload.ignore_eos == Some(true);
        if self.workload.input_len_per_level.is_none() && input_means.iter().any(Option::is_some) {
            let base = self.workload.input_len.clone();
            let per: Vec<LengthDist> = input_means
                .iter()
                .map(|m| match (m, &base) {
                    (Some(m), LengthDist::Dataset { .. }) => scaled(&base, *m),
                    (Some(m), LengthDist::Fixed { tokens }) if (m / f64::from(*tokens) - 1.0).abs() > 0.01 => {
                        LengthDist::Fixed {
                            tokens: m.round().max(1.0) as u32,
                        }
                    }
                    _ => base.clone(),
                })
                .collect();
            self.workload.input_len_per_level = Some(per);
        }
        if self.workload.output_len_per_level.is_none() && output_means.iter().any(Option::is_some) {
            let base = self.workload.output_len.clone();
            let per: Vec<LengthDist> = output_means
                .iter()
                .map(|m| match (m, &base) {
                    (Some(m), LengthDist::Dataset { .. }) => scaled(&base, *m),
                    (Some(m), LengthDist::Fixed { tokens })
                        if !ignore_eos && *m >= 1.0 && *m < 0.99 * f64::from(*tokens) =>
                    {
                        LengthDist::Capped { cap: *tokens, mean: *m }
                    }
                    _ => base.clone(),
                })
                .collect();
            self.workload.output_len_per_level = Some(per);
        }
    }

    /// Reads a report from a file.
    pub fn from_path(path: &std::path::Path) -> Result<MeasuredReport> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        MeasuredReport::from_yaml(&text, &path.display().to_string())
    }

    /// Reads every setup in a file of one or more YAML documents.
    pub fn all_from_path(path: &std::path::Path) -> Result<Vec<MeasuredReport>> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        MeasuredReport::from_yaml_documents(&text, &path.display().to_string())
    }
}

/// The built-in reports (data/measured), embedded in the binary.
pub const BUILTIN_REPORTS: &[(&str, &str)] = &[
    (
        "data/measured/rtx4090-indextts2-gpt-vllm0.10.yaml",
        include_str!("../../data/measured/rtx4090-indextts2-gpt-vllm0.10.yaml"),
    ),
    (
        "data/measured/a10-qwen2.5-7b-vllm0.6.yaml",
        include_str!("../../data/measured/a10-qwen2.5-7b-vllm0.6.yaml"),
    ),
    (
        "data/measured/l40s-qwen2-0.5b-vllm0.6-seqs3563.yaml",
        include_str!("../../data/measured/l40s-qwen2-0.5b-vllm0.6-seqs3563.yaml"),
    ),
    (
        "data/measured/l40s-qwen2-0.5b-vllm0.6-seqs972.yaml",
        include_str!("../../data/measured/l40s-qwen2-0.5b-vllm0.6-seqs972.yaml"),
    ),
    (
        "data/measured/l40s-qwen2-0.5b-vllm0.6-seqs1723.yaml",
        include_str!("../../data/measured/l40s-qwen2-0.5b-vllm0.6-seqs1723.yaml"),
    ),
    (
        "data/measured/rtx4090x2-voxcpm1.5-nanovllm.yaml",
        include_str!("../../data/measured/rtx4090x2-voxcpm1.5-nanovllm.yaml"),
    ),
];

/// Parses every built-in report (a file may hold several setups, one YAML document each).
pub fn builtin_reports() -> Result<Vec<MeasuredReport>> {
    let mut all = Vec::new();
    for (path, text) in BUILTIN_REPORTS {
        all.extend(MeasuredReport::from_yaml_documents(text, path)?);
    }
    Ok(all)
}

/// The measured corpus: the built-in seed reports and every setup in `<dir>/corpus/*.yaml`
/// (`dir` is normally `data/measured`), in file-name order. A file that does not parse is an error
/// naming it; the corpus is read from disk, not embedded (the binary carries the priors learned
/// from it, `data/priors.yaml`).
pub fn corpus_reports(dir: &std::path::Path) -> Result<Vec<MeasuredReport>> {
    let mut all = builtin_reports()?;
    let corpus = dir.join("corpus");
    let entries = std::fs::read_dir(&corpus).map_err(|source| Error::Io {
        path: corpus.display().to_string(),
        source,
    })?;
    let mut paths: Vec<std::path::PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    paths.sort();
    for p in paths {
        all.extend(MeasuredReport::all_from_path(&p)?);
    }
    let mut seen = std::collections::HashSet::new();
    for r in &all {
        if !seen.insert(r.id.as_str()) {
            return Err(Error::invalid(
                corpus.display().to_string(),
                "id",
                format!("'{}' names two measured setups; ids must be unique", r.id),
            ));
        }
    }
    Ok(all)
}

/// Whether a recorded configuration started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartupOutcome {
    /// The engine refused to start (the error is recorded).
    Refused,
    /// The engine started.
    Started,
}

/// One recorded `vllm serve` line and what happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedConfig {
    /// The command as recorded.
    pub command: String,
    /// Started or refused.
    pub outcome: StartupOutcome,
    /// The error text, verbatim, when refused.
    #[serde(default)]
    pub error: Option<String>,
    /// What was observed after a start.
    #[serde(default)]
    pub observed: Option<String>,
}

/// A set of recorded start-up outcomes (e.g. a random flag search).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedConfigs {
    /// Identifier.
    pub id: String,
    /// Where they come from.
    pub provenance: Provenance,
    /// GPU (catalog name).
    pub gpu: String,
    /// Engine version.
    pub engine: EngineVersion,
    /// The configurations in recorded order.
    pub configs: Vec<RecordedConfig>,
    /// Benchmark results printed in the same log that cannot be tied to one of `configs`, in file
    /// order; each one's notes say where it appears and why it is not tied. (Results that can be
    /// tied are measured reports of their own in data/measured.)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub untied_runs: Vec<MeasuredLevel>,
}

/// The built-in recorded start-up outcomes (seed 004's flag search).
pub fn builtin_recorded_configs() -> Result<RecordedConfigs> {
    let origin = "data/measured/l40s-qwen2-0.5b-vllm0.6-configs.yaml";
    serde_saphyr::from_str(include_str!("../../data/measured/l40s-qwen2-0.5b-vllm0.6-configs.yaml"))
        .map_err(|e| Error::from_yaml(origin, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "id: t
provenance: {file: f.txt, section: s}
gpu: a10
model: qwen2.5-7b-instruct
engine: vllm-0.6
flags: {max_model_len: 4096}
workload:
  load: {kind: closed_loop, concurrency: [1], requests_per_user: 5}
  input_len: {kind: fixed, tokens: 40}
  output_len: {kind: fixed, tokens: 256}
levels:
  - concurrency: 1
    requests: 5
    total_time_s: 10
    ttft_ms: {mean: 42.2, p50: 40}
    success_rate: 1
";

    #[test]
    fn a_negative_or_non_finite_measured_statistic_is_refused_naming_it() {
        assert!(MeasuredReport::from_yaml(REPORT, "r.yaml").is_ok());
        // Found by the fuzz harness: `ttft_ms: {mean: -9223372036854775808}` loaded Ok.
        for bad in ["-9223372036854775808", ".nan", ".inf", "-1"] {
            let text = REPORT.replace("mean: 42.2", &format!("mean: {bad}"));
            let err = MeasuredReport::from_yaml(&text, "r.yaml").unwrap_err().to_string();
            assert!(
                err.contains("r.yaml") && err.contains("`levels[0].ttft_ms.mean`"),
                "{bad}: {err}"
            );
        }
        let text = REPORT.replace("success_rate: 1", "success_rate: 1.5");
        let err = MeasuredReport::from_yaml(&text, "r.yaml").unwrap_err().to_string();
        assert!(err.contains("`levels[0].success_rate`"), "{err}");
        // Found by the fuzz harness: `flags: {gpu_memory_utilization: -0.0001}` loaded Ok.
        let text = REPORT.replace("max_model_len: 4096", "gpu_memory_utilization: -0.0001");
        let err = MeasuredReport::from_yaml(&text, "r.yaml").unwrap_err().to_string();
        assert!(err.contains("`flags.gpu_memory_utilization`"), "{err}");
        let text = REPORT.replace("levels:", "logged: {card_memory_used_mib: -5}\nlevels:");
        let err = MeasuredReport::from_yaml(&text, "r.yaml").unwrap_err().to_string();
        assert!(err.contains("`logged.card_memory_used_mib`"), "{err}");
    }
}
