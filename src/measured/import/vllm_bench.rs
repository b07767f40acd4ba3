//! `vllm bench serve --save-result` and `benchmarks/benchmark_serving.py --save-result` JSON, of
//! every release from 0.4 to today: one object per run, or one per line with `--append-result`.
//!
//! Keys read: `completed`, `duration` (s), `total_input_tokens`, `total_output_tokens`,
//! `request_rate` (a number, or `"inf"` / `Infinity`), `max_concurrency`, `num_prompts`,
//! `burstiness`, `model_id`, `date`, `backend` / `endpoint_type`; the summary figures
//! `{mean,median,p50,p95,p99}_{ttft,tpot,itl,e2el}_ms`, `request_throughput`,
//! `output_throughput`; and, per request (with `--save-detailed` since `vllm bench`; always in
//! `benchmark_serving.py`), `input_lens`, `output_lens`, `ttfts`, `itls`, `errors`, `start_times`.
//! Schemas read from vLLM's `benchmarks/benchmark_serving.py` (v0.4.x–v0.9.x) and
//! `vllm/benchmarks/serve.py` (v0.10+).

use serde_json::Value;

use super::json::{
    count, error_array, f64_array, missing, ms_stats, nested_f64_array, num, number_value, parse_object, positive,
    req_count, req_num, secs_to_ms, stats_of, u32_array,
};
use super::{build_report, ImportContext, ImportedRun, Importer, RequestRecord, RunLengths, RunLoad, Source};
use crate::error::{Error, Result};
use crate::measured::{Assumption, MeasuredLevel, MeasuredReport, MetricStats};
use crate::metrics::Summary;
use crate::workload::arrivals::Endpoint;

/// The `vllm bench serve` / `benchmark_serving.py` result format.
pub struct VllmBench;

impl Importer for VllmBench {
    fn name(&self) -> &'static str {
        "vllm bench serve / benchmark_serving.py result JSON"
    }

    fn detect(&self, _origin: &str, text: &str) -> bool {
        let head = text.trim_start();
        head.starts_with('{')
            && text.contains("\"completed\"")
            && text.contains("\"request_rate\"")
            && (text.contains("\"total_input_tokens\"") || text.contains("\"duration\""))
            && !text.contains("\"backend\": \"sglang")
            && !text.contains("\"sglang")
            && !text.contains("\"benchmarks\"")
            && !text.contains("\"request_start_ns\"")
            && !text.contains("\"mean_e2e_latency_ms\"")
            && !text.contains("\"median_e2e_latency_ms\"")
            && !text.contains("\"total_output_tokens_retokenized\"")
            && !text.contains("\"total_output_retokenized\"")
    }

    fn import(&self, source: &Source<'_>) -> Result<Vec<ImportedRun>> {
        super::json::runs_per_object(source.text, source.origin, parse_bench_run)
    }
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
    let runs = VllmBench.import(&Source::alone(origin, text))?;
    build_report(runs, ctx)
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
    let mut runs = Vec::new();
    for (origin, text) in files {
        runs.extend(VllmBench.import(&Source::alone(origin, text))?);
    }
    build_report(runs, ctx)
}

