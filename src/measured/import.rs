//! Importers: load-test result files, in the formats benchmarks write them, turned into
//! [`MeasuredReport`]s and [`MeasuredLevel`]s.
//!
//! - `vllm bench serve --save-result` (and `benchmarks/benchmark_serving.py --save-result`) JSON:
//!   [`from_vllm_bench_json`] for one run, [`from_vllm_bench_runs`] for several runs of one
//!   deployment (one level per run).
//! - The summary JSON of seed 004's load-test script: [`level_from_summary_json`].
//!
//! A result file does not say which GPU, model and engine flags served it; the caller gives them
//! in an [`ImportContext`]. What the file leaves out of the workload is recorded as an
//! [`Assumption`]. Python writes non-finite floats as bare `NaN`, `Infinity` and `-Infinity`,
//! which strict JSON has no words for; they are accepted.

use serde_json::{Map, Value};

use super::{Assumption, MeasuredLevel, MeasuredReport, MetricStats, Provenance};
use crate::error::{Error, Result};
use crate::metrics::Summary;
use crate::spec::engine::{EngineFlags, EngineVersion};
use crate::workload::arrivals::{ConcurrencyLevel, LoadSpec, WorkloadSpec};
use crate::workload::lengths::LengthDist;

/// What a JSON file does not carry: the deployment it was measured on.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportContext {
    /// GPU, catalog name (e.g. `a100-80g-sxm`).
    pub gpu: String,
    /// Model, catalog name (e.g. `llama-3.1-8b`).
    pub model: String,
    /// Engine version that served the run.
    pub engine: EngineVersion,
    /// Engine flags the server was started with.
    pub flags: EngineFlags,
}

/// One `vllm bench serve --save-result` / `benchmarks/benchmark_serving.py --save-result` result
/// file → a [`MeasuredReport`] with one level; `origin` (the file path) is named in errors and in
/// the provenance.
///
/// Mapping: per-request `input_lens` / `output_lens` (written with `--save-detailed`) become
/// [`LengthDist::Cycle`] in request order (exact lengths), else a fixed length at the mean
/// (`total_input_tokens` ÷ `completed`) with an [`Assumption`] saying so. `request_rate` `inf`
/// with `max_concurrency` C → [`LoadSpec::MaxConcurrency`] at C; a finite rate →
/// [`LoadSpec::Poisson`] (with its `max_concurrency`); `inf` without one → every prompt at once
/// (concurrency = `num_prompts`). The level holds `completed`, `duration` (s), both throughputs,
/// and TTFT, TPOT and E2E latency in ms (mean, median as p50, p95 and p99 where present; min and
/// max of TTFT from `ttfts`; E2E from `ttfts` + `itls` when `*_e2el_ms` is absent).
pub fn from_vllm_bench_json(text: &str, origin: &str, ctx: &ImportContext) -> Result<MeasuredReport> {
    let run = parse_bench_run(text, origin)?;
    build_report(vec![run], ctx)
}

/// Several runs of one deployment (e.g. one per `--max-concurrency` or `--request-rate`), each
/// `(origin, text)` → one [`MeasuredReport`] with one level per run, sorted by concurrency, then
/// by rate; per-level prompt and output lengths go to `workload.input_len_per_level` /
/// `output_len_per_level`.
///
/// A report's levels share one load kind: runs that mix `--request-rate inf` with finite rates,
/// or finite-rate runs with different numbers of completed requests or different
/// `max_concurrency`, are refused with an error naming both files. Each run is mapped as in
/// [`from_vllm_bench_json`]; the workload's own `input_len` / `output_len` (used only when the
/// levels are changed) pool every run's recorded lengths.
pub fn from_vllm_bench_runs(files: &[(String, String)], ctx: &ImportContext) -> Result<MeasuredReport> {
    if files.is_empty() {
        return Err(Error::invalid(
            "vllm bench import",
            "files",
            "no result files given; pass one or more `vllm bench serve --save-result` JSON files",
        ));
    }
    let runs = files
        .iter()
        .map(|(origin, text)| parse_bench_run(text, origin))
        .collect::<Result<Vec<_>>>()?;
    build_report(runs, ctx)
}

