//! NVIDIA AIPerf profile exports (one run per file):
//!
//! - `profile_export.jsonl`: one record per request, `metadata` (`request_start_ns`,
//!   `request_end_ns`, epoch ns; `benchmark_phase`), `metrics` (`{value, unit}` each:
//!   `time_to_first_token`, `request_latency`, `inter_token_latency`, `input_sequence_length`,
//!   `output_sequence_length`, `error_isl`, …) and `error` (`code`, `type`, `message`; null on
//!   success). The aggregate `profile_export_aiperf.json` beside it, when present, gives the load
//!   settings, the model and the run's own throughput and duration.
//! - `profile_export_aiperf.csv`: the same figures as a table (rows of metrics with `avg`, `min`,
//!   `max`, `p1`…`p99`, `std`, then rows of single values such as the request throughput), detected
//!   by its header row; the load and the model come from the `profile_export_aiperf.json` beside
//!   it, which must be there. Schema: `aiperf/exporters/csv_exporter.py`.
//! - `profile_export_aiperf.json` alone: per metric `unit`, `avg`, `min`, `max`, `std`, `p1`…`p99`,
//!   plus `input_config` (`endpoint.model_names`, `loadgen.concurrency` / `request_rate` /
//!   `request_rate_mode`); lengths are then known only as means. GenAI-Perf's
//!   `profile_export_genai_perf.json`, whose layout AIPerf copies, is read the same way.
//!
//! Schema: `aiperf/common/models/record_models.py`, `aiperf/common/models/export_models.py`,
//! `aiperf/common/config/{loadgen,endpoint}_config.py`, `aiperf/exporters/json_exporter.py` and
//! `docs/tutorials/working-with-profile-exports.md` of github.com/ai-dynamo/aiperf (commit
//! db4f6397, October 2025). Units are translated from each metric's own `unit` (`ns`, `us`, `ms`,
//! `s` / `sec` → ms).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use super::guidellm::{de_opt_num, typed};
use super::json::{python_json_to_strict, secs_to_ms, stats_of};
use super::{ImportedRun, Importer, RequestRecord, RunLengths, RunLoad, Source};
use crate::error::{Error, Result};
use crate::measured::{Assumption, MeasuredLevel, MetricStats};
use crate::metrics::Summary;

/// The AIPerf profile export format (`profile_export.jsonl` and `profile_export_aiperf.json`).
pub struct AiPerf;

/// The aggregate file AIPerf writes beside `profile_export.jsonl`.
pub const AGGREGATE_FILE: &str = "profile_export_aiperf.json";

/// The aggregate CSV AIPerf writes beside [`AGGREGATE_FILE`].
pub const AGGREGATE_CSV_FILE: &str = "profile_export_aiperf.csv";

