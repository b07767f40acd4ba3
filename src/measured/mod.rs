//! Measured reports: what a load test recorded, transcribed with its provenance and assumptions.
//!
//! One YAML file per measured setup lives in `data/measured/`; the built-in ones are embedded.
//! Numbers are copied exactly as printed; whatever the report left out is an explicit assumption.

pub mod import;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::spec::engine::{EngineFlags, EngineVersion};
use crate::workload::arrivals::{Level, LoadSpec, WorkloadSpec};

/// Where a report came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The source file (e.g. `shared/seeds/000_109a3adb795637d0.txt`).
    pub file: String,
    /// The part of it transcribed.
    pub section: String,
    /// Anything a reader should know about how it was measured.
    #[serde(default)]
    pub notes: String,
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
    /// Median.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    /// 95th percentile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95: Option<f64>,
    /// 99th percentile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
}

impl MetricStats {
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Wall time of the level, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_time_s: Option<f64>,
    /// Generated tokens per second over the level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_throughput_tok_s: Option<f64>,
    /// Requests per second over the level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_throughput_req_s: Option<f64>,
    /// Time to first token, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<MetricStats>,
    /// End-to-end latency, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e2e_latency_ms: Option<MetricStats>,
    /// Time per output token, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpot_ms: Option<MetricStats>,
    /// Generated tokens per request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<MetricStats>,
    /// Each request's generated tokens ÷ its latency, tokens/s (a per-request decode rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_output_rate_tok_s: Option<MetricStats>,
    /// The level includes engine warm-up (a cold first request): shown, never fitted or scored.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cold_start: bool,
    /// How the report's own labels map onto these fields, where they differ.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
}

impl MeasuredLevel {
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
    /// Engine version.
    pub engine: EngineVersion,
    /// Engine flags as started.
    pub flags: EngineFlags,
    /// Memory figures from the start-up log.
    #[serde(default)]
    pub logged: LoggedMemory,
    /// The workload as run.
    pub workload: WorkloadSpec,
    /// Values the report does not state.
    #[serde(default)]
    pub assumptions: Vec<Assumption>,
    /// The measured levels.
    pub levels: Vec<MeasuredLevel>,
}

impl MeasuredReport {
    /// Parses and validates a report; `origin` (the file path) is named in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<MeasuredReport> {
        let mut r: MeasuredReport = serde_saphyr::from_str(text).map_err(|e| Error::from_yaml(origin, &e))?;
        r.derive_user_deal();
        r.workload.validate(origin)?;
        if r.levels.is_empty() {
            return Err(Error::invalid(
                origin,
                "levels",
                "a measured report needs at least one level",
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

    /// Reads a report from a file.
    pub fn from_path(path: &std::path::Path) -> Result<MeasuredReport> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        MeasuredReport::from_yaml(&text, &path.display().to_string())
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
];

/// Parses every built-in report.
pub fn builtin_reports() -> Result<Vec<MeasuredReport>> {
    BUILTIN_REPORTS
        .iter()
        .map(|(path, text)| MeasuredReport::from_yaml(text, path))
        .collect()
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
