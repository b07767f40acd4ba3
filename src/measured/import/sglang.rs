//! SGLang `bench_serving` JSONL: `python -m sglang.bench_serving --output-file F.jsonl` appends
//! one JSON object per run (one line each), with the per-request arrays only under
//! `--output-details`.
//!
//! Versions read (schemas from `python/sglang/bench_serving.py` in sgl-project/sglang):
//!
//! - **short line** (2024, v0.2–v0.3): `backend`, `dataset_name`, `request_rate`,
//!   `total_input_tokens`, `total_output_tokens`, `total_output_tokens_retokenized`,
//!   `mean_e2e_latency_ms`, `median_e2e_latency_ms`, `median_ttft_ms`, `median_itl_ms`,
//!   `output_throughput`, `sharegpt_output_len`, `random_{input,output}_len`,
//!   `random_range_ratio`, `duration` (s), `completed`; no per-request arrays in the file.
//! - **full line** (v0.4 on): adds `max_concurrency`, `request_throughput`, `input_throughput`,
//!   `{mean,median,std,p99}_{ttft,tpot,e2e_latency}_ms`, `{mean,median,std,p95,p99}_itl_ms`,
//!   `concurrency` (mean requests in flight, Σ latency ÷ duration: an outcome, not the load),
//!   `accept_length`; with `--output-details`, `input_lens`, `output_lens`, `ttfts` (s), `itls`
//!   (s), `generated_texts`, `errors` at the top level. Later lines add `tag`, `server_info`,
//!   `total_throughput`, `total_input_{text,vision}_tokens`, `max_output_tokens_per_s`,
//!   `max_concurrent_requests`, and `request_rate` may be `"trace"` (mooncake timestamps).
//! - **metrics dump** (`python/sglang/benchmark/metrics.py`): the metrics dataclass written as
//!   is, so the totals are `total_input` / `total_output` / `total_output_retokenized` /
//!   `total_throughput`, and the per-request arrays sit under `details`.
//!
//! `request_rate` is Python's `float("inf")` by default, written `Infinity`. Latencies in the
//! file are ms except `duration`, `ttfts` and `itls` (s). Every figure of the line covers the
//! successful requests only; failed requests are visible only in the per-request arrays.

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::json::{
    error_array, f64_array, nested_f64_array, number_value, parse_object, secs_to_ms, stats_of, u32_array,
};
use super::{ImportedRun, Importer, RequestRecord, RunLengths, RunLoad, Source};
use crate::error::{Error, Result};
use crate::measured::{Assumption, MeasuredLevel, MetricStats};
use crate::metrics::Summary;

/// The SGLang `bench_serving` JSONL format.
pub struct SglangBench;

impl Importer for SglangBench {
    fn name(&self) -> &'static str {
        "SGLang bench_serving JSONL"
    }

    /// An object whose keys are SGLang's: its own E2E name (`*_e2e_latency_ms`; vLLM's is
    /// `*_e2el_ms`) or its re-tokenised output total, beside `completed`.
    fn detect(&self, _origin: &str, text: &str) -> bool {
        text.trim_start().starts_with('{')
            && text.contains("\"completed\"")
            && (text.contains("\"total_output_tokens_retokenized\"")
                || text.contains("\"total_output_retokenized\"")
                || text.contains("\"median_e2e_latency_ms\"")
                || text.contains("\"mean_e2e_latency_ms\""))
    }

    fn import(&self, source: &Source<'_>) -> Result<Vec<ImportedRun>> {
        super::json::runs_per_object(source.text, source.origin, parse_line)
    }
}

// ---------------------------------------------------------------------------------------------
// Typed reading shared with the llmperf importer.

