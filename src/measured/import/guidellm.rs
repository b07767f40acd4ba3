//! GuideLLM `benchmarks.json`: the saved report of `guidellm benchmark`, in its two released
//! layouts. Each entry of `benchmarks` is one run (one strategy: one rate or concurrency) and
//! becomes one [`ImportedRun`].
//!
//! - **v0.2 / v0.3** (`neuralmagic/guidellm` 0.2.x, `vllm-project/guidellm` 0.3.x): a bare
//!   `{"benchmarks": [...]}`; each benchmark has `args.strategy`, `run_stats`, `worker`
//!   (`backend_model`), `start_time` / `end_time` (epoch s), `request_totals`, `metrics.*`
//!   distributions and `requests.{successful,incomplete,errored}[]` with `prompt_tokens`,
//!   `output_tokens`, `start_time` (s), `request_latency` (s), `time_to_first_token_ms` and, for
//!   failures, `error`. Schema: `src/guidellm/benchmark/benchmark.py` and
//!   `src/guidellm/objects/statistics.py` at tag v0.3.0.
//! - **report schema v1 / v2** (0.4 – 0.7+): `metadata.version`, top-level `args` (v1) or `config`
//!   (v2); each benchmark has `config.strategy`, `config.backend.model`, `scheduler_metrics`
//!   (`measure_start_time` / `measure_end_time`, epoch s), `metrics.request_totals`, `metrics.*`
//!   distributions and requests with `info.timings.request_start` (s), `info.error`,
//!   `prompt_tokens`, `output_tokens`, `request_latency` (s), `time_to_first_token_ms`. Schema:
//!   `src/guidellm/benchmark/schemas/generative/{benchmark,metrics}.py` and
//!   `src/guidellm/schemas/{request_stats,info,statistics}.py` at tag v0.5.0. Schema v2 (tag
//!   v0.7.3: `src/guidellm/benchmark/schemas/{report,benchmark,base,metrics,entrypoints}.py`) moves
//!   the run's arguments to a top-level `config` (`BenchmarkScenario`, model and target under
//!   `spec.backend`), renames each benchmark's `config.sample_requests` to `sample_size` and adds
//!   metrics (`time_to_first_output_token_ms`, per-modality summaries) that are not read.
//!
//! Strategies: `synchronous` → a queue of 1; `concurrent` → a queue of `streams`; `throughput` →
//! a queue of `max_concurrency` (or of every request sent); `poisson` → Poisson arrivals at
//! `rate`; `constant` → evenly spaced arrivals at `rate` (burstiness 100, the largest a report takes), replayed from the
//! recorded start times when every request kept them.
//!
//! The level's figures are the file's own distributions over successful requests
//! (`metrics.<name>.successful`); counts come from `request_totals`, not from the request lists,
//! which GuideLLM may sample (`--output-sampling` / `--sample-requests`).

use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::Value;

use super::json::{number_value, python_json_to_strict, secs_to_ms, stats_of};
use super::{ImportedRun, Importer, RequestRecord, RunLengths, RunLoad, Source};
use crate::error::{Error, Result};
use crate::measured::{Assumption, MeasuredLevel, MetricStats};
use crate::metrics::Summary;

/// The GuideLLM `benchmarks.json` format (report layouts of v0.2/v0.3 and schema v1/v2).
pub struct GuideLlm;

/// Gamma shape standing in for GuideLLM's `constant` strategy (evenly spaced sends): the
/// largest a report accepts (a coefficient of variation of the gaps of 0.1).
pub const CONSTANT_BURSTINESS: f64 = 100.0;

impl Importer for GuideLlm {
    fn name(&self) -> &'static str {
        "GuideLLM benchmarks.json"
    }

    fn detect(&self, _origin: &str, text: &str) -> bool {
        text.trim_start().starts_with('{')
            && text.contains("\"benchmarks\"")
            && (text.contains("\"generative_benchmark\"")
                || text.contains("\"scheduler_metrics\"")
                || (text.contains("\"run_stats\"") && text.contains("\"request_totals\"")))
    }

    fn import(&self, source: &Source<'_>) -> Result<Vec<ImportedRun>> {
        import_text(source.text, source.origin)
    }
}

// ---------------------------------------------------------------------------------------------
// Typed reading with errors that name the JSON path (shared with the AIPerf importer).

/// A number that may also be one of Python's non-finite literals (as marked by
/// [`python_json_to_strict`]) or a numeric string.
pub(super) fn de_num<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    let v = Value::deserialize(d)?;
    number_value(&v).ok_or_else(|| serde::de::Error::custom(format!("invalid type: {v}, expected a number")))
}