/// The summary JSON of seed 004's load-test script → one [`MeasuredLevel`]; `origin` is named in
/// errors.
///
/// Fields read: `concurrency`, `successful_requests` (else `total_requests`), `total_time` (s),
/// `requests_per_second`, `total_output_tokens`, `latency` {`average`, `p50`, `p95`, `p99`} (s),
/// `time_to_first_token(ttft)` and `time-per-output-token(tpot)` (s). Seconds become ms by moving
/// the decimal point three places (the digits as printed); `output_throughput_tok_s` =
/// `total_output_tokens` ÷ `total_time` (tokens/s, computed: the file prints none); TPOT keeps
/// its mean only, because the file's TPOT p50/p95/p99 are copies of its average; `output_tokens`
/// holds the mean per request. `tokens_per_second` (a per-request rate whose definition the file
/// does not give) is not stored.
pub fn level_from_summary_json(text: &str, origin: &str) -> Result<MeasuredLevel> {
    let obj = parse_object(text, origin)?;
    let concurrency = req_count(&obj, "concurrency", origin)?;
    if concurrency == 0 {
        return Err(Error::invalid(origin, "concurrency", "must be ≥ 1"));
    }
    let total_requests = count(&obj, "total_requests", origin)?;
    let requests = match (count(&obj, "successful_requests", origin)?, total_requests) {
        (Some(n), _) | (None, Some(n)) => n,
        (None, None) => return Err(missing(origin, "successful_requests")),
    };
    if requests == 0 {
        return Err(Error::invalid(
            origin,
            "successful_requests",
            "no request succeeded; nothing to transcribe",
        ));
    }
    let total_time = positive(req_num(&obj, "total_time", origin)?, "total_time", origin)?;
    let total_output = req_num(&obj, "total_output_tokens", origin)?;
    if !(total_output.is_finite() && total_output > 0.0) {
        return Err(Error::invalid(origin, "total_output_tokens", "must be > 0 tokens"));
    }
    let rps = num(&obj, "requests_per_second", origin)?.filter(|v| v.is_finite() && *v > 0.0);
    let seconds_stats = |key: &str| -> Result<Option<MetricStats>> {
        let Some(inner) = object(&obj, key, origin)? else {
            return Ok(None);
        };
        let field =
            |k: &str| -> Result<Option<f64>> { Ok(num(inner, k, origin)?.filter(|v| v.is_finite()).map(secs_to_ms)) };
        Ok(some_stats(MetricStats {
            mean: field("average")?,
            p50: field("p50")?,
            p95: field("p95")?,
            p99: field("p99")?,
            ..MetricStats::default()
        }))
    };
    let e2e = seconds_stats("latency")?;
    let ttft = seconds_stats("time_to_first_token(ttft)")?;
    let tpot = seconds_stats("time-per-output-token(tpot)")?.and_then(|s| {
        some_stats(MetricStats {
            mean: s.mean,
            ..MetricStats::default()
        })
    });
    let mut notes = vec![
        format!(
            "seed-004 summary JSON ({origin}): seconds × 1000 → ms by moving the decimal point (digits as printed)"
        ),
        format!("output_throughput_tok_s = total_output_tokens {total_output} ÷ total_time (computed; the file prints none)"),
        "the file's TPOT p50/p95/p99 are copies of its average, so only the mean is kept".to_string(),
        "tokens_per_second is not stored: the file does not define it and its p95/p99 lie below its p50 (lower tails)"
            .to_string(),
    ];
    if let Some(cap) = num(&obj, "max_output_tokens", origin)? {
        notes.push(format!(
            "max_output_tokens {cap} is the request cap (max_tokens), not an observed maximum"
        ));
    }
    if let Some(total) = total_requests {
        if total != requests {
            notes.push(format!("{requests} of {total} requests succeeded"));
        }
    }
    if let Some(t) = num(&obj, "request_timeout", origin)? {
        notes.push(format!("client request timeout {t} s"));
    }
    if let Some(Value::Bool(long)) = obj.get("use_long_context") {
        notes.push(format!("use_long_context {long}"));
    }
    Ok(MeasuredLevel {
        concurrency: Some(concurrency),
        qps: None,
        requests,
        total_time_s: Some(total_time),
        output_throughput_tok_s: Some(total_output / total_time),
        request_throughput_req_s: rps,
        ttft_ms: ttft,
        e2e_latency_ms: e2e,
        tpot_ms: tpot,
        output_tokens: Some(MetricStats {
            mean: Some(total_output / f64::from(requests)),
            ..MetricStats::default()
        }),
        request_output_rate_tok_s: None,
        cold_start: false,
        notes: notes.join("; "),
        ..MeasuredLevel::default()
    })
}

/// Seconds → milliseconds by moving the decimal point of the shortest representation of `s`
/// three places, so that the result's digits are the printed digits (`0.3438152416547139` s →
/// `343.8152416547139` ms) rather than a product rounded in binary.
pub fn secs_to_ms(s: f64) -> f64 {
    if !s.is_finite() || s == 0.0 {
        return s * 1000.0;
    }
    let text = format!("{s:e}");
    text.split_once('e')
        .and_then(|(mantissa, exp)| {
            let e: i32 = exp.parse().ok()?;
            format!("{mantissa}e{}", e + 3).parse::<f64>().ok()
        })
        .unwrap_or(s * 1000.0)
}

// ---------------------------------------------------------------------------------------------
// vllm bench serve

/// How one run offered load.
#[derive(Debug, Clone, Copy, PartialEq)]
enum RunLoad {
    /// `--request-rate inf`: a shared queue with at most `concurrency` in flight.
    Queue { concurrency: u32 },
    /// A finite `--request-rate`, optionally behind `--max-concurrency`.
    Poisson { rate: f64, max_concurrency: Option<u32> },
}

