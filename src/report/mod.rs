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
    /// Where one engine step's time goes ([`step_time_rows`]).
    pub step_time: Vec<StepTimeRow>,
}

/// One typical engine step of a scenario and its time, part by part.
#[derive(Debug, Clone, Serialize)]
pub struct StepTimeRow {
    /// What the step computes (`decode, 8 sequences`, `prefill chunk, 8192 tokens`).
    pub step: String,
    /// Sequences decoding one token each (0 for the prefill chunk).
    pub decode_seqs: u64,
    /// Prompt tokens prefilled (0 for a decode step).
    pub prefill_tokens: u64,
    /// Tokens of context each decoding sequence attends to (the workload's mean prompt plus half
    /// its mean output).
    pub context_tokens_per_seq: u64,
    /// The parts, seconds.
    #[serde(flatten)]
    pub time: crate::cost::StepTime,
    /// The step's duration, seconds.
    pub step_s: f64,
}

/// Typical engine steps of a prediction's scenario under its profile, part by part: decode
/// steps of one sequence, of eight and of as many as `max_num_seqs`, the KV cache and the token
/// budget allow (each sequence at the workload's mean prompt plus half its mean output, its K
/// drafts verified under speculative decoding), and one prefill chunk of the step's token budget
/// (a fresh prompt, nothing cached). A planner reads from it what a step spends on weights,
/// experts, attention, all-reduces and the host.
pub fn step_time_rows(p: &Prediction) -> Vec<StepTimeRow> {
    use crate::cost::StepBatch;
    let s = &p.scenario;
    let cost = s.cost_model();
    let window = cost.window_tokens();
    let mean_context = s.workload.input_len.mean() + s.workload.output_len.mean() / 2.0;
    let context = if mean_context.is_finite() {
        (mean_context.round() as u64).clamp(1, u64::from(s.engine.max_model_len.max(1)))
    } else {
        1
    };
    let kv_tokens = p.memory.usable_blocks * u64::from(p.memory.block_size.max(1));
    // Speculative decoding verifies K drafts per decoding sequence: K more query rows over the
    // same context (as the engine accounts them).
    let k = s
        .engine
        .speculative
        .as_ref()
        .map_or(0, |d| u64::from(d.num_speculative_tokens));
    // The largest decode step the engine can schedule: max_num_seqs sequences, as many as the KV
    // cache holds at this context, and their tokens within the step's budget.
    let most = u64::from(s.engine.max_num_seqs)
        .min(kv_tokens / (context + 1))
        .min(u64::from(s.engine.max_num_batched_tokens) / (1 + k))
        .max(1);
    let mut batches: Vec<u64> = [1, 8, most].into_iter().filter(|&n| n <= most).collect();
    batches.dedup();
    let mut rows: Vec<StepTimeRow> = batches
        .iter()
        .map(|&n| {
            let batch = StepBatch {
                decode_seqs: n,
                spec_tokens: n * k,
                context_tokens: n * (context + 1),
                prefill_attention_pairs: (n * k * (context + 1)) as f64,
                windowed_context_tokens: n * (context + 1).min(window),
                windowed_attention_pairs: (n * k * (context + 1).min(window)) as f64,
                output_seqs: n,
                ..StepBatch::default()
            };
            let time = cost.step_time(&batch);
            StepTimeRow {
                step: format!("decode, {n} {}", if n == 1 { "sequence" } else { "sequences" }),
                decode_seqs: n,
                prefill_tokens: 0,
                context_tokens_per_seq: context,
                step_s: time.total_s(),
                time,
            }
        })
        .collect();
    let chunk = u64::from(s.engine.max_num_batched_tokens.min(s.engine.max_model_len).max(1));
    let half = chunk as f64 / 2.0;
    let prefill = StepBatch {
        prefill_tokens: chunk,
        prefill_seqs: 1,
        context_tokens: chunk,
        prefill_attention_pairs: chunk as f64 * half,
        windowed_context_tokens: chunk.min(window),
        windowed_attention_pairs: chunk as f64 * half.min(window as f64),
        ..StepBatch::default()
    };
    let time = cost.step_time(&prefill);
    rows.push(StepTimeRow {
        step: format!("prefill chunk, {chunk} tokens"),
        decode_seqs: 0,
        prefill_tokens: chunk,
        context_tokens_per_seq: context,
        step_s: time.total_s(),
        time,
    });
    rows
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
                step_time: step_time_rows(prediction),
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