/// An optional [`de_num`] (`null` → none).
pub(super) fn de_opt_num<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<f64>, D::Error> {
    let v = Value::deserialize(d)?;
    match v {
        Value::Null => Ok(None),
        v => number_value(&v)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid type: {v}, expected a number or null"))),
    }
}

/// Deserializes `text` (strict JSON of the same length as the file: see
/// [`python_json_to_strict`]) as `T`; an error names the JSON path of the offending value
/// (`prefix` first, e.g. `benchmarks[2].requests.successful[5].prompt_tokens`).
pub(super) fn typed<T: DeserializeOwned>(text: &str, origin: &str, prefix: &str) -> Result<T> {
    serde_json::from_str::<T>(text).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            return Error::from_json(origin, &e);
        }
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m)
            .to_string();
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|m| m.split_once('`'))
            .map(|(f, _)| f.to_string());
        let mut frames = path_at(text, e.line(), e.column());
        if missing.is_some() {
            // The error points at the object's closing brace: its last key is not the field.
            if let Some(Frame::Key(_, _)) = frames.last() {
                frames.pop();
            }
        }
        let mut path = prefix.to_string();
        for f in &frames {
            match f {
                Frame::Key(Some(k), _) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                }
                Frame::Key(None, _) => {}
                Frame::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        if let Some(m) = missing {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&m);
            return Error::invalid(origin, path, format!("required key `{m}` is missing"));
        }
        if path.is_empty() {
            path = "(top level)".into();
        }
        Error::invalid(origin, path, message)
    })
}

#[derive(Debug)]
pub(super) enum Frame {
    /// Inside an object: the key being read (none before the first), and whether the next string
    /// is a key.
    Key(Option<String>, bool),
    /// Inside an array: the index being read.
    Index(usize),
}

/// The containers open at `line`:`column` (1-based, as serde_json reports them) of `text`.
pub(super) fn path_at(text: &str, line: usize, column: usize) -> Vec<Frame> {
    let mut offset = 0usize;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            offset += column.min(l.len());
            break;
        }
        offset += l.len();
    }
    // serde_json's column is that of the last character read; stop before it.
    let stop = offset.saturating_sub(1);
    let mut frames: Vec<Frame> = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if i >= stop {
            break;
        }
        match c {
            '{' => frames.push(Frame::Key(None, true)),
            '[' => frames.push(Frame::Index(0)),
            '}' | ']' => {
                frames.pop();
            }
            ',' => match frames.last_mut() {
                Some(Frame::Index(n)) => *n += 1,
                Some(Frame::Key(_, expect)) => *expect = true,
                None => {}
            },
            '"' => {
                let mut s = String::new();
                let mut escaped = false;
                for (_, ch) in chars.by_ref() {
                    if escaped {
                        s.push(ch);
                        escaped = false;
                    } else if ch == '\\' {
                        escaped = true;
                    } else if ch == '"' {
                        break;
                    } else {
                        s.push(ch);
                    }
                }
                if let Some(Frame::Key(key, expect)) = frames.last_mut() {
                    if *expect {
                        *key = Some(s);
                        *expect = false;
                    }
                }
            }
            _ => {}
        }
    }
    frames
}

// ---------------------------------------------------------------------------------------------
// The schema, shared parts.

/// `StatusBreakdown[int, int, int, int]`: request counts by status.
#[derive(Debug, Clone, Copy, Deserialize)]
struct Totals {
    successful: u32,
    #[serde(default)]
    errored: u32,
    #[serde(default)]
    incomplete: u32,
    #[serde(default)]
    total: Option<u32>,
}

/// `StatusBreakdown[list, list, list, None]`: the requests kept, by status.
#[derive(Debug, Deserialize)]
#[serde(bound = "T: Deserialize<'de>")]
struct Requests<T> {
    #[serde(default = "Vec::new", deserialize_with = "de_list")]
    successful: Vec<T>,
    #[serde(default = "Vec::new", deserialize_with = "de_list")]
    incomplete: Vec<T>,
    #[serde(default = "Vec::new", deserialize_with = "de_list")]
    errored: Vec<T>,
}

impl<T> Requests<T> {
    /// The successful requests and the failed ones (incomplete, then errored), each converted by
    /// `conv(status, index within its list, request)`.
    fn convert(self, conv: impl Fn(&str, usize, T) -> Req) -> (Vec<Req>, Vec<Req>) {
        let list = |status: &str, v: Vec<T>| {
            v.into_iter()
                .enumerate()
                .map(|(j, r)| conv(status, j, r))
                .collect::<Vec<_>>()
        };
        let successful = list("successful", self.successful);
        let mut failed = list("incomplete", self.incomplete);
        failed.extend(list("errored", self.errored));
        (successful, failed)
    }
}