/// The lengths of one run: recorded per request, or only their mean.
#[derive(Debug, Clone, PartialEq)]
enum RunLengths {
    /// Per-request lengths of the successful requests, in request order, tokens.
    Recorded(Vec<u32>),
    /// Only the total is known: its mean per request, tokens.
    Mean(f64),
}

impl RunLengths {
    fn dist(&self) -> LengthDist {
        match self {
            RunLengths::Recorded(values) => LengthDist::Cycle { values: values.clone() },
            RunLengths::Mean(mean) => LengthDist::Fixed {
                tokens: mean.round().clamp(1.0, f64::from(u32::MAX)) as u32,
            },
        }
    }
}

/// One parsed result file.
#[derive(Debug, Clone)]
struct BenchRun {
    origin: String,
    load: RunLoad,
    num_requests: u32,
    level: MeasuredLevel,
    input: RunLengths,
    output: RunLengths,
    total_input: f64,
    total_output: f64,
    /// Provenance line for this run.
    summary: String,
    /// `burstiness` as written (1: Poisson arrivals; servecast draws only Poisson).
    burstiness: Option<f64>,
    /// Prompts sent but not completed (`num_prompts` − `completed`).
    failed: u32,
}

fn parse_bench_run(text: &str, origin: &str) -> Result<BenchRun> {
    let obj = parse_object(text, origin)?;
    let completed = req_count(&obj, "completed", origin)?;
    if completed == 0 {
        return Err(Error::invalid(
            origin,
            "completed",
            "no request completed; a run without completed requests measures nothing",
        ));
    }
    let duration = positive(req_num(&obj, "duration", origin)?, "duration", origin)?;
    let total_input = req_num(&obj, "total_input_tokens", origin)?;
    let total_output = req_num(&obj, "total_output_tokens", origin)?;
    for (key, v) in [
        ("total_input_tokens", total_input),
        ("total_output_tokens", total_output),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(Error::invalid(origin, key, format!("must be ≥ 0 tokens, got {v}")));
        }
    }
    let rate = match obj.get("request_rate") {
        None | Some(Value::Null) => return Err(missing(origin, "request_rate")),
        Some(v) => number_value(v).ok_or_else(|| {
            Error::invalid(
                origin,
                "request_rate",
                format!("expected a number of requests/s or \"inf\", got {v}"),
            )
        })?,
    };
    if rate.is_nan() || rate <= 0.0 {
        return Err(Error::invalid(
            origin,
            "request_rate",
            format!("must be > 0 req/s, got {rate}"),
        ));
    }
    let max_concurrency = count(&obj, "max_concurrency", origin)?;
    if max_concurrency == Some(0) {
        return Err(Error::invalid(origin, "max_concurrency", "must be ≥ 1 (or null)"));
    }
    let num_prompts = count(&obj, "num_prompts", origin)?;
    let burstiness = num(&obj, "burstiness", origin)?;
    let load = if rate.is_infinite() {
        RunLoad::Queue {
            concurrency: max_concurrency.or(num_prompts).unwrap_or(completed).max(1),
        }
    } else {
        RunLoad::Poisson { rate, max_concurrency }
    };

    // Per-request arrays (vllm bench serve keeps them only with --save-detailed).
    let input_lens = u32_array(&obj, "input_lens", origin)?;
    let output_lens = u32_array(&obj, "output_lens", origin)?;
    let ttfts = f64_array(&obj, "ttfts", origin)?;
    let itls = nested_f64_array(&obj, "itls", origin)?;
    let errors = error_array(&obj, "errors", origin)?;
    let n = [
        input_lens.as_ref().map(Vec::len),
        output_lens.as_ref().map(Vec::len),
        ttfts.as_ref().map(Vec::len),
        itls.as_ref().map(Vec::len),
        errors.as_ref().map(Vec::len),
    ];
    let names = ["input_lens", "output_lens", "ttfts", "itls", "errors"];
    let mut first: Option<(usize, &str)> = None;
    for (len, name) in n.iter().zip(names) {
        if let Some(len) = len {
            match first {
                None => first = Some((*len, name)),
                Some((l0, n0)) if l0 != *len => {
                    return Err(Error::invalid(
                        origin,
                        name,
                        format!(
                            "has {len} entries but {n0} has {l0}; per-request arrays must have one entry per request"
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
    }
    // A request counts when it has no error and generated at least one token (vllm bench writes
    // 0 as the output length of a failed request).
    let ok: Option<Vec<bool>> = first.map(|(len, _)| {
        (0..len)
            .map(|i| {
                let no_error = errors.as_ref().is_none_or(|e| e[i].is_empty());
                let produced = output_lens.as_ref().is_none_or(|o| o[i] > 0);
                no_error && produced
            })
            .collect()
    });
    let kept = |values: &[u32]| -> Vec<u32> {
        values
            .iter()
            .zip(ok.iter().flatten())
            .filter(|(_, &k)| k)
            .map(|(&v, _)| v)
            .collect()
    };
    let successes = ok.as_ref().map(|k| k.iter().filter(|&&b| b).count());
    if let Some(s) = successes {
        if s != completed as usize {
            return Err(Error::invalid(
                origin,
                "completed",
                format!(
                    "is {completed} but the per-request arrays hold {s} successful requests (no error, ≥ 1 output token)"
                ),
            ));
        }
    }
    let input = match &input_lens {
        Some(v) => {
            let k = kept(v);
            if k.contains(&0) {
                return Err(Error::invalid(
                    origin,
                    "input_lens",
                    "a successful request has a 0-token prompt",
                ));
            }
            RunLengths::Recorded(k)
        }
        None => RunLengths::Mean(total_input / f64::from(completed)),
    };
    let output = match &output_lens {
        Some(v) => RunLengths::Recorded(kept(v)),
        None => RunLengths::Mean(total_output / f64::from(completed)),
    };
    if let RunLengths::Mean(m) = input {
        if m < 0.5 {
            return Err(Error::invalid(
                origin,
                "total_input_tokens",
                "averages under one token per request; cannot model the prompts",
            ));
        }
    }
    if let RunLengths::Mean(m) = output {
        if m < 0.5 {
            return Err(Error::invalid(
                origin,
                "total_output_tokens",
                "averages under one token per request; cannot model the outputs",
            ));
        }
    }

    // Metrics.
    let mut notes: Vec<String> = vec![format!("vllm bench serve result {origin}")];
    let mut ttft = ms_stats(&obj, "ttft", origin)?;
    let ok_ttfts: Option<Vec<f64>> = ttfts.as_ref().map(|t| {
        t.iter()
            .zip(ok.iter().flatten())
            .filter(|(_, &k)| k)
            .map(|(&v, _)| v)
            .collect()
    });
    if let Some(t) = ok_ttfts.as_ref().filter(|t| !t.is_empty()) {
        let mut ms: Vec<f64> = t.iter().map(|&s| secs_to_ms(s)).collect();
        if let Some(s) = Summary::from_values(&mut ms) {
            let base = ttft.unwrap_or_default();
            ttft = Some(MetricStats {
                min: Some(s.min),
                max: Some(s.max),
                ..base
            });
            notes.push("TTFT min and max from the per-request ttfts".into());
        }
    }
    let tpot = ms_stats(&obj, "tpot", origin)?;
    let mut e2e = ms_stats(&obj, "e2el", origin)?;
    if e2e.is_none() {
        if let (Some(t), Some(itl)) = (&ttfts, &itls) {
            let mut lat: Vec<f64> = t
                .iter()
                .zip(itl)
                .zip(ok.iter().flatten())
                .filter(|(_, &k)| k)
                .map(|((&first, gaps), _)| secs_to_ms(first + gaps.iter().sum::<f64>()))
                .collect();
            if let Some(s) = Summary::from_values(&mut lat) {
                e2e = Some(stats_of(&s));
                notes.push(
                    "E2E latency derived per request as ttft + sum(itls) (vllm's own latency), since the file has no *_e2el_ms"
                        .into(),
                );
            }
        }
    }
    if e2e.is_none() {
        notes.push(
            "no E2E latency in the file (run with --percentile-metrics ttft,tpot,itl,e2el or --save-detailed)".into(),
        );
    }
    let output_tokens = match &output {
        RunLengths::Recorded(v) => {
            let mut f: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
            Summary::from_values(&mut f).map(|s| stats_of(&s))
        }
        RunLengths::Mean(m) => Some(MetricStats {
            mean: Some(*m),
            ..MetricStats::default()
        }),
    };
    if let Some(itl) = ms_stats(&obj, "itl", origin)? {
        let show = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
        notes.push(format!(
            "ITL ms (no field of its own here): mean {}, median {}, p95 {}, p99 {}",
            show(itl.mean),
            show(itl.p50),
            show(itl.p95),
            show(itl.p99)
        ));
    }
    let unstored: Vec<&str> = obj
        .keys()
        .filter(|k| (k.starts_with("std_") || (k.starts_with('p') && !is_stored_percentile(k))) && k.ends_with("_ms"))
        .map(String::as_str)
        .collect();
    if !unstored.is_empty() {
        notes.push(format!("not stored (no field): {}", unstored.join(", ")));
    }
    let request_throughput = num(&obj, "request_throughput", origin)?
        .filter(|v| v.is_finite() && *v > 0.0)
        .unwrap_or(f64::from(completed) / duration);
    let output_throughput = num(&obj, "output_throughput", origin)?
        .filter(|v| v.is_finite() && *v > 0.0)
        .or_else(|| (total_output > 0.0).then(|| total_output / duration));
    let (concurrency, qps) = match load {
        RunLoad::Queue { concurrency } => (Some(concurrency), None),
        RunLoad::Poisson { rate, .. } => (None, Some(rate)),
    };
    let level = MeasuredLevel {
        concurrency,
        qps,
        requests: completed,
        total_time_s: Some(duration),
        output_throughput_tok_s: output_throughput,
        request_throughput_req_s: Some(request_throughput),
        ttft_ms: ttft,
        e2e_latency_ms: e2e,
        tpot_ms: tpot,
        output_tokens,
        request_output_rate_tok_s: None,
        cold_start: false,
        notes: notes.join("; "),
        ..MeasuredLevel::default()
    };

    let text_field = |key: &str| -> String {
        match obj.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => "–".into(),
            Some(other) => other.to_string(),
        }
    };
    let rate_text = if rate.is_infinite() {
        "inf".to_string()
    } else {
        format!("{rate}")
    };
    let summary = format!(
        "{origin}: date {}, backend {}, model_id {}, num_prompts {}, request_rate {rate_text}, max_concurrency {}, burstiness {}",
        text_field("date"),
        if obj.contains_key("backend") { text_field("backend") } else { text_field("endpoint_type") },
        text_field("model_id"),
        num_prompts.map_or("–".into(), |n| n.to_string()),
        max_concurrency.map_or("none".into(), |n| n.to_string()),
        burstiness.map_or("–".into(), |b| b.to_string()),
    );
    let failed = num_prompts.map_or(0, |n| n.saturating_sub(completed));
    Ok(BenchRun {
        origin: origin.to_string(),
        load,
        num_requests: completed,
        level,
        input,
        output,
        total_input,
        total_output,
        summary,
        burstiness,
        failed,
    })
}

/// Percentile keys stored in [`MetricStats`] (`p50_`, `p95_`, `p99_`).
fn is_stored_percentile(key: &str) -> bool {
    ["p50_", "p95_", "p99_"].iter().any(|p| key.starts_with(p))
}

fn build_report(mut runs: Vec<BenchRun>, ctx: &ImportContext) -> Result<MeasuredReport> {
    // One load kind per report.
    let queue = matches!(runs[0].load, RunLoad::Queue { .. });
    for r in &runs[1..] {
        if matches!(r.load, RunLoad::Queue { .. }) != queue {
            let (a, b) = (&runs[0], r);
            let kind = |r: &BenchRun| match r.load {
                RunLoad::Queue { .. } => "request_rate inf (a max-concurrency queue)".to_string(),
                RunLoad::Poisson { rate, .. } => format!("request_rate {rate} req/s (Poisson arrivals)"),
            };
            return Err(Error::invalid(
                &b.origin,
                "request_rate",
                format!(
                    "{} has {} but {} has {}; a report's levels must share one load kind, so import them as separate reports",
                    a.origin,
                    kind(a),
                    b.origin,
                    kind(b)
                ),
            ));
        }
    }
    match runs[0].load {
        RunLoad::Queue { .. } => runs.sort_by_key(|r| match r.load {
            RunLoad::Queue { concurrency } => concurrency,
            RunLoad::Poisson { .. } => 0,
        }),
        RunLoad::Poisson { .. } => runs.sort_by(|a, b| rate_of(a).total_cmp(&rate_of(b))),
    }
    let single = runs.len() == 1;
    let load = match runs[0].load {
        RunLoad::Queue { .. } => LoadSpec::MaxConcurrency {
            levels: runs
                .iter()
                .map(|r| ConcurrencyLevel {
                    concurrency: r.level.concurrency.unwrap_or(1),
                    num_requests: r.num_requests,
                })
                .collect(),
        },
        RunLoad::Poisson { max_concurrency, .. } => {
            let first = &runs[0];
            for r in &runs[1..] {
                if r.num_requests != first.num_requests {
                    return Err(Error::invalid(
                        &r.origin,
                        "completed",
                        format!(
                            "{} completed {} requests but {} completed {}; Poisson levels of one report send the same number of requests",
                            first.origin, first.num_requests, r.origin, r.num_requests
                        ),
                    ));
                }
                if let RunLoad::Poisson { max_concurrency: m, .. } = r.load {
                    if m != max_concurrency {
                        return Err(Error::invalid(
                            &r.origin,
                            "max_concurrency",
                            format!(
                                "{} has max_concurrency {:?} but {} has {:?}; Poisson levels of one report share one max_concurrency",
                                first.origin, max_concurrency, r.origin, m
                            ),
                        ));
                    }
                }
            }
            LoadSpec::Poisson {
                qps: runs.iter().map(rate_of).collect(),
                num_requests: first.num_requests,
                max_concurrency,
                burstiness: 1.0,
                num_requests_per_level: None,
            }
        }
    };

    let mut assumptions = Vec::new();
    let field = |base: &str, i: usize| {
        if single {
            format!("workload.{base}")
        } else {
            format!("workload.{base}_per_level[{i}]")
        }
    };
    for (i, r) in runs.iter().enumerate() {
        for (base, lengths, total, key) in [
            ("input_len", &r.input, r.total_input, "total_input_tokens"),
            ("output_len", &r.output, r.total_output, "total_output_tokens"),
        ] {
            if let RunLengths::Mean(mean) = lengths {
                let LengthDist::Fixed { tokens } = lengths.dist() else {
                    continue;
                };
                assumptions.push(Assumption {
                    field: field(base, i),
                    value: format!("{tokens} tokens, fixed"),
                    reason: format!(
                        "the file has no per-request {} (vllm bench serve keeps them only with --save-detailed); \
                         {key} {total} ÷ completed {} = {mean:.2} tokens per request, so the total is kept \
                         to rounding but the spread of lengths is lost",
                        if base == "input_len" {
                            "input_lens"
                        } else {
                            "output_lens"
                        },
                        r.num_requests
                    ),
                    source: r.origin.clone(),
                });
            }
        }
        if r.failed > 0 {
            assumptions.push(Assumption {
                field: if single {
                    "workload.load".into()
                } else {
                    format!("workload.load (level {i})")
                },
                value: format!("{} requests", r.num_requests),
                reason: format!(
                    "{} of the run's prompts failed; vllm bench's metrics cover only completed requests, so only those are simulated",
                    r.failed
                ),
                source: r.origin.clone(),
            });
        }
        if let (RunLoad::Poisson { .. }, Some(b)) = (r.load, r.burstiness) {
            if (b - 1.0).abs() > 1e-9 {
                assumptions.push(Assumption {
                    field: "workload.load.kind".into(),
                    value: "poisson".into(),
                    reason: format!(
                        "the run used gamma-distributed gaps with burstiness {b}; servecast draws Poisson arrivals \
                         (burstiness 1), so arrivals are less (or more) bunched than measured"
                    ),
                    source: r.origin.clone(),
                });
            }
        }
    }
    assumptions.push(Assumption {
        field: "workload.prefix_groups".into(),
        value: "0".into(),
        reason: "a result file does not say whether prompts share prefixes (the random dataset's do not); \
                 none is assumed, so the prefix cache never hits"
            .into(),
        source: "vllm bench serve result format".into(),
    });

    let (input_len, output_len, input_per_level, output_per_level) = if single {
        (runs[0].input.dist(), runs[0].output.dist(), None, None)
    } else {
        let pooled = |pick: fn(&BenchRun) -> (&RunLengths, f64)| -> LengthDist {
            let mut all = Vec::new();
            for r in &runs {
                match pick(r).0 {
                    RunLengths::Recorded(v) => all.extend_from_slice(v),
                    RunLengths::Mean(_) => {
                        let total: f64 = runs.iter().map(|r| pick(r).1).sum();
                        let n: f64 = runs.iter().map(|r| f64::from(r.num_requests)).sum();
                        return RunLengths::Mean(total / n).dist();
                    }
                }
            }
            LengthDist::Empirical { values: all }
        };
        let input_len = pooled(|r| (&r.input, r.total_input));
        let output_len = pooled(|r| (&r.output, r.total_output));
        for (base, d) in [("input_len", &input_len), ("output_len", &output_len)] {
            let kind = match d {
                LengthDist::Empirical { .. } => "every run's recorded lengths pooled, drawn with replacement",
                _ => "fixed at the mean over all runs",
            };
            assumptions.push(Assumption {
                field: format!("workload.{base}"),
                value: kind.into(),
                reason: format!(
                    "used only when the levels are changed (e.g. --concurrency), which drops {base}_per_level"
                ),
                source: "the imported runs".into(),
            });
        }
        (
            input_len,
            output_len,
            Some(runs.iter().map(|r| r.input.dist()).collect()),
            Some(runs.iter().map(|r| r.output.dist()).collect()),
        )
    };
    let workload = WorkloadSpec {
        input_len_per_level: input_per_level,
        output_len_per_level: output_per_level,
        ..WorkloadSpec::new(load, input_len, output_len)
    };
    let origins: Vec<String> = runs.iter().map(|r| r.origin.clone()).collect();
    let report = MeasuredReport {
        id: format!("{}-{}-{}-vllm-bench", ctx.gpu, ctx.model, ctx.engine.as_str()),
        provenance: Provenance {
            file: origins.join(", "),
            section: if single {
                "vllm bench serve result".into()
            } else {
                "vllm bench serve results, one level per file".into()
            },
            notes: format!(
                "Imported by servecast::measured::import. {}. GPU, model, engine and flags were given by the importer, \
                 not read from the files. std_* and percentiles other than p50/p95/p99 have no field and are not stored.",
                runs.iter().map(|r| r.summary.as_str()).collect::<Vec<_>>().join("; ")
            ),
            ..Provenance::default()
        },
        gpu: ctx.gpu.clone(),
        model: ctx.model.clone(),
        engine: ctx.engine,
        release: None,
        flags: ctx.flags.clone(),
        unmodelled_flags: Vec::new(),
        logged: Default::default(),
        workload,
        assumptions,
        levels: runs.into_iter().map(|r| r.level).collect(),
        replicas: 1,
        router: crate::engine::cluster::Router::RoundRobin,
        startup: None,
    };
    // Validate exactly as a file in data/measured is validated: write it, read it back.
    let origin = origins.first().cloned().unwrap_or_else(|| "vllm bench import".into());
    let yaml = serde_saphyr::to_string(&report)
        .map_err(|e| Error::invalid(&origin, "report", format!("cannot be written as YAML: {e}")))?;
    MeasuredReport::from_yaml(&yaml, &origin)
}

fn rate_of(r: &BenchRun) -> f64 {
    match r.load {
        RunLoad::Poisson { rate, .. } => rate,
        RunLoad::Queue { .. } => f64::INFINITY,
    }
}

/// `mean_`, `median_` (→ p50), `p50_`, `p95_` and `p99_` `{metric}_ms` keys as [`MetricStats`].
fn ms_stats(obj: &Map<String, Value>, metric: &str, origin: &str) -> Result<Option<MetricStats>> {
    let get = |prefix: &str| -> Result<Option<f64>> {
        Ok(num(obj, &format!("{prefix}_{metric}_ms"), origin)?.filter(|v| v.is_finite()))
    };
    Ok(some_stats(MetricStats {
        mean: get("mean")?,
        p50: get("median")?.or(get("p50")?),
        p95: get("p95")?,
        p99: get("p99")?,
        ..MetricStats::default()
    }))
}

fn stats_of(s: &Summary) -> MetricStats {
    MetricStats {
        min: Some(s.min),
        max: Some(s.max),
        mean: Some(s.mean),
        p50: Some(s.p50),
        p95: Some(s.p95),
        p99: Some(s.p99),
        ..MetricStats::default()
    }
}

fn some_stats(s: MetricStats) -> Option<MetricStats> {
    (s != MetricStats::default()).then_some(s)
}

// ---------------------------------------------------------------------------------------------
// JSON helpers

/// Parses `text` as one JSON object, accepting Python's bare `NaN`, `Infinity` and `-Infinity`.
///
/// Numbers are read with Rust's correctly rounded `str::parse::<f64>` (serde_json's default float
/// parser may be one unit in the last place off), so figures keep the digits the file printed:
/// a first pass checks the syntax with positions intact, a second reads every number as text.
fn parse_object(text: &str, origin: &str) -> Result<Map<String, Value>> {
    let marked = python_json_to_strict(text, false);
    serde_json::from_str::<serde::de::IgnoredAny>(&marked).map_err(|e| Error::from_json(origin, &e))?;
    let quoted = python_json_to_strict(text, true);
    let value: Value = serde_json::from_str(&quoted).map_err(|e| Error::from_json(origin, &e))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(Error::invalid(
            origin,
            "(top level)",
            format!(
                "expected a JSON object of results, got {}",
                match other {
                    Value::Array(_) => "an array",
                    Value::String(_) => "a string",
                    Value::Number(_) => "a number",
                    Value::Bool(_) => "a boolean",
                    _ => "null",
                }
            ),
        )),
    }
}

/// Stand-ins of the same length as Python's non-finite literals, so errors keep their columns.
const NAN_MARK: &str = "\"N\"";
const INF_MARK: &str = "\"Infini\"";
const NEG_INF_MARK: &str = "\"-Infini\"";

/// Rewrites bare `NaN`, `Infinity` and `-Infinity` outside strings into strings of the same
/// length (read back by [`number_value`]); with `quote_numbers`, also wraps every number in
/// quotes so that its digits reach [`number_value`] as written. Strings are left as they are.
fn python_json_to_strict(text: &str, quote_numbers: bool) -> std::borrow::Cow<'_, str> {
    if !(quote_numbers || text.contains("NaN") || text.contains("Infinity")) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else {
            let replaced = [("-Infinity", NEG_INF_MARK), ("Infinity", INF_MARK), ("NaN", NAN_MARK)]
                .into_iter()
                .find(|(word, _)| rest.starts_with(word));
            if let Some((word, mark)) = replaced {
                out.push_str(mark);
                rest = &rest[word.len()..];
                continue;
            }
            if quote_numbers && (c == '-' || c.is_ascii_digit()) {
                let len = rest
                    .find(|ch: char| !(ch.is_ascii_digit() || matches!(ch, '-' | '+' | '.' | 'e' | 'E')))
                    .unwrap_or(rest.len());
                out.push('"');
                out.push_str(&rest[..len]);
                out.push('"');
                rest = &rest[len..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    std::borrow::Cow::Owned(out)
}

/// A JSON number, or one of the strings benchmarks write for non-finite values.
fn number_value(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "inf" | "+inf" | "infinity" | "+infinity" | "infini" => Some(f64::INFINITY),
            "-inf" | "-infinity" | "-infini" => Some(f64::NEG_INFINITY),
            "nan" | "n" => Some(f64::NAN),
            t => t.parse::<f64>().ok(),
        },
        _ => None,
    }
}

fn missing(origin: &str, key: &str) -> Error {
    Error::invalid(
        origin,
        key,
        format!("required key `{key}` is missing from the result file"),
    )
}

/// An optional number (`null` or absent: `None`).
fn num(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<Option<f64>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => number_value(v)
            .map(Some)
            .ok_or_else(|| Error::invalid(origin, key, format!("expected a number, got {v}"))),
    }
}

/// A required number.
fn req_num(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<f64> {
    num(obj, key, origin)?.ok_or_else(|| missing(origin, key))
}

fn positive(v: f64, key: &str, origin: &str) -> Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(Error::invalid(origin, key, format!("must be > 0 seconds, got {v}")))
    }
}

fn whole(v: f64, key: &str, origin: &str) -> Result<u32> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) {
        Ok(v as u32)
    } else {
        Err(Error::invalid(
            origin,
            key,
            format!("expected a whole number in 0..={}, got {v}", u32::MAX),
        ))
    }
}

