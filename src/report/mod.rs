//! Output: seed-style markdown, terminal tables, JSON and CSV, with measured figures beside predictions.

pub mod compare;
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
}

/// Measured comparison in the JSON output.
#[derive(Debug, Clone, Serialize)]
pub struct MeasuredSection<'a> {
    /// The measured report id.
    pub report: &'a str,
    /// Per level comparisons.
    pub levels: &'a [LevelComparison],
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
            };
            serde_json::to_string_pretty(&doc).map_err(|e| Error::Fit(format!("cannot write JSON: {e}")))
        }
        Format::Csv => Ok(text::csv(prediction)),
        Format::Markdown => Ok(text::seed_layout(prediction, comparison.map(|c| c.1), false)
            + &text::intervals_table(&prediction.intervals)),
        Format::Table => Ok(text::seed_layout(prediction, comparison.map(|c| c.1), true)
            + &text::intervals_table(&prediction.intervals)),
    }
}