fn de_list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> std::result::Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A scheduling strategy (`type_` and its parameters).
#[derive(Debug, Clone, Deserialize)]
struct Strategy {
    #[serde(rename = "type_")]
    kind: String,
    #[serde(default)]
    streams: Option<u32>,
    #[serde(default)]
    max_concurrency: Option<u32>,
    #[serde(default, deserialize_with = "de_opt_num")]
    rate: Option<f64>,
    #[serde(default)]
    initial_burst: Option<bool>,
}

/// `Percentiles` of a distribution.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
struct Percentiles {
    #[serde(default, deserialize_with = "de_opt_num")]
    p50: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    p90: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    p95: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    p99: Option<f64>,
}

/// `DistributionSummary` (values in the metric's unit).
#[derive(Debug, Clone, Copy, Deserialize)]
struct Distribution {
    #[serde(deserialize_with = "de_num")]
    mean: f64,
    #[serde(default, deserialize_with = "de_opt_num")]
    median: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    std_dev: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    min: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    max: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    total_sum: Option<f64>,
    #[serde(default)]
    percentiles: Option<Percentiles>,
}

/// `StatusDistributionSummary`: only the successful requests' distribution is read.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
struct StatusDistribution {
    #[serde(default)]
    successful: Option<Distribution>,
}

/// `GenerativeMetrics` (both layouts; v1/v2 also carry `request_totals` here).
#[derive(Debug, Clone, Default, Deserialize)]
struct Metrics {
    #[serde(default)]
    request_totals: Option<Totals>,
    #[serde(default)]
    requests_per_second: StatusDistribution,
    #[serde(default)]
    request_latency: StatusDistribution,
    #[serde(default)]
    prompt_token_count: StatusDistribution,
    #[serde(default)]
    output_token_count: StatusDistribution,
    #[serde(default)]
    time_to_first_token_ms: StatusDistribution,
    #[serde(default)]
    time_per_output_token_ms: StatusDistribution,
    #[serde(default)]
    inter_token_latency_ms: StatusDistribution,
    #[serde(default)]
    output_tokens_per_second: StatusDistribution,
    #[serde(default)]
    tokens_per_second: StatusDistribution,
}

// ---------------------------------------------------------------------------------------------
// The v0.2 / v0.3 layout.

#[derive(Debug, Deserialize)]
struct ReportV03 {
    benchmarks: Vec<BenchV03>,
}

#[derive(Debug, Deserialize)]
struct BenchV03 {
    args: ArgsV03,
    #[serde(default)]
    worker: Option<WorkerV03>,
    #[serde(deserialize_with = "de_num")]
    start_time: f64,
    #[serde(deserialize_with = "de_num")]
    end_time: f64,
    metrics: Metrics,
    request_totals: Totals,
    requests: Requests<ReqV03>,
}

#[derive(Debug, Deserialize)]
struct ArgsV03 {
    strategy: Strategy,
}

#[derive(Debug, Deserialize)]
struct WorkerV03 {
    #[serde(default)]
    backend_type: Option<String>,
    #[serde(default)]
    backend_target: Option<String>,
    #[serde(default)]
    backend_model: Option<String>,
}