/// An optional whole number.
fn count(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<Option<u32>> {
    num(obj, key, origin)?.map(|v| whole(v, key, origin)).transpose()
}

/// A required whole number.
fn req_count(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<u32> {
    count(obj, key, origin)?.ok_or_else(|| missing(origin, key))
}

/// An optional nested object.
fn object<'a>(obj: &'a Map<String, Value>, key: &str, origin: &str) -> Result<Option<&'a Map<String, Value>>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(Error::invalid(origin, key, format!("expected an object, got {other}"))),
    }
}

fn array<'a>(obj: &'a Map<String, Value>, key: &str, origin: &str) -> Result<Option<&'a Vec<Value>>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(Error::invalid(
            origin,
            key,
            "expected an array with one entry per request",
        )),
    }
}

fn u32_array(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<Option<Vec<u32>>> {
    array(obj, key, origin)?
        .map(|a| {
            a.iter()
                .enumerate()
                .map(|(i, v)| {
                    let x = number_value(v).ok_or_else(|| {
                        Error::invalid(
                            origin,
                            format!("{key}[{i}]"),
                            format!("expected a token count, got {v}"),
                        )
                    })?;
                    whole(x, &format!("{key}[{i}]"), origin)
                })
                .collect()
        })
        .transpose()
}

fn f64_array(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<Option<Vec<f64>>> {
    array(obj, key, origin)?
        .map(|a| {
            a.iter()
                .enumerate()
                .map(|(i, v)| {
                    number_value(v).ok_or_else(|| {
                        Error::invalid(origin, format!("{key}[{i}]"), format!("expected seconds, got {v}"))
                    })
                })
                .collect()
        })
        .transpose()
}

fn nested_f64_array(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<Option<Vec<Vec<f64>>>> {
    array(obj, key, origin)?
        .map(|a| {
            a.iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Array(inner) => inner
                        .iter()
                        .enumerate()
                        .map(|(j, x)| {
                            number_value(x).ok_or_else(|| {
                                Error::invalid(origin, format!("{key}[{i}][{j}]"), format!("expected seconds, got {x}"))
                            })
                        })
                        .collect(),
                    Value::Null => Ok(Vec::new()),
                    other => Err(Error::invalid(
                        origin,
                        format!("{key}[{i}]"),
                        format!("expected a list of inter-token gaps, got {other}"),
                    )),
                })
                .collect()
        })
        .transpose()
}

/// `errors`: one string per request, empty (or null) when it succeeded.
fn error_array(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<Option<Vec<String>>> {
    array(obj, key, origin)?
        .map(|a| {
            a.iter()
                .map(|v| match v {
                    Value::Null => Ok(String::new()),
                    Value::String(s) => Ok(s.trim().to_string()),
                    other => Ok(other.to_string()),
                })
                .collect()
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_to_ms_keeps_the_printed_digits() {
        assert_eq!(secs_to_ms(0.34381524165471394), 343.81524165471394);
        assert_eq!(secs_to_ms(7.129634637832641), 7129.634637832641);
        assert_eq!(secs_to_ms(0.03840541968647197), 38.40541968647197);
        assert_eq!(secs_to_ms(2.0), 2000.0);
        assert_eq!(secs_to_ms(0.0), 0.0);
        assert!(secs_to_ms(f64::INFINITY).is_infinite());
    }

    #[test]
    fn python_non_finite_literals_keep_columns() {
        let text = r#"{"a": NaN, "b": Infinity, "c": -Infinity, "s": "NaN Infinity"}"#;
        let strict = python_json_to_strict(text, false);
        assert_eq!(strict.len(), text.len());
        let v: Value = serde_json::from_str(&strict).unwrap();
        assert!(number_value(&v["a"]).unwrap().is_nan());
        assert_eq!(number_value(&v["b"]), Some(f64::INFINITY));
        assert_eq!(number_value(&v["c"]), Some(f64::NEG_INFINITY));
        assert_eq!(v["s"], "NaN Infinity");
        let quoted = python_json_to_strict(r#"{"a": [1, -2.5e-3, 15.336662769317627], "b": "7"}"#, true);
        let v: Value = serde_json::from_str(&quoted).unwrap();
        assert_eq!(number_value(&v["a"][2]), Some(15.336662769317627));
        assert_eq!(number_value(&v["a"][1]), Some(-2.5e-3));
        assert_eq!(v["b"], "7");
    }
}