/// One result object (one run) → an [`ImportedRun`].
fn parse_bench_run(text: &str, origin: &str) -> Result<ImportedRun> {
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
    super::json::duration_fits(
        duration,
        (total_input + total_output).max(f64::from(completed)),
        "duration",
        origin,
    )?;
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
    if let Some(b) = burstiness {
        if !(b.is_finite() && b > 0.0) {
            return Err(Error::invalid(origin, "burstiness", format!("must be > 0, got {b}")));
        }
    }
    let load = if rate.is_infinite() {
        RunLoad::Queue {
            concurrency: max_concurrency.or(num_prompts).unwrap_or(completed).max(1),
        }
    } else {
        RunLoad::Poisson {
            rate,
            max_concurrency,
            burstiness: burstiness.unwrap_or(1.0),
        }
    };

    // Per-request arrays (vllm bench serve keeps them only with --save-detailed).
    let input_lens = u32_array(&obj, "input_lens", origin)?;
    let output_lens = u32_array(&obj, "output_lens", origin)?;
    let ttfts = f64_array(&obj, "ttfts", origin)?;
    let itls = nested_f64_array(&obj, "itls", origin)?;
    for (key, lens) in [("input_lens", &input_lens), ("output_lens", &output_lens)] {
        if let Some(i) = lens.iter().flatten().position(|&n| n > super::json::MAX_REQUEST_TOKENS) {
            return Err(Error::invalid(
                origin,
                format!("{key}[{i}]"),
                format!(
                    "{} tokens is more than any served model's context (at most {} per request)",
                    lens.as_ref().map_or(0, |l| l[i]),
                    super::json::MAX_REQUEST_TOKENS
                ),
            ));
        }
    }
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
    // Which requests succeeded. The client's `errors` entry is empty for a success; a failure
    // usually carries a traceback or an HTTP reason, but an HTTP error with no reason phrase also
    // writes "". Clients up to vLLM 0.6 counted output tokens by re-tokenising the generated text,
    // so a success that generated only end-of-sequence reads 0 tokens yet counts as completed;
    // newer clients write 0 for failures. The rule that reproduces `completed` is the client's.
    let len = first.map(|(len, _)| len);
    let no_error = |i: usize| errors.as_ref().is_none_or(|e| e[i].is_empty());
    let produced = |i: usize| output_lens.as_ref().is_none_or(|o| o[i] > 0);
    let mut zero_token_successes = 0u32;
    let ok: Option<Vec<bool>> = match len {
        None => None,
        Some(len) => {
            let by_error: Vec<bool> = (0..len).map(no_error).collect();
            let by_both: Vec<bool> = (0..len).map(|i| no_error(i) && produced(i)).collect();
            let count = |v: &[bool]| v.iter().filter(|&&b| b).count();
            if errors.is_some() && count(&by_error) == completed as usize {
                zero_token_successes = (0..len).filter(|&i| by_error[i] && !produced(i)).count() as u32;
                Some(by_error)
            } else if count(&by_both) == completed as usize {
                Some(by_both)
            } else {
                return Err(Error::invalid(
                    origin,
                    "completed",
                    format!(
                        "is {completed} but the per-request arrays hold {} requests without an error ({} of them with                          ≥ 1 output token); the file's counts disagree with its arrays",
                        count(&by_error),
                        count(&by_both)
                    ),
                ));
            }
        }
    };
    let kept = |values: &[u32]| -> Vec<u32> {
        values
            .iter()
            .zip(ok.iter().flatten())
            .filter(|(_, &k)| k)
            .map(|(&v, _)| v)
            .collect()
    };
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
    // A successful request's times are finite and ≥ 0 s (a failed one's are the client's zeros).
    let success = |i: usize| ok.as_ref().is_none_or(|k| k[i]);
    if let Some(t) = &ttfts {
        if let Some(i) = (0..t.len()).find(|&i| success(i) && !(t[i].is_finite() && t[i] >= 0.0)) {
            return Err(Error::invalid(
                origin,
                format!("ttfts[{i}]"),
                format!(
                    "{} s is not a time to first token of a successful request (finite, ≥ 0)",
                    t[i]
                ),
            ));
        }
    }
    if let Some(g) = &itls {
        for (i, gaps) in g.iter().enumerate().filter(|(i, _)| success(*i)) {
            if let Some(j) = gaps.iter().position(|x| !(x.is_finite() && *x >= 0.0)) {
                return Err(Error::invalid(
                    origin,
                    format!("itls[{i}][{j}]"),
                    format!("{} s is not an inter-token gap (finite, ≥ 0)", gaps[j]),
                ));
            }
        }
    }
    let n_requests = ttfts
        .as_ref()
        .map(Vec::len)
        .or(itls.as_ref().map(Vec::len))
        .unwrap_or(0);
    for i in (0..n_requests).filter(|&i| success(i)) {
        let first = ttfts.as_ref().map_or(0.0, |t| t[i]);
        let gaps = itls.as_ref().map_or(&[][..], |g| g[i].as_slice());
        let field = if itls.is_some() {
            format!("itls[{i}]")
        } else {
            format!("ttfts[{i}]")
        };
        super::json::request_time_ok(first, gaps, &field, origin)?;
    }
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
    let (concurrency, qps) = load.level_key();
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
    let start_times = f64_array(&obj, "start_times", origin)?;
    if let Some(i) = start_times.iter().flatten().position(|s| !s.is_finite()) {
        return Err(Error::invalid(
            origin,
            format!("start_times[{i}]"),
            "must be a finite send time in seconds",
        ));
    }
    let requests: Vec<RequestRecord> = match len {
        None => Vec::new(),
        Some(len) => (0..len)
            .map(|i| {
                let success = ok.as_ref().is_none_or(|k| k[i]);
                let arrays = super::BenchArrays {
                    input_lens: input_lens.as_deref(),
                    output_lens: output_lens.as_deref(),
                    ttfts: ttfts.as_deref(),
                    itls: itls.as_deref(),
                    errors: errors.as_deref(),
                };
                arrays.record(i, success, start_times.as_ref().and_then(|s| s.get(i).copied()))
            })
            .collect(),
    };
    let mut assumptions = Vec::new();
    if zero_token_successes > 0 {
        assumptions.push(Assumption {
            field: "workload.output_len".into(),
            value: format!("{zero_token_successes} requests of 1 token"),
            reason: format!(
                "{zero_token_successes} successful requests recorded 0 output tokens: this client counted tokens by                  re-tokenising the generated text, so a request that generated only end-of-sequence reads 0; the                  server generated at least that one token, so each is simulated as 1"
            ),
            source: origin.to_string(),
        });
    }
    let model_id = match obj.get("model_id") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    // `--backend openai-chat` (`--endpoint-type` in some releases) sends chat requests.
    let endpoint = match (obj.get("backend"), obj.get("endpoint_type")) {
        (Some(Value::String(b)), _) | (None, Some(Value::String(b))) if b.contains("chat") => Endpoint::Chat,
        _ => Endpoint::Completions,
    };
    let format = if obj.contains_key("endpoint_type") || obj.contains_key("start_times") {
        "vllm bench serve result".to_string()
    } else {
        "benchmark_serving.py result".to_string()
    };
    Ok(ImportedRun {
        origin: origin.to_string(),
        format,
        model_id,
        load,
        num_requests: completed,
        level,
        input,
        output,
        total_input,
        total_output,
        requests,
        failed,
        summary,
        lengths_hint: "vllm bench serve keeps them only with --save-detailed; benchmark_serving.py always does".into(),
        endpoint,
        assumptions,
    })
}

/// Percentile keys stored in [`MetricStats`] (`p50_`, `p95_`, `p99_`).
fn is_stored_percentile(key: &str) -> bool {
    ["p50_", "p95_", "p99_"].iter().any(|p| key.starts_with(p))
}