/// `GenerativeTextResponseStats` / `GenerativeTextErrorStats`.
#[derive(Debug, Deserialize)]
struct ReqV03 {
    prompt_tokens: u32,
    output_tokens: u32,
    #[serde(deserialize_with = "de_num")]
    start_time: f64,
    #[serde(default, deserialize_with = "de_opt_num")]
    end_time: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    request_latency: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    time_to_first_token_ms: Option<f64>,
    #[serde(default)]
    error: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// The report schema v1 / v2 layout (0.4+).

#[derive(Debug, Deserialize)]
struct ReportV1 {
    #[serde(default)]
    metadata: Option<MetadataV1>,
    #[serde(default)]
    args: Option<ArgsV1>,
    /// Schema v2 (0.7+): the `BenchmarkScenario` in place of `args`.
    #[serde(default)]
    config: Option<ScenarioV2>,
    benchmarks: Vec<BenchV1>,
}

/// Schema v2's top-level `config` (`BenchmarkScenario`): only `spec.backend` is read.
#[derive(Debug, Deserialize)]
struct ScenarioV2 {
    #[serde(default)]
    spec: Option<SpecV2>,
}

#[derive(Debug, Deserialize)]
struct SpecV2 {
    #[serde(default)]
    backend: Option<BackendV1>,
}

#[derive(Debug, Deserialize)]
struct MetadataV1 {
    #[serde(default)]
    version: Option<u32>,
    #[serde(default)]
    guidellm_version: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ArgsV1 {
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    model: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BenchV1 {
    config: ConfigV1,
    scheduler_metrics: SchedulerMetricsV1,
    metrics: Metrics,
    requests: Requests<ReqV1>,
}

#[derive(Debug, Deserialize)]
struct ConfigV1 {
    strategy: Strategy,
    #[serde(default)]
    backend: Option<BackendV1>,
    /// `sample_requests` up to schema v1, `sample_size` from schema v2.
    #[serde(default, alias = "sample_size")]
    sample_requests: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct BackendV1 {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    target: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SchedulerMetricsV1 {
    #[serde(deserialize_with = "de_num")]
    measure_start_time: f64,
    #[serde(deserialize_with = "de_num")]
    measure_end_time: f64,
    #[serde(default)]
    requests_made: Option<Totals>,
}

/// `GenerativeRequestStats` with its computed fields.
#[derive(Debug, Deserialize)]
struct ReqV1 {
    info: InfoV1,
    #[serde(default)]
    prompt_tokens: Option<u32>,
    #[serde(default)]
    output_tokens: Option<u32>,
    #[serde(default)]
    input_metrics: Option<UsageV1>,
    #[serde(default)]
    output_metrics: Option<UsageV1>,
    #[serde(default, deserialize_with = "de_opt_num")]
    request_start_time: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    request_latency: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    time_to_first_token_ms: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct InfoV1 {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    timings: TimingsV1,
}

#[derive(Debug, Default, Deserialize)]
struct TimingsV1 {
    #[serde(default, deserialize_with = "de_opt_num")]
    request_start: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    request_end: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    resolve_start: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct UsageV1 {
    #[serde(default)]
    text_tokens: Option<u32>,
    #[serde(default)]
    total_tokens: Option<u32>,
}

// ---------------------------------------------------------------------------------------------
// Reading.

/// One request in a layout-neutral form, with the JSON path it came from.
struct Req {
    path: String,
    start_s: Option<f64>,
    input: Option<u32>,
    output: u32,
    latency_s: Option<f64>,
    ttft_ms: Option<f64>,
    error: Option<String>,
}

/// One benchmark in a layout-neutral form.
struct Bench {
    path: String,
    strategy_path: String,
    /// Where the request counts came from.
    totals_path: String,
    strategy: Strategy,
    model: Option<String>,
    target: Option<String>,
    duration_s: f64,
    totals: Totals,
    metrics: Metrics,
    successful: Vec<Req>,
    failed: Vec<Req>,
    sample_requests: Option<u32>,
}

fn import_text(text: &str, origin: &str) -> Result<Vec<ImportedRun>> {
    let strict = python_json_to_strict(text, false);
    let probe: Value = serde_json::from_str(&strict).map_err(|e| Error::from_json(origin, &e))?;
    let Value::Object(top) = &probe else {
        return Err(Error::invalid(
            origin,
            "(top level)",
            "expected a JSON object with `benchmarks`",
        ));
    };
    let first = top
        .get("benchmarks")
        .and_then(Value::as_array)
        .and_then(|b| b.first())
        .and_then(Value::as_object);
    let new_layout = top.contains_key("metadata") || first.is_some_and(|b| b.contains_key("scheduler_metrics"));
    let (format, benches) = if new_layout {
        let report: ReportV1 = typed(&strict, origin, "")?;
        let schema = report.metadata.as_ref().and_then(|m| m.version).unwrap_or(1);
        let version = report
            .metadata
            .as_ref()
            .and_then(|m| m.guidellm_version.clone())
            .unwrap_or_else(|| "0.4+".into());
        let spec_backend = report
            .config
            .as_ref()
            .and_then(|c| c.spec.as_ref())
            .and_then(|s| s.backend.as_ref());
        let args_model = report
            .args
            .as_ref()
            .and_then(|a| a.model.clone())
            .or_else(|| spec_backend.and_then(|b| b.model.clone()));
        let args_target = report
            .args
            .as_ref()
            .and_then(|a| a.target.clone())
            .or_else(|| spec_backend.and_then(|b| b.target.clone()));
        let benches = report
            .benchmarks
            .into_iter()
            .enumerate()
            .map(|(i, b)| bench_v1(i, b, args_model.clone(), args_target.clone()))
            .collect::<Vec<_>>();
        (
            format!("GuideLLM benchmarks.json (report schema v{schema}, guidellm {version})"),
            benches,
        )
    } else {
        let report: ReportV03 = typed(&strict, origin, "")?;
        let benches = report
            .benchmarks
            .into_iter()
            .enumerate()
            .map(|(i, b)| bench_v03(i, b))
            .collect::<Vec<_>>();
        ("GuideLLM benchmarks.json (v0.2/v0.3 layout)".to_string(), benches)
    };
    if benches.is_empty() {
        return Err(Error::invalid(
            origin,
            "benchmarks",
            "is empty; the report holds no benchmark to import",
        ));
    }
    let several = benches.len() > 1;
    benches
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let run_origin = if several {
                format!("{origin}#{}", i + 1)
            } else {
                origin.to_string()
            };
            to_run(b, origin, &run_origin, &format)
        })
        .collect()
}

fn bench_v03(i: usize, b: BenchV03) -> Bench {
    let path = format!("benchmarks[{i}]");
    let conv = |status: &str, j: usize, r: ReqV03| Req {
        path: format!("{path}.requests.{status}[{j}]"),
        start_s: Some(r.start_time),
        input: Some(r.prompt_tokens),
        output: r.output_tokens,
        latency_s: r.request_latency.or_else(|| r.end_time.map(|e| e - r.start_time)),
        ttft_ms: r.time_to_first_token_ms,
        error: match status {
            "successful" => None,
            "incomplete" => Some(
                r.error
                    .unwrap_or_else(|| "incomplete (cancelled when the benchmark ended)".into()),
            ),
            _ => Some(r.error.unwrap_or_else(|| "errored with no error message".into())),
        },
    };
    let (successful, failed) = b.requests.convert(conv);
    let worker = b.worker.as_ref();
    Bench {
        strategy: b.args.strategy,
        model: worker.and_then(|w| w.backend_model.clone()),
        target: worker.and_then(|w| {
            w.backend_target.clone().map(|t| {
                format!("{} {t}", w.backend_type.clone().unwrap_or_default())
                    .trim()
                    .to_string()
            })
        }),
        duration_s: b.end_time - b.start_time,
        totals: b.request_totals,
        metrics: b.metrics,
        successful,
        failed,
        sample_requests: None,
        strategy_path: format!("{path}.args.strategy"),
        totals_path: format!("{path}.request_totals"),
        path,
    }
}

fn bench_v1(i: usize, b: BenchV1, args_model: Option<String>, args_target: Option<String>) -> Bench {
    let path = format!("benchmarks[{i}]");
    let conv = |status: &str, j: usize, r: ReqV1| Req {
        path: format!("{path}.requests.{status}[{j}]"),
        start_s: r
            .info
            .timings
            .request_start
            .or(r.request_start_time)
            .or(r.info.timings.resolve_start),
        input: r
            .prompt_tokens
            .or_else(|| r.input_metrics.as_ref().and_then(|m| m.text_tokens.or(m.total_tokens))),
        output: r
            .output_tokens
            .or_else(|| r.output_metrics.as_ref().and_then(|m| m.total_tokens))
            .unwrap_or(0),
        latency_s: r
            .request_latency
            .or(match (r.info.timings.request_start, r.info.timings.request_end) {
                (Some(s), Some(e)) => Some(e - s),
                _ => None,
            }),
        ttft_ms: r.time_to_first_token_ms,
        error: match status {
            "successful" => None,
            "incomplete" => Some(
                r.info
                    .error
                    .clone()
                    .unwrap_or_else(|| format!("incomplete ({})", r.info.status.as_deref().unwrap_or("cancelled"))),
            ),
            _ => Some(
                r.info
                    .error
                    .clone()
                    .unwrap_or_else(|| "errored with no error message".into()),
            ),
        },
    };
    let (successful, failed) = b.requests.convert(conv);
    let backend = b.config.backend.as_ref();
    let totals = b
        .metrics
        .request_totals
        .or(b.scheduler_metrics.requests_made)
        .unwrap_or(Totals {
            successful: 0,
            errored: 0,
            incomplete: 0,
            total: None,
        });
    Bench {
        strategy: b.config.strategy,
        model: backend.and_then(|b| b.model.clone()).or(args_model),
        target: backend.and_then(|b| b.target.clone()).or(args_target),
        duration_s: b.scheduler_metrics.measure_end_time - b.scheduler_metrics.measure_start_time,
        totals,
        metrics: b.metrics,
        successful,
        failed,
        sample_requests: b.config.sample_requests,
        strategy_path: format!("{path}.config.strategy"),
        totals_path: format!("{path}.metrics.request_totals"),
        path,
    }
}

fn stats(d: &Distribution, scale: fn(f64) -> f64) -> MetricStats {
    let p = d.percentiles.unwrap_or_default();
    MetricStats {
        min: d.min.map(scale),
        max: d.max.map(scale),
        mean: Some(scale(d.mean)),
        std: d.std_dev.map(scale),
        p50: p.p50.or(d.median).map(scale),
        p90: p.p90.map(scale),
        p95: p.p95.map(scale),
        p99: p.p99.map(scale),
    }
}

fn non_negative(v: Option<f64>, origin: &str, field: &str, unit: &str) -> Result<()> {
    match v {
        Some(x) if !(x.is_finite() && x >= 0.0) => Err(Error::invalid(
            origin,
            field,
            format!("must be a finite number ≥ 0 {unit}, got {x}"),
        )),
        _ => Ok(()),
    }
}

fn at_most(v: Option<f64>, max: f64, origin: &str, field: &str, unit: &str) -> Result<()> {
    match v {
        Some(x) if x > max => Err(Error::invalid(
            origin,
            field,
            format!("{x} {unit} is more than one load-test request can take (at most {max} {unit})"),
        )),
        _ => Ok(()),
    }
}

fn to_run(b: Bench, file: &str, run_origin: &str, format: &str) -> Result<ImportedRun> {
    let p = &b.path;
    let totals = b.totals;
    if totals.successful == 0 {
        return Err(Error::invalid(
            file,
            format!("{}.successful", b.totals_path),
            "is 0; a benchmark without successful requests measures nothing",
        ));
    }
    if !(b.duration_s.is_finite() && b.duration_s > 0.0) {
        return Err(Error::invalid(
            file,
            format!("{p}.end_time"),
            format!("the benchmark lasts {} s (end − start); it must be > 0 s", b.duration_s),
        ));
    }
    let failed = totals.errored + totals.incomplete;
    let sent = totals
        .total
        .unwrap_or(totals.successful + failed)
        .max(totals.successful + failed);

    // Per-request checks: times finite, ≥ 0 and shorter than any load test runs (longer ones are
    // no measurement and overflow in milliseconds); a success's latency covers its first token.
    let max_s = super::json::MAX_REQUEST_SECONDS;
    for r in b.successful.iter().chain(&b.failed) {
        non_negative(r.ttft_ms, file, &format!("{}.time_to_first_token_ms", r.path), "ms")?;
        non_negative(r.latency_s, file, &format!("{}.request_latency", r.path), "s")?;
        at_most(
            r.ttft_ms,
            max_s * 1e3,
            file,
            &format!("{}.time_to_first_token_ms", r.path),
            "ms",
        )?;
        at_most(r.latency_s, max_s, file, &format!("{}.request_latency", r.path), "s")?;
        if let Some(s) = r.start_s {
            if !s.is_finite() {
                return Err(Error::invalid(
                    file,
                    format!("{}.start_time", r.path),
                    format!("must be a finite time in seconds, got {s}"),
                ));
            }
        }
    }
    for r in &b.successful {
        if let (Some(latency), Some(ttft)) = (r.latency_s, r.ttft_ms) {
            // GuideLLM times both from the same send; 1 µs of slack for the printed digits.
            if secs_to_ms(latency) < ttft - 1e-3 {
                return Err(Error::invalid(
                    file,
                    format!("{}.request_latency", r.path),
                    format!("{latency} s is shorter than the request's time to first token ({ttft} ms)"),
                ));
            }
        }
    }
    // Every statistic read into the level: finite, ≥ 0, and within a request's bounds.
    for (name, d, max, unit) in [
        (
            "time_to_first_token_ms",
            &b.metrics.time_to_first_token_ms,
            max_s * 1e3,
            "ms",
        ),
        ("request_latency", &b.metrics.request_latency, max_s, "s"),
        (
            "inter_token_latency_ms",
            &b.metrics.inter_token_latency_ms,
            max_s * 1e3,
            "ms",
        ),
        (
            "time_per_output_token_ms",
            &b.metrics.time_per_output_token_ms,
            max_s * 1e3,
            "ms",
        ),
        (
            "output_token_count",
            &b.metrics.output_token_count,
            f64::from(super::json::MAX_REQUEST_TOKENS),
            "tokens",
        ),
    ] {
        if let Some(d) = &d.successful {
            let q = d.percentiles.unwrap_or_default();
            for (k, v) in [
                ("mean", Some(d.mean)),
                ("min", d.min),
                ("max", d.max),
                ("median", d.median),
                ("std_dev", d.std_dev),
                ("percentiles.p50", q.p50),
                ("percentiles.p90", q.p90),
                ("percentiles.p95", q.p95),
                ("percentiles.p99", q.p99),
            ] {
                let field = format!("{p}.metrics.{name}.successful.{k}");
                non_negative(v, file, &field, unit)?;
                at_most(v, max, file, &field, unit)?;
            }
        }
    }

    // Load.
    let s = &b.strategy;
    let strategy_field = &b.strategy_path;
    let mut assumptions = Vec::new();
    let load = match s.kind.as_str() {
        "synchronous" => RunLoad::Queue { concurrency: 1 },
        "concurrent" => RunLoad::Queue {
            concurrency: s.streams.filter(|&n| n > 0).ok_or_else(|| {
                Error::invalid(
                    file,
                    format!("{strategy_field}.streams"),
                    "a concurrent strategy needs streams ≥ 1",
                )
            })?,
        },
        "throughput" => match s.max_concurrency.filter(|&n| n > 0) {
            Some(c) => RunLoad::Queue { concurrency: c },
            None => {
                assumptions.push(Assumption {
                    field: "workload.load".into(),
                    value: format!("a queue of {sent} requests"),
                    reason: "GuideLLM's throughput strategy sends every request at once and the file gives no \
                             max_concurrency; the run is simulated as all of its requests in flight together"
                        .into(),
                    source: run_origin.to_string(),
                });
                RunLoad::Queue {
                    concurrency: sent.max(1),
                }
            }
        },
        "constant" | "poisson" => {
            let rate = s.rate.filter(|r| r.is_finite() && *r > 0.0).ok_or_else(|| {
                Error::invalid(
                    file,
                    format!("{strategy_field}.rate"),
                    format!("a {} strategy needs a rate > 0 req/s, got {:?}", s.kind, s.rate),
                )
            })?;
            let burstiness = if s.kind == "constant" {
                assumptions.push(Assumption {
                    field: "workload.load.burstiness".into(),
                    value: format!("{CONSTANT_BURSTINESS}"),
                    reason: format!(
                        "GuideLLM's constant strategy sends requests evenly spaced at {rate} req/s{}; a gamma \
                         shape of {CONSTANT_BURSTINESS} spaces them evenly (the replay uses the recorded start \
                         times where every request kept them)",
                        if s.initial_burst == Some(true) {
                            " after an initial burst"
                        } else {
                            ""
                        }
                    ),
                    source: run_origin.to_string(),
                });
                CONSTANT_BURSTINESS
            } else {
                1.0
            };
            RunLoad::Poisson {
                rate,
                max_concurrency: s.max_concurrency.filter(|&n| n > 0),
                burstiness,
            }
        }
        other => {
            return Err(Error::invalid(
                file,
                format!("{strategy_field}.type_"),
                format!("is `{other}`; expected synchronous, concurrent, throughput, constant or poisson"),
            ))
        }
    };

    // Lengths: per request when every successful request was kept, else the distributions' means.
    let complete = b.successful.len() == totals.successful as usize && b.successful.iter().all(|r| r.input.is_some());
    let m = &b.metrics;
    let total_of = |d: &StatusDistribution, recorded: Option<f64>, what: &str| -> Result<f64> {
        if let Some(t) = recorded {
            return Ok(t);
        }
        match d.successful {
            Some(d) => Ok(d.total_sum.unwrap_or(d.mean * f64::from(totals.successful))),
            None => Err(Error::invalid(
                file,
                format!("{p}.metrics.{what}.successful"),
                "is missing and the file keeps only a sample of the requests; the lengths cannot be known",
            )),
        }
    };
    let rec_in: Option<Vec<u32>> = complete.then(|| b.successful.iter().map(|r| r.input.unwrap_or(0)).collect());
    let rec_out: Option<Vec<u32>> = complete.then(|| b.successful.iter().map(|r| r.output).collect());
    let total_input = total_of(
        &m.prompt_token_count,
        rec_in.as_ref().map(|v| v.iter().map(|&x| f64::from(x)).sum()),
        "prompt_token_count",
    )?;
    let total_output = total_of(
        &m.output_token_count,
        rec_out.as_ref().map(|v| v.iter().map(|&x| f64::from(x)).sum()),
        "output_token_count",
    )?;
    let n_ok = f64::from(totals.successful);
    let input = match rec_in {
        Some(v) => {
            if let Some(j) = v.iter().position(|&x| x == 0) {
                return Err(Error::invalid(
                    file,
                    format!("{p}.requests.successful[{j}].prompt_tokens"),
                    "is 0; a successful request needs a prompt of ≥ 1 token",
                ));
            }
            RunLengths::Recorded(v)
        }
        None => RunLengths::Mean(total_input / n_ok),
    };
    let output = match rec_out {
        Some(v) => RunLengths::Recorded(v),
        None => RunLengths::Mean(total_output / n_ok),
    };
    for (lengths, what) in [(&input, "prompt_token_count"), (&output, "output_token_count")] {
        if let RunLengths::Mean(x) = lengths {
            if !(x.is_finite() && *x >= 0.5) {
                return Err(Error::invalid(
                    file,
                    format!("{p}.metrics.{what}.successful"),
                    format!("averages {x} tokens per successful request; it must be ≥ 1 token"),
                ));
            }
        }
    }

    // Figures.
    let mut notes = vec![format!("{format} {run_origin} ({p}), strategy {}", s.kind)];
    let ident = |x: f64| x;
    let ttft = m.time_to_first_token_ms.successful.map(|d| stats(&d, ident));
    let e2e = m.request_latency.successful.map(|d| stats(&d, secs_to_ms));
    let itl = m.inter_token_latency_ms.successful.map(|d| stats(&d, ident));
    if let Some(d) = m.time_per_output_token_ms.successful {
        notes.push(format!(
            "GuideLLM's time_per_output_token_ms (includes the first token; no field of its own): mean {:.3}, \
             median {:.3}",
            d.mean,
            d.percentiles.and_then(|p| p.p50).or(d.median).unwrap_or(f64::NAN)
        ));
    }
    // TPOT as vLLM defines it ((latency − TTFT) ÷ (output − 1), per request), where every
    // successful request was kept.
    let tpot = if complete {
        let mut v: Vec<f64> = b
            .successful
            .iter()
            .filter(|r| r.output > 1)
            .filter_map(|r| Some((secs_to_ms(r.latency_s?) - r.ttft_ms?).max(0.0) / f64::from(r.output - 1)))
            .collect();
        let t = Summary::from_values(&mut v).map(|s| stats_of(&s));
        if t.is_some() {
            notes.push("TPOT per request as (request_latency − TTFT) ÷ (output_tokens − 1)".into());
        }
        t
    } else {
        None
    };
    let output_tokens = m.output_token_count.successful.map(|d| stats(&d, ident));
    let positive_mean = |d: &StatusDistribution| d.successful.map(|d| d.mean).filter(|v| v.is_finite() && *v > 0.0);
    let request_throughput = positive_mean(&m.requests_per_second).unwrap_or(n_ok / b.duration_s);
    let output_throughput = positive_mean(&m.output_tokens_per_second)
        .or_else(|| (total_output > 0.0).then(|| total_output / b.duration_s));
    let total_throughput = positive_mean(&m.tokens_per_second);
    if !complete {
        notes.push(format!(
            "the file keeps {} of {} successful requests (sampled); lengths are means",
            b.successful.len(),
            totals.successful
        ));
    }
    let (concurrency, qps) = load.level_key();
    let level = MeasuredLevel {
        concurrency,
        qps,
        requests: sent,
        successful_requests: Some(totals.successful),
        total_input_tokens: Some(total_input.round() as u64),
        total_output_tokens: Some(total_output.round() as u64),
        total_time_s: Some(b.duration_s),
        output_throughput_tok_s: output_throughput,
        request_throughput_req_s: Some(request_throughput),
        total_token_throughput_tok_s: total_throughput,
        ttft_ms: ttft,
        e2e_latency_ms: e2e,
        tpot_ms: tpot,
        itl_ms: itl,
        output_tokens,
        success_rate: Some(f64::from(totals.successful) / f64::from(sent.max(1))),
        notes: notes.join("; "),
        ..MeasuredLevel::default()
    };

    // Per-request records, in send order.
    let mut requests: Vec<RequestRecord> = b
        .successful
        .iter()
        .chain(&b.failed)
        .map(|r| RequestRecord {
            // A sample of the requests is no trace of the run: without every send, the replay
            // uses the load instead.
            start_s: r.start_s.filter(|_| complete),
            input_tokens: r.input.unwrap_or(0),
            output_tokens: r.output,
            ttft_ms: r.ttft_ms,
            e2e_ms: r.latency_s.map(secs_to_ms),
            error: r.error.clone(),
        })
        .collect();
    requests.sort_by(|a, b| match (a.start_s, b.start_s) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => std::cmp::Ordering::Equal,
    });

    let rate_text = match load {
        RunLoad::Queue { concurrency } | RunLoad::Waves { concurrency } => format!("concurrency {concurrency}"),
        RunLoad::Poisson { rate, .. } => format!("rate {rate} req/s"),
    };
    let summary = format!(
        "{run_origin}: {format}, strategy {} ({rate_text}), model {}, target {}, {} successful / {} incomplete / {} \
         errored requests over {:.3} s",
        s.kind,
        b.model.as_deref().unwrap_or("–"),
        b.target.as_deref().unwrap_or("–"),
        totals.successful,
        totals.incomplete,
        totals.errored,
        b.duration_s
    );
    let lengths_hint = match b.sample_requests {
        Some(n) => format!(
            "this GuideLLM run kept {n} requests per status (--sample-requests {n}, or the metrics' \
             sample_size {n} from 0.7); run without --sample-requests / sample_size to keep every request"
        ),
        None => "GuideLLM keeps every request unless --output-sampling / --sample-requests is given".into(),
    };
    Ok(ImportedRun {
        origin: run_origin.to_string(),
        format: format.to_string(),
        model_id: b.model.filter(|m| !m.is_empty()),
        load,
        num_requests: totals.successful,
        level,
        input,
        output,
        total_input,
        total_output,
        requests,
        failed,
        summary,
        lengths_hint,
        assumptions,
        endpoint: crate::workload::arrivals::Endpoint::Completions,
    })
}