/// A number as the importers' JSON reader hands it over: a JSON number, or the digits as text
/// (numbers are quoted to keep their printed digits), or Python's `NaN` / `Infinity`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Num(pub(super) f64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Num, E> {
                Ok(Num(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Num, E> {
                number_value(&Value::String(v.to_string()))
                    .map(Num)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// `value` as `T`; on failure, the error names the first key whose value alone does not fit
/// (every field of `T` is optional, so a one-key object isolates the culprit).
pub(super) fn typed<T: DeserializeOwned>(obj: &Map<String, Value>, origin: &str, prefix: &str) -> Result<T> {
    let whole = Value::Object(obj.clone());
    T::deserialize(&whole).map_err(|e| {
        for (k, v) in obj {
            let mut one = Map::new();
            one.insert(k.clone(), v.clone());
            if let Err(e1) = T::deserialize(&Value::Object(one)) {
                let shown = match v {
                    Value::String(s) => format!("\"{s}\""),
                    other => other.to_string(),
                };
                return Error::invalid(origin, format!("{prefix}{k}"), format!("{e1} (got {shown})"));
            }
        }
        Error::invalid(
            origin,
            if prefix.is_empty() { "(top level)" } else { prefix },
            e.to_string(),
        )
    })
}

/// A finite value ≥ 0, or an error naming the field (`unit` in the message).
pub(super) fn non_negative(v: f64, field: &str, unit: &str, origin: &str) -> Result<f64> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(Error::invalid(
            origin,
            field,
            format!("must be a finite value ≥ 0 {unit}, got {v}"),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// One line.

/// The scalar keys of one `bench_serving` line, every version's (absent keys: `None`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SglangLine {
    tag: Option<String>,
    backend: Option<String>,
    dataset_name: Option<String>,
    /// Read by hand: a number, `Infinity`, or `"trace"`.
    request_rate: Option<Value>,
    max_concurrency: Option<Num>,
    sharegpt_output_len: Option<Num>,
    random_input_len: Option<Num>,
    random_output_len: Option<Num>,
    random_range_ratio: Option<Num>,
    server_info: Option<Value>,
    /// Seconds.
    duration: Option<Num>,
    completed: Option<Num>,
    #[serde(alias = "total_input")]
    total_input_tokens: Option<Num>,
    #[serde(alias = "total_output")]
    total_output_tokens: Option<Num>,
    #[serde(alias = "total_output_retokenized")]
    total_output_tokens_retokenized: Option<Num>,
    request_throughput: Option<Num>,
    input_throughput: Option<Num>,
    output_throughput: Option<Num>,
    total_throughput: Option<Num>,
    mean_e2e_latency_ms: Option<Num>,
    median_e2e_latency_ms: Option<Num>,
    std_e2e_latency_ms: Option<Num>,
    p99_e2e_latency_ms: Option<Num>,
    mean_ttft_ms: Option<Num>,
    median_ttft_ms: Option<Num>,
    std_ttft_ms: Option<Num>,
    p99_ttft_ms: Option<Num>,
    mean_tpot_ms: Option<Num>,
    median_tpot_ms: Option<Num>,
    std_tpot_ms: Option<Num>,
    p99_tpot_ms: Option<Num>,
    mean_itl_ms: Option<Num>,
    median_itl_ms: Option<Num>,
    std_itl_ms: Option<Num>,
    p95_itl_ms: Option<Num>,
    p99_itl_ms: Option<Num>,
    max_itl_ms: Option<Num>,
    /// Mean requests in flight over the run (Σ latency ÷ duration).
    concurrency: Option<Num>,
    accept_length: Option<Num>,
    details: Option<Map<String, Value>>,
}

/// The statistics of one `{stat}_{metric}_ms` family, ms; zero figures (what SGLang writes when
/// nothing was measured, e.g. TTFT without streaming) and NaN are left out. Negative: an error.
#[allow(clippy::too_many_arguments)] // One argument per statistic the line may carry.
fn family(
    origin: &str,
    metric: &str,
    mean: Option<Num>,
    p50: Option<Num>,
    std: Option<Num>,
    p95: Option<Num>,
    p99: Option<Num>,
    max: Option<Num>,
) -> Result<Option<MetricStats>> {
    let mut out = MetricStats::default();
    for (stat, v, slot) in [
        ("mean", mean, &mut out.mean),
        ("median", p50, &mut out.p50),
        ("std", std, &mut out.std),
        ("p95", p95, &mut out.p95),
        ("p99", p99, &mut out.p99),
        ("max", max, &mut out.max),
    ] {
        if let Some(Num(v)) = v {
            if v.is_nan() {
                continue;
            }
            *slot = Some(non_negative(v, &format!("{stat}_{metric}_ms"), "ms", origin)?);
        }
    }
    let all_zero = [out.mean, out.p50, out.p95, out.p99, out.max]
        .iter()
        .flatten()
        .all(|&v| v == 0.0);
    Ok((out != MetricStats::default() && !all_zero).then_some(out))
}

/// One line (one run) → an [`ImportedRun`].
fn parse_line(text: &str, origin: &str) -> Result<ImportedRun> {
    let obj = parse_object(text, origin)?;
    let line: SglangLine = typed(&obj, origin, "")?;
    let need = |v: Option<Num>, key: &str| v.map(|n| n.0).ok_or_else(|| super::json::missing(origin, key));
    let completed_f = need(line.completed, "completed")?;
    let completed = super::json::whole(completed_f, "completed", origin)?;
    if completed == 0 {
        return Err(Error::invalid(
            origin,
            "completed",
            "no request completed; a run without completed requests measures nothing (allowed: ≥ 1)",
        ));
    }
    let duration = need(line.duration, "duration")?;
    if !(duration.is_finite() && duration > 0.0) {
        return Err(Error::invalid(
            origin,
            "duration",
            format!("must be > 0 seconds, got {duration}"),
        ));
    }
    let total_input_key = if obj.contains_key("total_input") {
        "total_input"
    } else {
        "total_input_tokens"
    };
    let total_output_key = if obj.contains_key("total_output") {
        "total_output"
    } else {
        "total_output_tokens"
    };
    let total_input = non_negative(
        need(line.total_input_tokens, total_input_key)?,
        total_input_key,
        "tokens",
        origin,
    )?;
    let total_output = non_negative(
        need(line.total_output_tokens, total_output_key)?,
        total_output_key,
        "tokens",
        origin,
    )?;
    // Per-second figures are computed from the duration: one too short for the run overflows them.
    let work = (total_input + total_output).max(f64::from(completed));
    if !(work / duration).is_finite() {
        return Err(Error::invalid(
            origin,
            "duration",
            format!(
                "{duration} s for {completed} requests and {work} tokens is no measured run (its throughput overflows)"
            ),
        ));
    }

    // Load.
    let rate =
        match &line.request_rate {
            None | Some(Value::Null) => return Err(super::json::missing(origin, "request_rate")),
            Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("trace") => return Err(Error::invalid(
                origin,
                "request_rate",
                "is \"trace\": requests were sent at a trace's timestamps (--use-trace-timestamps), which the file \
                 does not record; allowed: a rate > 0 req/s or inf",
            )),
            Some(v) => number_value(v).ok_or_else(|| {
                Error::invalid(
                    origin,
                    "request_rate",
                    format!("expected a rate in req/s or Infinity, got {v}"),
                )
            })?,
        };
    if rate.is_nan() || rate <= 0.0 {
        return Err(Error::invalid(
            origin,
            "request_rate",
            format!("must be > 0 req/s or inf, got {rate}"),
        ));
    }
    let max_concurrency = match line.max_concurrency {
        None => None,
        Some(Num(v)) => Some(super::json::whole(v, "max_concurrency", origin)?).filter(|&c| c > 0),
    };

    // Per-request arrays: flat (v0.4 on) or under `details` (metrics dump).
    let (arrays, prefix) = match &line.details {
        Some(d) => (d, "details."),
        None => (&obj, ""),
    };
    let named = |k: &str| format!("{prefix}{k}");
    let at = |e: Error| -> Error {
        match e {
            Error::InvalidField { origin, field, message } if !prefix.is_empty() => Error::InvalidField {
                origin,
                field: format!("{prefix}{field}"),
                message,
            },
            other => other,
        }
    };
    let input_lens = u32_array(arrays, "input_lens", origin).map_err(at)?;
    let output_lens = u32_array(arrays, "output_lens", origin).map_err(at)?;
    let ttfts = f64_array(arrays, "ttfts", origin).map_err(at)?;
    let itls = nested_f64_array(arrays, "itls", origin).map_err(at)?;
    let errors = error_array(arrays, "errors", origin).map_err(at)?;
    let mut len: Option<(usize, &str)> = None;
    for (n, name) in [
        (input_lens.as_ref().map(Vec::len), "input_lens"),
        (output_lens.as_ref().map(Vec::len), "output_lens"),
        (ttfts.as_ref().map(Vec::len), "ttfts"),
        (itls.as_ref().map(Vec::len), "itls"),
        (errors.as_ref().map(Vec::len), "errors"),
    ] {
        if let Some(n) = n {
            match len {
                None => len = Some((n, name)),
                Some((l0, n0)) if l0 != n => {
                    return Err(Error::invalid(
                        origin,
                        named(name),
                        format!("has {n} entries but {n0} has {l0}; per-request arrays have one entry per request"),
                    ))
                }
                Some(_) => {}
            }
        }
    }
    for (i, t) in ttfts.iter().flatten().enumerate() {
        non_negative(*t, &named(&format!("ttfts[{i}]")), "s", origin)?;
    }
    for (i, gaps) in itls.iter().flatten().enumerate() {
        for (j, g) in gaps.iter().enumerate() {
            non_negative(*g, &named(&format!("itls[{i}][{j}]")), "s", origin)?;
        }
    }
    let n_requests = ttfts
        .as_ref()
        .map(Vec::len)
        .or(itls.as_ref().map(Vec::len))
        .unwrap_or(0);
    for i in 0..n_requests {
        let first = ttfts.as_ref().map_or(0.0, |t| t[i]);
        let gaps = itls.as_ref().map_or(&[][..], |g| g[i].as_slice());
        let field = if itls.is_some() {
            format!("itls[{i}]")
        } else {
            format!("ttfts[{i}]")
        };
        super::json::request_time_ok(first, gaps, &named(&field), origin)?;
    }
    let sent = len.map(|(n, _)| n);
    // Which requests succeeded: the client writes "" in `errors` for a success and a traceback or
    // the HTTP reason for a failure, and 0 output tokens and 0 TTFT for a failure; an HTTP error
    // without a reason phrase also writes "", so the rule that reproduces `completed` is kept.
    let ok: Option<Vec<bool>> = match sent {
        None => None,
        Some(n) => {
            let no_error = |i: usize| errors.as_ref().is_none_or(|e| e[i].is_empty());
            let produced = |i: usize| output_lens.as_ref().is_none_or(|o| o[i] > 0);
            let timed = |i: usize| ttfts.as_ref().is_none_or(|t| t[i] > 0.0);
            let rules: [&dyn Fn(usize) -> bool; 3] = [&no_error, &|i| no_error(i) && produced(i), &|i| {
                no_error(i) && produced(i) && timed(i)
            }];
            let found = rules.iter().find_map(|rule| {
                let v: Vec<bool> = (0..n).map(rule).collect();
                (v.iter().filter(|&&b| b).count() == completed as usize).then_some(v)
            });
            match found {
                Some(v) => Some(v),
                None => {
                    return Err(Error::invalid(
                        origin,
                        "completed",
                        format!(
                            "is {completed} but the per-request arrays hold {n} requests of which {} have no error; \
                             the line's counts disagree with its arrays",
                            (0..n).filter(|&i| no_error(i)).count()
                        ),
                    ))
                }
            }
        }
    };
    let failed = sent.map_or(0, |n| (n as u32).saturating_sub(completed));
    let kept_u32 = |v: &[u32]| -> Vec<u32> {
        v.iter()
            .zip(ok.iter().flatten())
            .filter(|(_, &k)| k)
            .map(|(&x, _)| x)
            .collect()
    };
    let mut notes = vec![format!("SGLang bench_serving line {origin}")];
    let input = match &input_lens {
        Some(v) => {
            let k = kept_u32(v);
            if let Some(i) = k.iter().position(|&x| x == 0) {
                return Err(Error::invalid(
                    origin,
                    named("input_lens"),
                    format!("successful request {i} has a 0-token prompt (allowed: ≥ 1 token)"),
                ));
            }
            let sum: u64 = k.iter().map(|&x| u64::from(x)).sum();
            if sum as f64 != total_input {
                notes.push(format!(
                    "{total_input_key} {total_input} differs from the successful requests' input_lens sum {sum}"
                ));
            }
            RunLengths::Recorded(k)
        }
        None => RunLengths::Mean(total_input / f64::from(completed)),
    };
    let output = match &output_lens {
        Some(v) => RunLengths::Recorded(kept_u32(v)),
        None => RunLengths::Mean(total_output / f64::from(completed)),
    };
    for (lengths, key, what) in [
        (&input, total_input_key, "prompts"),
        (&output, total_output_key, "outputs"),
    ] {
        if let RunLengths::Mean(m) = lengths {
            if *m < 0.5 {
                return Err(Error::invalid(
                    origin,
                    key,
                    format!("averages {m} tokens per completed request; cannot model the {what} (allowed: ≥ 0.5)"),
                ));
            }
        }
    }

    // Figures.
    let mut ttft = family(
        origin,
        "ttft",
        line.mean_ttft_ms,
        line.median_ttft_ms,
        line.std_ttft_ms,
        None,
        line.p99_ttft_ms,
        None,
    )?;
    let ok_ttfts: Vec<f64> = match (&ttfts, &ok) {
        (Some(t), Some(k)) => t
            .iter()
            .zip(k)
            .filter(|(_, &k)| k)
            .map(|(&s, _)| secs_to_ms(s))
            .collect(),
        _ => Vec::new(),
    };
    if let Some(s) = Summary::from_values(&mut ok_ttfts.clone()).filter(|s| s.max > 0.0) {
        ttft = Some(MetricStats {
            min: Some(s.min),
            max: Some(s.max),
            ..ttft.unwrap_or_else(|| stats_of(&s))
        });
        notes.push("TTFT min and max from the per-request ttfts".into());
    }
    if ttft.is_none() {
        notes.push("no TTFT: the line's TTFT figures are absent or 0 (a backend without streaming)".into());
    }
    let tpot = family(
        origin,
        "tpot",
        line.mean_tpot_ms,
        line.median_tpot_ms,
        line.std_tpot_ms,
        None,
        line.p99_tpot_ms,
        None,
    )?;
    let itl = family(
        origin,
        "itl",
        line.mean_itl_ms,
        line.median_itl_ms,
        line.std_itl_ms,
        line.p95_itl_ms,
        line.p99_itl_ms,
        line.max_itl_ms,
    )?;
    let e2e = family(
        origin,
        "e2e_latency",
        line.mean_e2e_latency_ms,
        line.median_e2e_latency_ms,
        line.std_e2e_latency_ms,
        None,
        line.p99_e2e_latency_ms,
        None,
    )?;
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
    let positive = |v: Option<Num>| v.map(|n| n.0).filter(|v| v.is_finite() && *v > 0.0);
    let request_throughput = positive(line.request_throughput).unwrap_or(f64::from(completed) / duration);
    let output_throughput =
        positive(line.output_throughput).or_else(|| (total_output > 0.0).then(|| total_output / duration));
    let total_throughput = positive(line.total_throughput)
        .or_else(|| (total_input + total_output > 0.0).then(|| (total_input + total_output) / duration));
    if let Some(Num(c)) = line.concurrency.filter(|c| c.0.is_finite()) {
        notes.push(format!(
            "mean requests in flight (SGLang's `concurrency`, Σ latency ÷ duration) {c:.3}"
        ));
    }
    if let Some(Num(r)) = line.total_output_tokens_retokenized.filter(|r| r.0.is_finite()) {
        notes.push(format!("generated tokens re-tokenised by the client: {r}"));
    }
    if let Some(Num(a)) = line.accept_length.filter(|a| a.0.is_finite()) {
        notes.push(format!("speculative decoding accept length {a}"));
    }
    let whole_tokens = |v: f64| (v.fract() == 0.0 && v <= u64::MAX as f64).then_some(v as u64);
    let load = if rate.is_infinite() {
        RunLoad::Queue {
            concurrency: max_concurrency.or(sent.map(|n| n as u32)).unwrap_or(completed).max(1),
        }
    } else {
        RunLoad::Poisson {
            rate,
            max_concurrency,
            burstiness: 1.0,
        }
    };
    let (concurrency, qps) = load.level_key();
    let level = MeasuredLevel {
        concurrency,
        qps,
        requests: completed + failed,
        successful_requests: Some(completed),
        total_input_tokens: whole_tokens(total_input),
        total_output_tokens: whole_tokens(total_output),
        total_time_s: Some(duration),
        output_throughput_tok_s: output_throughput,
        request_throughput_req_s: Some(request_throughput),
        total_token_throughput_tok_s: total_throughput,
        ttft_ms: ttft,
        e2e_latency_ms: e2e,
        tpot_ms: tpot,
        itl_ms: itl,
        output_tokens,
        notes: notes.join("; "),
        ..MeasuredLevel::default()
    };

    // Per-request records.
    let requests: Vec<RequestRecord> = match (sent, &ok) {
        (Some(n), Some(ok)) => (0..n)
            .map(|i| {
                let arrays = super::BenchArrays {
                    input_lens: input_lens.as_deref(),
                    output_lens: output_lens.as_deref(),
                    ttfts: ttfts.as_deref(),
                    itls: itls.as_deref(),
                    errors: errors.as_deref(),
                };
                arrays.record(i, ok[i], None)
            })
            .collect(),
        _ => Vec::new(),
    };

    let mut assumptions = Vec::new();
    if rate.is_infinite() && max_concurrency.is_none() && sent.is_none() {
        assumptions.push(Assumption {
            field: "workload.load".into(),
            value: format!("{completed} requests at once"),
            reason: "request_rate inf without max_concurrency sends every prompt at once; the line does not record \
                     how many were sent (num_prompts) nor how many failed, so the completed count is taken"
                .into(),
            source: origin.to_string(),
        });
    }
    let model_id = line.server_info.as_ref().and_then(|s| {
        ["served_model_name", "model_path"].iter().find_map(|k| {
            s.get(*k)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        })
    });
    let show = |v: Option<Num>| v.map_or("–".to_string(), |n| n.0.to_string());
    let summary = format!(
        "{origin}: SGLang bench_serving, backend {}, dataset {}, request_rate {}, max_concurrency {}, random_input_len {}, \
         random_output_len {}, random_range_ratio {}, sharegpt_output_len {}{}",
        line.backend.as_deref().unwrap_or("–"),
        line.dataset_name.as_deref().unwrap_or("–"),
        if rate.is_infinite() { "inf".to_string() } else { rate.to_string() },
        max_concurrency.map_or("none".into(), |c| c.to_string()),
        show(line.random_input_len),
        show(line.random_output_len),
        show(line.random_range_ratio),
        show(line.sharegpt_output_len),
        line.tag.as_deref().map_or(String::new(), |t| format!(", tag {t}")),
    );
    let version = if line.details.is_some() || obj.contains_key("total_input") {
        "metrics dump"
    } else if obj.contains_key("mean_ttft_ms") {
        "full line"
    } else {
        "short line"
    };
    Ok(ImportedRun {
        origin: origin.to_string(),
        format: format!("SGLang bench_serving JSONL ({version})"),
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
        lengths_hint: "SGLang bench_serving writes per-request lengths only with --output-details".into(),
        assumptions,
        endpoint: crate::workload::arrivals::Endpoint::Completions,
    })
}