impl Importer for AiPerf {
    fn name(&self) -> &'static str {
        "AIPerf profile export"
    }

    fn detect(&self, _origin: &str, text: &str) -> bool {
        if is_csv(text) {
            return true;
        }
        let head = text.trim_start();
        if !head.starts_with('{') {
            return false;
        }
        let first_line = head.lines().next().unwrap_or("");
        let jsonl = first_line.contains("\"metadata\"")
            && first_line.contains("\"request_start_ns\"")
            && first_line.contains("\"metrics\"");
        let aggregate = (text.contains("\"time_to_first_token\"") || text.contains("\"request_latency\""))
            && text.contains("\"unit\"")
            && text.contains("\"avg\"")
            && (text.contains("\"request_count\"") || text.contains("\"input_config\""))
            && !text.contains("\"benchmarks\"");
        jsonl || aggregate
    }

    fn import(&self, source: &Source<'_>) -> Result<Vec<ImportedRun>> {
        if is_csv(source.text) {
            return Ok(vec![import_csv(source)?]);
        }
        let first_line = source.text.trim_start().lines().next().unwrap_or("");
        if first_line.contains("\"request_start_ns\"") {
            let aggregate = match (source.sibling)(AGGREGATE_FILE) {
                Some((origin, text)) => Some((parse_aggregate(&text, &origin)?, origin)),
                None => None,
            };
            Ok(vec![import_records(source.text, source.origin, aggregate)?])
        } else {
            let agg = parse_aggregate(source.text, source.origin)?;
            Ok(vec![import_aggregate(agg, source.origin)?])
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The schema.

/// One line of `profile_export.jsonl` (`MetricRecordInfo`).
#[derive(Debug, Deserialize)]
struct Record {
    metadata: RecordMetadata,
    #[serde(default)]
    metrics: Option<HashMap<String, MetricValue>>,
    #[serde(default)]
    error: Option<ErrorDetails>,
}

#[derive(Debug, Deserialize)]
struct RecordMetadata {
    request_start_ns: u64,
    #[serde(default)]
    request_end_ns: Option<u64>,
    #[serde(default)]
    benchmark_phase: Option<String>,
}

/// `{value, unit}`; `value` may be a list (`inter_chunk_latency`), read only where a number is
/// needed.
#[derive(Debug, Deserialize)]
struct MetricValue {
    value: Value,
    unit: String,
}

#[derive(Debug, Deserialize)]
struct ErrorDetails {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// One metric of the aggregate JSON (`JsonMetricResult`).
#[derive(Debug, Clone, Deserialize)]
struct Stat {
    unit: String,
    #[serde(default, deserialize_with = "de_opt_num")]
    avg: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    p50: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    p90: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    p95: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    p99: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    min: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    max: Option<f64>,
    #[serde(default, deserialize_with = "de_opt_num")]
    std: Option<f64>,
}

/// `profile_export_aiperf.json` (`JsonExportData`) / `profile_export_genai_perf.json`.
#[derive(Debug, Default, Deserialize)]
struct Aggregate {
    #[serde(default)]
    request_throughput: Option<Stat>,
    #[serde(default)]
    request_latency: Option<Stat>,
    #[serde(default)]
    request_count: Option<Stat>,
    #[serde(default)]
    time_to_first_token: Option<Stat>,
    #[serde(default)]
    inter_token_latency: Option<Stat>,
    #[serde(default)]
    output_token_throughput: Option<Stat>,
    #[serde(default)]
    output_sequence_length: Option<Stat>,
    #[serde(default)]
    input_sequence_length: Option<Stat>,
    #[serde(default)]
    benchmark_duration: Option<Stat>,
    #[serde(default)]
    total_isl: Option<Stat>,
    #[serde(default)]
    total_osl: Option<Stat>,
    #[serde(default)]
    error_request_count: Option<Stat>,
    #[serde(default)]
    input_config: Option<InputConfig>,
    #[serde(default)]
    start_time: Option<String>,
}

/// The `input_config` (AIPerf's `UserConfig`, only the keys set; GenAI-Perf's flat arguments).
#[derive(Debug, Default, Deserialize)]
struct InputConfig {
    #[serde(default)]
    endpoint: Option<EndpointConfig>,
    #[serde(default)]
    loadgen: Option<LoadgenConfig>,
    /// GenAI-Perf: the model names.
    #[serde(default)]
    model: Option<Value>,
    /// GenAI-Perf: concurrency.
    #[serde(default)]
    concurrency: Option<u32>,
    /// GenAI-Perf: request rate, req/s.
    #[serde(default, deserialize_with = "de_opt_num")]
    request_rate: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
struct EndpointConfig {
    #[serde(default)]
    model_names: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
struct LoadgenConfig {
    #[serde(default)]
    concurrency: Option<u32>,
    #[serde(default, deserialize_with = "de_opt_num")]
    request_rate: Option<f64>,
    #[serde(default)]
    request_rate_mode: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Units and checks.

/// A time in `unit` → ms; none for a unit that is not a time.
fn to_ms(v: f64, unit: &str) -> Option<f64> {
    match unit.trim().to_ascii_lowercase().as_str() {
        "ns" => Some(v / 1e6),
        "us" | "µs" => Some(v / 1e3),
        "ms" => Some(v),
        "s" | "sec" | "secs" | "seconds" => Some(secs_to_ms(v)),
        _ => None,
    }
}

/// Refuses a run duration (s, > 0) too short for its tokens: the throughputs would overflow.
fn throughput_ok(duration_s: f64, tokens: f64, origin: &str, field: &str) -> Result<()> {
    if (tokens.max(1.0) / duration_s).is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(
            origin,
            field,
            format!("a run of {duration_s} s for {tokens} tokens is no measurement (its throughput overflows)"),
        ))
    }
}

fn time_stat(s: &Stat, origin: &str, field: &str) -> Result<MetricStats> {
    let conv = |v: Option<f64>| -> Result<Option<f64>> {
        match v {
            None => Ok(None),
            Some(x) => {
                let ms = to_ms(x, &s.unit).ok_or_else(|| {
                    Error::invalid(
                        origin,
                        format!("{field}.unit"),
                        format!("is `{}`; expected a time unit (ns, us, ms, sec)", s.unit),
                    )
                })?;
                if !(ms.is_finite() && ms >= 0.0) {
                    return Err(Error::invalid(
                        origin,
                        field,
                        format!("must be ≥ 0 {}, got {x}", s.unit),
                    ));
                }
                Ok(Some(ms))
            }
        }
    };
    Ok(MetricStats {
        min: conv(s.min)?,
        max: conv(s.max)?,
        mean: conv(s.avg)?,
        std: conv(s.std)?,
        p50: conv(s.p50)?,
        p90: conv(s.p90)?,
        p95: conv(s.p95)?,
        p99: conv(s.p99)?,
    })
}

/// A count statistic (tokens per request): NaN (a figure not measured) reads as absent; a
/// negative or infinite figure is refused naming `field.stat`.
fn plain_stat(s: &Stat, origin: &str, field: &str) -> Result<MetricStats> {
    let conv = |v: Option<f64>, stat: &str| -> Result<Option<f64>> {
        match v {
            Some(x) if x.is_nan() => Ok(None),
            Some(x) if !(x.is_finite() && x >= 0.0) => Err(Error::invalid(
                origin,
                format!("{field}.{stat}"),
                format!("must be a finite count ≥ 0, got {x}"),
            )),
            other => Ok(other),
        }
    };
    Ok(MetricStats {
        min: conv(s.min, "min")?,
        max: conv(s.max, "max")?,
        mean: conv(s.avg, "avg")?,
        std: conv(s.std, "std")?,
        p50: conv(s.p50, "p50")?,
        p90: conv(s.p90, "p90")?,
        p95: conv(s.p95, "p95")?,
        p99: conv(s.p99, "p99")?,
    })
}

fn parse_aggregate(text: &str, origin: &str) -> Result<Aggregate> {
    let strict = python_json_to_strict(text, false);
    typed(&strict, origin, "")
}

/// The load the aggregate's `input_config` states.
fn load_of_config(cfg: Option<&InputConfig>, origin: &str) -> Result<Option<(RunLoad, Vec<Assumption>)>> {
    let Some(cfg) = cfg else {
        return Ok(None);
    };
    let lg = cfg.loadgen.as_ref();
    let concurrency = lg.and_then(|l| l.concurrency).or(cfg.concurrency);
    let rate = lg.and_then(|l| l.request_rate).or(cfg.request_rate);
    let mode = lg.and_then(|l| l.request_rate_mode.clone());
    let mut assumptions = Vec::new();
    if concurrency == Some(0) {
        return Err(Error::invalid(
            origin,
            "input_config.loadgen.concurrency",
            "must be ≥ 1",
        ));
    }
    let load = match rate {
        Some(r) if !(r.is_finite() && r > 0.0) => {
            return Err(Error::invalid(
                origin,
                "input_config.loadgen.request_rate",
                format!("must be > 0 req/s, got {r}"),
            ))
        }
        Some(rate) => {
            let constant = mode.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("constant"));
            if constant {
                assumptions.push(Assumption {
                    field: "workload.load.burstiness".into(),
                    value: "100".into(),
                    reason: format!(
                        "AIPerf's constant request-rate mode sends evenly spaced requests at {rate} req/s; a gamma \
                         shape of 100 (the largest a report takes) spaces them nearly evenly"
                    ),
                    source: origin.to_string(),
                });
            }
            RunLoad::Poisson {
                rate,
                max_concurrency: concurrency,
                burstiness: if constant { 100.0 } else { 1.0 },
            }
        }
        None => match concurrency {
            Some(c) => RunLoad::Queue { concurrency: c },
            None => return Ok(None),
        },
    };
    Ok(Some((load, assumptions)))
}

fn model_of(cfg: Option<&InputConfig>) -> Option<String> {
    let cfg = cfg?;
    if let Some(m) = cfg
        .endpoint
        .as_ref()
        .and_then(|e| e.model_names.as_ref())
        .and_then(|m| m.first())
    {
        return Some(m.clone());
    }
    match cfg.model.as_ref()? {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// profile_export.jsonl

struct Row {
    line: usize,
    start_ns: u64,
    end_ns: Option<u64>,
    input: Option<u32>,
    output: Option<u32>,
    ttft_ms: Option<f64>,
    e2e_ms: Option<f64>,
    itl_ms: Option<f64>,
    error: Option<String>,
}

/// A metric of one record as a number in ms (times) or as is (counts).
fn record_metric(
    metrics: &HashMap<String, MetricValue>,
    key: &str,
    time: bool,
    origin: &str,
    line: usize,
) -> Result<Option<f64>> {
    let Some(m) = metrics.get(key) else {
        return Ok(None);
    };
    let field = format!("line {line}.metrics.{key}.value");
    let v = super::json::number_value(&m.value)
        .ok_or_else(|| Error::invalid(origin, &field, format!("expected a number, got {}", m.value)))?;
    let v = if time {
        to_ms(v, &m.unit).ok_or_else(|| {
            Error::invalid(
                origin,
                format!("line {line}.metrics.{key}.unit"),
                format!("is `{}`; expected a time unit (ns, us, ms, sec)", m.unit),
            )
        })?
    } else {
        v
    };
    if !(v.is_finite() && v >= 0.0) {
        return Err(Error::invalid(
            origin,
            field,
            format!("must be ≥ 0 {}, got {v}", if time { "ms" } else { "tokens" }),
        ));
    }
    Ok(Some(v))
}

fn tokens(v: Option<f64>, origin: &str, line: usize, key: &str) -> Result<Option<u32>> {
    match v {
        None => Ok(None),
        Some(x) if x.fract() == 0.0 && x <= f64::from(u32::MAX) => Ok(Some(x as u32)),
        Some(x) => Err(Error::invalid(
            origin,
            format!("line {line}.metrics.{key}.value"),
            format!("expected a whole number of tokens, got {x}"),
        )),
    }
}

fn import_records(text: &str, origin: &str, aggregate: Option<(Aggregate, String)>) -> Result<ImportedRun> {
    let strict = python_json_to_strict(text, false);
    let mut rows = Vec::new();
    let mut warmup = 0u32;
    for (i, line) in strict.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let rec: Record = typed(line, origin, &format!("line {n}"))?;
        if rec
            .metadata
            .benchmark_phase
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("warmup"))
        {
            warmup += 1;
            continue;
        }
        let empty = HashMap::new();
        let m = rec.metrics.as_ref().unwrap_or(&empty);
        let error = rec.error.as_ref().map(|e| {
            let kind = e.kind.clone().unwrap_or_else(|| "error".into());
            let code = e.code.map_or(String::new(), |c| format!(" {c}"));
            format!("{kind}{code}: {}", e.message.clone().unwrap_or_default())
        });
        let isl = if error.is_some() {
            record_metric(m, "error_isl", false, origin, n)?.or(record_metric(
                m,
                "input_sequence_length",
                false,
                origin,
                n,
            )?)
        } else {
            record_metric(m, "input_sequence_length", false, origin, n)?
        };
        let osl = record_metric(m, "output_sequence_length", false, origin, n)?.or(record_metric(
            m,
            "output_token_count",
            false,
            origin,
            n,
        )?);
        if let Some(end) = rec.metadata.request_end_ns {
            if end < rec.metadata.request_start_ns {
                return Err(Error::invalid(
                    origin,
                    format!("line {n}.metadata.request_end_ns"),
                    format!(
                        "{end} is before request_start_ns {}; a request cannot end before it starts",
                        rec.metadata.request_start_ns
                    ),
                ));
            }
        }
        rows.push(Row {
            line: n,
            start_ns: rec.metadata.request_start_ns,
            end_ns: rec.metadata.request_end_ns,
            input: tokens(
                isl,
                origin,
                n,
                if error.is_some() {
                    "error_isl"
                } else {
                    "input_sequence_length"
                },
            )?,
            output: tokens(osl, origin, n, "output_sequence_length")?,
            ttft_ms: record_metric(m, "time_to_first_token", true, origin, n)?,
            e2e_ms: record_metric(m, "request_latency", true, origin, n)?,
            itl_ms: record_metric(m, "inter_token_latency", true, origin, n)?,
            error,
        });
    }
    if rows.is_empty() {
        return Err(Error::invalid(
            origin,
            "(records)",
            "the file holds no profiling record",
        ));
    }
    rows.sort_by_key(|r| r.start_ns);
    let ok: Vec<&Row> = rows.iter().filter(|r| r.error.is_none()).collect();
    if ok.is_empty() {
        return Err(Error::invalid(
            origin,
            "error",
            "every request failed; a run without successful requests measures nothing",
        ));
    }
    let failed = (rows.len() - ok.len()) as u32;
    let n_ok = ok.len() as u32;
    let mut input = Vec::with_capacity(ok.len());
    let mut output = Vec::with_capacity(ok.len());
    for r in &ok {
        let i = r.input.ok_or_else(|| {
            Error::invalid(
                origin,
                format!("line {}.metrics.input_sequence_length", r.line),
                "is missing from a successful request",
            )
        })?;
        if i == 0 {
            return Err(Error::invalid(
                origin,
                format!("line {}.metrics.input_sequence_length.value", r.line),
                "is 0; a successful request needs a prompt of ≥ 1 token",
            ));
        }
        input.push(i);
        output.push(r.output.ok_or_else(|| {
            Error::invalid(
                origin,
                format!("line {}.metrics.output_sequence_length", r.line),
                "is missing from a successful request",
            )
        })?);
    }
    let total_input: f64 = input.iter().map(|&x| f64::from(x)).sum();
    let total_output: f64 = output.iter().map(|&x| f64::from(x)).sum();

    let (agg, agg_origin) = match aggregate {
        Some((a, o)) => (Some(a), Some(o)),
        None => (None, None),
    };
    let cfg = agg.as_ref().and_then(|a| a.input_config.as_ref());
    let mut notes = vec![format!("AIPerf profile_export.jsonl {origin}")];
    let first = rows.iter().map(|r| r.start_ns).min().unwrap_or(0);
    let last = rows.iter().filter_map(|r| r.end_ns).max().unwrap_or(first);
    let span_s = (last - first) as f64 / 1e9;
    let duration = match agg.as_ref().and_then(|a| a.benchmark_duration.as_ref()) {
        Some(d) => match d.avg.and_then(|v| to_ms(v, &d.unit)) {
            Some(ms) if ms.is_finite() && ms > 0.0 => ms / 1000.0,
            _ => {
                return Err(Error::invalid(
                    agg_origin.as_deref().unwrap_or(origin),
                    "benchmark_duration.avg",
                    "must be a finite time > 0 (unit sec)",
                ))
            }
        },
        None => span_s,
    };
    if !(duration.is_finite() && duration > 0.0) {
        return Err(Error::invalid(
            origin,
            "metadata.request_end_ns",
            "the records span 0 s; the run's duration must be > 0 s",
        ));
    }
    let duration_field = match agg.as_ref().and_then(|a| a.benchmark_duration.as_ref()) {
        Some(_) => (agg_origin.as_deref().unwrap_or(origin), "benchmark_duration.avg"),
        None => (origin, "metadata.request_end_ns"),
    };
    throughput_ok(duration, total_input + total_output, duration_field.0, duration_field.1)?;
    let mut assumptions = Vec::new();
    let load = match load_of_config(cfg, agg_origin.as_deref().unwrap_or(origin))? {
        Some((load, a)) => {
            assumptions.extend(a);
            load
        }
        None => {
            // The most requests ever in flight at once, from the records' own times.
            let mut events: Vec<(u64, i32)> = Vec::new();
            for r in &rows {
                events.push((r.start_ns, 1));
                events.push((r.end_ns.unwrap_or(r.start_ns), -1));
            }
            events.sort();
            let (mut now, mut peak) = (0i32, 0i32);
            for (_, d) in events {
                now += d;
                peak = peak.max(now);
            }
            let c = peak.max(1) as u32;
            assumptions.push(Assumption {
                field: "workload.load".into(),
                value: format!("a queue of {c} requests"),
                reason: format!(
                    "no {AGGREGATE_FILE} beside the records gives AIPerf's --concurrency / --request-rate; at most \
                     {c} requests were in flight at once by their recorded start and end times"
                ),
                source: origin.to_string(),
            });
            RunLoad::Queue { concurrency: c }
        }
    };

    let summary_of = |pick: fn(&Row) -> Option<f64>| -> Option<MetricStats> {
        let mut v: Vec<f64> = ok.iter().filter_map(|r| pick(r)).collect();
        Summary::from_values(&mut v).map(|s| stats_of(&s))
    };
    let ttft = summary_of(|r| r.ttft_ms);
    let e2e = summary_of(|r| r.e2e_ms);
    let tpot = summary_of(|r| r.itl_ms);
    if tpot.is_some() {
        notes.push(
            "TPOT from AIPerf's per-request inter_token_latency ((latency − TTFT) ÷ (output − 1), vLLM's TPOT)".into(),
        );
    }
    let mut out_f: Vec<f64> = output.iter().map(|&x| f64::from(x)).collect();
    let output_tokens = Summary::from_values(&mut out_f).map(|s| stats_of(&s));
    let agg_avg = |pick: fn(&Aggregate) -> Option<&Stat>| {
        agg.as_ref()
            .and_then(pick)
            .and_then(|s| s.avg)
            .filter(|v| v.is_finite() && *v > 0.0)
    };
    let request_throughput = agg_avg(|a| a.request_throughput.as_ref()).unwrap_or(f64::from(n_ok) / duration);
    let output_throughput =
        agg_avg(|a| a.output_token_throughput.as_ref()).or((total_output > 0.0).then(|| total_output / duration));
    if warmup > 0 {
        notes.push(format!("{warmup} warm-up records left out"));
    }
    let (concurrency, qps) = load.level_key();
    let sent = rows.len() as u32;
    let level = MeasuredLevel {
        concurrency,
        qps,
        requests: sent,
        successful_requests: Some(n_ok),
        total_input_tokens: Some(total_input as u64),
        total_output_tokens: Some(total_output as u64),
        total_time_s: Some(duration),
        output_throughput_tok_s: output_throughput,
        request_throughput_req_s: Some(request_throughput),
        total_token_throughput_tok_s: Some((total_input + total_output) / duration),
        ttft_ms: ttft,
        e2e_latency_ms: e2e,
        tpot_ms: tpot,
        output_tokens,
        success_rate: Some(f64::from(n_ok) / f64::from(sent)),
        notes: notes.join("; "),
        ..MeasuredLevel::default()
    };
    let requests = rows
        .iter()
        .map(|r| RequestRecord {
            // Seconds from the run's first send (epoch ns in an f64 would lose the microseconds).
            start_s: Some((r.start_ns - first) as f64 / 1e9),
            input_tokens: r.input.unwrap_or(0),
            output_tokens: r.output.unwrap_or(0),
            ttft_ms: r.ttft_ms,
            e2e_ms: r.e2e_ms,
            error: r.error.clone(),
        })
        .collect();
    let model_id = model_of(cfg);
    let summary = format!(
        "{origin}: AIPerf profile_export.jsonl{}, model {}, {}, {n_ok} successful / {failed} failed requests over \
         {duration:.3} s",
        agg_origin.as_deref().map_or(String::new(), |o| format!(" with {o}")),
        model_id.as_deref().unwrap_or("–"),
        load.describe(),
    );
    Ok(ImportedRun {
        origin: origin.to_string(),
        format: "AIPerf profile_export.jsonl".into(),
        model_id,
        load,
        num_requests: n_ok,
        level,
        input: RunLengths::Recorded(input),
        output: RunLengths::Recorded(output),
        total_input,
        total_output,
        requests,
        failed,
        summary,
        lengths_hint: "AIPerf writes them per request to profile_export.jsonl".into(),
        assumptions,
        endpoint: crate::workload::arrivals::Endpoint::Completions,
    })
}

// ---------------------------------------------------------------------------------------------
// profile_export_aiperf.json alone

fn import_aggregate(a: Aggregate, origin: &str) -> Result<ImportedRun> {
    let genai = origin.contains("genai_perf");
    let tool = if genai { "GenAI-Perf" } else { "AIPerf" };
    let cfg = a.input_config.as_ref();
    let load = load_of_config(cfg, origin)?.ok_or_else(|| {
        Error::invalid(
            origin,
            "input_config.loadgen",
            "gives neither concurrency nor request_rate; the run's load is unknown",
        )
    })?;
    let model_id = model_of(cfg);
    let of = SummaryOf {
        format: format!("{tool} aggregate JSON"),
        load,
        model_id,
        field: &|key: &str| key.to_string(),
        lengths_hint: if genai {
            "GenAI-Perf keeps per-request timings in its profile_export.json (not read here)".into()
        } else {
            "AIPerf writes them per request to profile_export.jsonl beside this file; import that file".into()
        },
    };
    summary_run(a, origin, of)
}

/// What a summary-only run takes besides its figures.
struct SummaryOf<'a> {
    /// The format's name, e.g. `AIPerf aggregate CSV`.
    format: String,
    /// The load and what was assumed to state it.
    load: (RunLoad, Vec<Assumption>),
    model_id: Option<String>,
    /// Where a metric's figure (`request_count.avg`) sits in the file, as errors name it.
    field: &'a dyn Fn(&str) -> String,
    lengths_hint: String,
}

/// One run from aggregate figures only (JSON or CSV): lengths as means.
fn summary_run(a: Aggregate, origin: &str, of: SummaryOf<'_>) -> Result<ImportedRun> {
    let field = of.field;
    let count = a
        .request_count
        .as_ref()
        .and_then(|s| s.avg)
        .ok_or_else(|| Error::invalid(origin, field("request_count.avg"), "the request count is missing"))?;
    if !(count.is_finite() && count >= 1.0 && count.fract() == 0.0 && count <= f64::from(u32::MAX)) {
        return Err(Error::invalid(
            origin,
            field("request_count.avg"),
            format!("expected a whole number of requests ≥ 1, got {count}"),
        ));
    }
    let n_ok = count as u32;
    let failed = match a.error_request_count.as_ref().and_then(|s| s.avg) {
        None => 0,
        Some(x) if x.is_finite() && x >= 0.0 && x.fract() == 0.0 => x as u32,
        Some(x) => {
            return Err(Error::invalid(
                origin,
                field("error_request_count.avg"),
                format!("expected a whole number of requests ≥ 0, got {x}"),
            ))
        }
    };
    let mean_len = |s: Option<&Stat>, total: Option<&Stat>, key: &str, total_key: &str| -> Result<f64> {
        let from_total = total.and_then(|t| t.avg).map(|t| t / f64::from(n_ok));
        // An error names the figure the mean came from.
        let source = if from_total.is_some() { total_key } else { key };
        let m = from_total.or(s.and_then(|s| s.avg)).ok_or_else(|| {
            Error::invalid(
                origin,
                field(&format!("{key}.avg")),
                format!("`{key}` is missing; the lengths are unknown"),
            )
        })?;
        let most = f64::from(super::json::MAX_REQUEST_TOKENS);
        if !(m.is_finite() && (0.5..=most).contains(&m)) {
            return Err(Error::invalid(
                origin,
                field(&format!("{source}.avg")),
                format!("gives {m} tokens per successful request; it must be ≥ 1 token and at most {most}"),
            ));
        }
        Ok(m)
    };
    let in_mean = mean_len(
        a.input_sequence_length.as_ref(),
        a.total_isl.as_ref(),
        "input_sequence_length",
        "total_isl",
    )?;
    let out_mean = mean_len(
        a.output_sequence_length.as_ref(),
        a.total_osl.as_ref(),
        "output_sequence_length",
        "total_osl",
    )?;
    let total_input = a
        .total_isl
        .as_ref()
        .and_then(|t| t.avg)
        .unwrap_or(in_mean * f64::from(n_ok));
    let total_output = a
        .total_osl
        .as_ref()
        .and_then(|t| t.avg)
        .unwrap_or(out_mean * f64::from(n_ok));

    let (load, assumptions) = of.load;
    let duration = match a.benchmark_duration.as_ref() {
        Some(d) => match d.avg.and_then(|v| to_ms(v, &d.unit)) {
            Some(ms) if ms.is_finite() && ms > 0.0 => Some(ms / 1000.0),
            _ => {
                return Err(Error::invalid(
                    origin,
                    field("benchmark_duration.avg"),
                    "must be a finite time > 0 (unit sec)",
                ))
            }
        },
        None => None,
    };
    if let Some(d) = duration {
        throughput_ok(d, total_input + total_output, origin, &field("benchmark_duration.avg"))?;
    }
    let positive = |s: Option<&Stat>| s.and_then(|s| s.avg).filter(|v| v.is_finite() && *v > 0.0);
    let ttft = a
        .time_to_first_token
        .as_ref()
        .map(|s| time_stat(s, origin, &field("time_to_first_token")))
        .transpose()?;
    let e2e = a
        .request_latency
        .as_ref()
        .map(|s| time_stat(s, origin, &field("request_latency")))
        .transpose()?;
    let tpot = a
        .inter_token_latency
        .as_ref()
        .map(|s| time_stat(s, origin, &field("inter_token_latency")))
        .transpose()?;
    let (concurrency, qps) = load.level_key();
    let request_throughput = positive(a.request_throughput.as_ref()).or(duration.map(|d| f64::from(n_ok) / d));
    let output_throughput = positive(a.output_token_throughput.as_ref()).or(duration.map(|d| total_output / d));
    let level = MeasuredLevel {
        concurrency,
        qps,
        requests: n_ok + failed,
        successful_requests: Some(n_ok),
        total_input_tokens: Some(total_input.round() as u64),
        total_output_tokens: Some(total_output.round() as u64),
        total_time_s: duration,
        output_throughput_tok_s: output_throughput,
        request_throughput_req_s: request_throughput,
        ttft_ms: ttft,
        e2e_latency_ms: e2e,
        tpot_ms: tpot,
        output_tokens: a
            .output_sequence_length
            .as_ref()
            .map(|s| plain_stat(s, origin, &field("output_sequence_length")))
            .transpose()?,
        success_rate: Some(f64::from(n_ok) / f64::from(n_ok + failed)),
        notes: format!(
            "{} {origin}; TPOT from inter_token_latency ((latency − TTFT) ÷ (output − 1) per request)",
            of.format
        ),
        ..MeasuredLevel::default()
    };
    let model_id = of.model_id;
    let summary = format!(
        "{origin}: {}, start {}, model {}, {}, {n_ok} successful / {failed} failed requests",
        of.format,
        a.start_time.as_deref().unwrap_or("–"),
        model_id.as_deref().unwrap_or("–"),
        load.describe()
    );
    Ok(ImportedRun {
        origin: origin.to_string(),
        format: of.format,
        model_id,
        load,
        num_requests: n_ok,
        level,
        input: RunLengths::Mean(in_mean),
        output: RunLengths::Mean(out_mean),
        total_input,
        total_output,
        requests: Vec::new(),
        failed,
        summary,
        lengths_hint: of.lengths_hint,
        assumptions,
        endpoint: crate::workload::arrivals::Endpoint::Completions,
    })
}

// ---------------------------------------------------------------------------------------------
// profile_export_aiperf.csv
//
// `aiperf/exporters/csv_exporter.py` (`CsvExporter`): a section of the metrics that have
// percentiles, headed `Metric,avg,min,max,p1,p5,p10,p25,p50,p75,p90,p95,p99,std` (the
// `STAT_KEYS` of `aiperf/common/constants.py`), then a blank line and a section of single values
// headed `Metric,Value`. Each row is named by the metric's display header with its display unit
// in brackets (`Time to First Token (ms)`; none for units `requests` / `count`); rows are sorted by
// the metric's tag; integers are written as is, other numbers with two decimals, a missing figure
// as an empty cell. The file says neither the model nor the load.

/// The header of the percentile section, up to `p1` (the rest may change with `STAT_KEYS`).
const CSV_STATS_HEADER: &str = "Metric,avg,min,max,p1";
/// The header of the single-value section.
const CSV_VALUES_HEADER: &str = "Metric,Value";

/// Whether `text` is AIPerf's aggregate CSV, by its first row.
fn is_csv(text: &str) -> bool {
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim_end();
    first.starts_with(CSV_STATS_HEADER) || first == CSV_VALUES_HEADER
}

/// The metric tags read, by their display header in AIPerf's metric classes
/// (`aiperf/metrics/types/*.py`).
const CSV_METRICS: [(&str, &str); 12] = [
    ("Time to First Token", "time_to_first_token"),
    ("Request Latency", "request_latency"),
    ("Inter Token Latency", "inter_token_latency"),
    ("Input Sequence Length", "input_sequence_length"),
    ("Output Sequence Length", "output_sequence_length"),
    ("Request Throughput", "request_throughput"),
    ("Request Count", "request_count"),
    ("Output Token Throughput", "output_token_throughput"),
    ("Benchmark Duration", "benchmark_duration"),
    ("Total Input Sequence Length", "total_isl"),
    ("Total Output Sequence Length", "total_osl"),
    ("Error Request Count", "error_request_count"),
];

/// One CSV record's cells (RFC 4180 quoting, as Python's `csv.writer` writes it); an error names
/// the line.
fn csv_cells(line: &str, origin: &str, n: usize) -> Result<Vec<String>> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                '"' => quoted = false,
                _ => cell.push(c),
            }
        } else {
            match c {
                ',' => {
                    cells.push(std::mem::take(&mut cell));
                    was_quoted = false;
                }
                '"' if cell.is_empty() && !was_quoted => {
                    quoted = true;
                    was_quoted = true;
                }
                _ => cell.push(c),
            }
        }
    }
    if quoted {
        return Err(Error::invalid(
            origin,
            format!("line {n}"),
            "has a quoted cell that is never closed",
        ));
    }
    cells.push(cell);
    Ok(cells)
}

