//! Output: seed-style markdown, terminal tables, JSON and CSV, with measured figures beside predictions.

pub mod compare;
pub mod per_request;
pub mod sweep;
pub mod text;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::memory::MemoryPlan;
use crate::metrics::level::LevelResult;
use crate::scenario::Prediction;
pub use compare::{compare, compare_level, FigureComparison, LevelComparison};

/// Output formats of `simulate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Seed-style blocks with terminal tables.
    #[default]
    Table,
    /// The seed reports' own markdown layout.
    Markdown,
    /// One JSON object (schema in README).
    Json,
    /// One CSV row per level.
    Csv,
}

impl Format {
    /// Parses `table|markdown|json|csv`.
    pub fn parse(text: &str) -> Result<Format> {
        match text.to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "markdown" | "md" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            other => Err(Error::invalid(
                "--format",
                "format",
                format!("'{other}' is not one of table, markdown, json, csv"),
            )),
        }
    }
}

/// The profile as shown in outputs.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileSummary<'a> {
    /// Profile id.
    pub id: &'a str,
    /// `fitted` or `roofline`.
    pub kind: crate::cost::ProfileKind,
    /// What it was fitted to.
    pub source: &'a str,
}

/// The JSON document `simulate --format json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct JsonReport<'a> {
    /// Everything resolved: GPU, model, engine flags, workload, seed.
    pub scenario: &'a crate::scenario::Scenario,
    /// Which profile produced the numbers.
    pub profile: ProfileSummary<'a>,
    /// Memory budget and KV cache.
    pub memory: &'a MemoryPlan,
    /// One object per level.
    pub levels: &'a [LevelResult],
    /// Measured figures and errors, when the scenario is a measured setup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured: Option<MeasuredSection<'a>>,
    /// Per-level intervals from replications (`--replications N`), when asked for.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub intervals: &'a [crate::uncertainty::LevelIntervals],
    /// For a prediction from the unfitted prior: how far measurements fell from such predictions
    /// on the corpus (data/calibration.yaml).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmeasured_error_band: Option<&'a crate::fit::classes::Calibration>,
}

/// Measured comparison in the JSON output.
#[derive(Debug, Clone, Serialize)]
pub struct MeasuredSection<'a> {
    /// The measured report id.
    pub report: &'a str,
    /// Per level comparisons.
    pub levels: &'a [LevelComparison],
}

/// JSON has no infinity: a request rate of `inf` (everything sent at once) is written as the
/// string `"inf"`, as vLLM's client writes it, instead of `null`; and a level whose requests all
/// failed has `null` figures rather than zeros that read as measurements.
fn json_fix_non_finite(value: &mut serde_json::Value, prediction: &Prediction) {
    use serde_json::Value;
    if let Some(levels) = value.get_mut("levels").and_then(Value::as_array_mut) {
        for (v, l) in levels.iter_mut().zip(&prediction.levels) {
            if l.qps.is_some_and(f64::is_infinite) {
                v["qps"] = Value::String("inf".into());
            }
            if l.requests == 0 {
                for key in [
                    "request_throughput_req_s",
                    "output_throughput_tok_s",
                    "total_throughput_tok_s",
                    "ttft_ms",
                    "tpot_ms",
                    "itl_ms",
                    "e2e_latency_ms",
                    "queue_ms",
                    "output_tokens",
                    "input_tokens",
                    "request_output_rate_tok_s",
                ] {
                    if let Some(slot) = v.get_mut(key) {
                        *slot = Value::Null;
                    }
                }
            }
        }
    }
    if let crate::workload::arrivals::LoadSpec::Poisson { qps, .. } = &prediction.scenario.workload.load {
        if let Some(list) = value
            .pointer_mut("/scenario/workload/load/qps")
            .and_then(Value::as_array_mut)
        {
            for (slot, q) in list.iter_mut().zip(qps) {
                if q.is_infinite() {
                    *slot = Value::String("inf".into());
                }
            }
        }
    }
}

/// Renders a prediction in the chosen format; `comparison` adds measured figures and errors.
pub fn render(
    prediction: &Prediction,
    comparison: Option<(&str, &[LevelComparison])>,
    format: Format,
) -> Result<String> {
    match format {
        Format::Json => {
            let doc = JsonReport {
                scenario: &prediction.scenario,
                profile: ProfileSummary {
                    id: &prediction.scenario.profile.id,
                    kind: prediction.scenario.profile.kind,
                    source: &prediction.scenario.profile.source,
                },
                memory: &prediction.memory,
                levels: &prediction.levels,
                measured: comparison.map(|(report, levels)| MeasuredSection { report, levels }),
                intervals: &prediction.intervals,
                unmeasured_error_band: prediction.unmeasured_error_band.as_ref(),
            };
            let mut value = serde_json::to_value(&doc).map_err(|e| Error::Fit(format!("cannot write JSON: {e}")))?;
            json_fix_non_finite(&mut value, prediction);
            serde_json::to_string_pretty(&value).map_err(|e| Error::Fit(format!("cannot write JSON: {e}")))
        }
        Format::Csv => Ok(text::csv(prediction)),
        Format::Markdown => Ok(text::seed_layout(prediction, comparison.map(|c| c.1), false)
            + &text::intervals_table(&prediction.intervals)),
        Format::Table => Ok(text::seed_layout(prediction, comparison.map(|c| c.1), true)
            + &text::intervals_table(&prediction.intervals)),
    }
}