/// `Header (unit)` → (`Header`, `unit`); no brackets: the unit is `requests` (AIPerf leaves out
/// `requests` and `count`).
fn split_name(name: &str) -> (&str, &str) {
    match name.strip_suffix(')').and_then(|n| n.rsplit_once(" (")) {
        Some((header, unit)) => (header.trim(), unit.trim()),
        None => (name.trim(), "requests"),
    }
}

/// Where each metric's row is, for errors: tag → (line, row name, the column of its `avg`: `avg`
/// or `Value`).
type CsvRows = HashMap<String, (usize, String, &'static str)>;

/// The figures of `profile_export_aiperf.csv`, as the aggregate JSON would hold them.
fn parse_csv(text: &str, origin: &str) -> Result<(Aggregate, CsvRows)> {
    let mut agg = Aggregate::default();
    let mut rows: CsvRows = HashMap::new();
    let mut columns: Option<Vec<String>> = None;
    for (i, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let n = i + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let cells = csv_cells(line, origin, n)?;
        if cells.first().map(String::as_str) == Some("Metric") {
            columns = Some(cells);
            continue;
        }
        let Some(cols) = columns.as_ref() else {
            return Err(Error::invalid(
                origin,
                format!("line {n}"),
                format!("comes before any `{CSV_STATS_HEADER},…` or `{CSV_VALUES_HEADER}` header row"),
            ));
        };
        if cells.len() != cols.len() {
            return Err(Error::invalid(
                origin,
                format!("line {n}"),
                format!("has {} cells; its header row has {}", cells.len(), cols.len()),
            ));
        }
        let name = cells[0].trim();
        let (header, unit) = split_name(name);
        let Some(&(_, tag)) = CSV_METRICS.iter().find(|(h, _)| *h == header) else {
            continue;
        };
        let mut stat = Stat {
            unit: unit.to_string(),
            avg: None,
            p50: None,
            p90: None,
            p95: None,
            p99: None,
            min: None,
            max: None,
            std: None,
        };
        for (col, cell) in cols.iter().zip(&cells).skip(1) {
            let cell = cell.trim();
            if cell.is_empty() {
                continue;
            }
            let v: f64 = cell.parse().map_err(|_| {
                Error::invalid(
                    origin,
                    format!("line {n} `{name}`, column {col}"),
                    format!("expected a number, got `{cell}`"),
                )
            })?;
            if !v.is_finite() {
                return Err(Error::invalid(
                    origin,
                    format!("line {n} `{name}`, column {col}"),
                    format!("must be a finite number, got {cell}"),
                ));
            }
            let slot = match col.as_str() {
                "avg" | "Value" => &mut stat.avg,
                "min" => &mut stat.min,
                "max" => &mut stat.max,
                "std" => &mut stat.std,
                "p50" => &mut stat.p50,
                "p90" => &mut stat.p90,
                "p95" => &mut stat.p95,
                "p99" => &mut stat.p99,
                _ => continue,
            };
            *slot = Some(v);
        }
        let slot = match tag {
            "time_to_first_token" => &mut agg.time_to_first_token,
            "request_latency" => &mut agg.request_latency,
            "inter_token_latency" => &mut agg.inter_token_latency,
            "input_sequence_length" => &mut agg.input_sequence_length,
            "output_sequence_length" => &mut agg.output_sequence_length,
            "request_throughput" => &mut agg.request_throughput,
            "request_count" => &mut agg.request_count,
            "output_token_throughput" => &mut agg.output_token_throughput,
            "benchmark_duration" => &mut agg.benchmark_duration,
            "total_isl" => &mut agg.total_isl,
            "total_osl" => &mut agg.total_osl,
            _ => &mut agg.error_request_count,
        };
        if slot.is_some() {
            return Err(Error::invalid(
                origin,
                format!("line {n} `{name}`"),
                format!("repeats the metric of line {}", rows.get(tag).map_or(0, |r| r.0)),
            ));
        }
        *slot = Some(stat);
        let avg_col = if cols.iter().any(|c| c == "Value") {
            "Value"
        } else {
            "avg"
        };
        rows.insert(tag.to_string(), (n, name.to_string(), avg_col));
    }
    Ok((agg, rows))
}

fn import_csv(source: &Source<'_>) -> Result<ImportedRun> {
    let origin = source.origin;
    let (mut agg, rows) = parse_csv(source.text, origin)?;
    // The CSV names neither the load nor the model: they come from the aggregate JSON beside it.
    let Some((json_origin, json_text)) = (source.sibling)(AGGREGATE_FILE) else {
        return Err(Error::invalid(
            origin,
            "(load)",
            format!(
                "the CSV gives neither the concurrency nor the request rate of the run; they are read from \
                 {AGGREGATE_FILE} beside it, which is missing"
            ),
        ));
    };
    let json = parse_aggregate(&json_text, &json_origin)?;
    let cfg = json.input_config.as_ref();
    let load = load_of_config(cfg, &json_origin)?.ok_or_else(|| {
        Error::invalid(
            &json_origin,
            "input_config.loadgen",
            format!("gives neither concurrency nor request_rate; the load of {origin} is unknown"),
        )
    })?;
    let model_id = model_of(cfg);
    agg.start_time = json.start_time.clone();
    let field = |key: &str| -> String {
        let (tag, col) = key.split_once('.').unwrap_or((key, ""));
        match rows.get(tag) {
            Some((n, name, _)) if col.is_empty() => format!("line {n} `{name}`"),
            Some((n, name, avg_col)) => {
                format!("line {n} `{name}`, column {}", if col == "avg" { avg_col } else { col })
            }
            None => {
                let header = CSV_METRICS.iter().find(|(_, t)| *t == tag).map_or(tag, |(h, _)| *h);
                format!("row `{header}`")
            }
        }
    };
    summary_run(
        agg,
        origin,
        SummaryOf {
            format: "AIPerf aggregate CSV".into(),
            load,
            model_id,
            field: &field,
            lengths_hint: "AIPerf writes them per request to profile_export.jsonl beside this file; import that file"
                .into(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_become_ms() {
        assert_eq!(to_ms(1_500_000.0, "ns"), Some(1.5));
        assert_eq!(to_ms(2.5, "sec"), Some(2500.0));
        assert_eq!(to_ms(7.0, "ms"), Some(7.0));
        assert_eq!(to_ms(7.0, "tokens"), None);
    }
}
