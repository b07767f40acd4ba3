//! ray-project llmperf `token_benchmark_ray.py` results: `{name}_summary.json` and
//! `{name}_individual_responses.json`, written side by side in `--results-dir`.
//!
//! The summary is `LLMPerfResults.to_dict()`: the run's metadata (`model`, `mean_input_tokens`,
//! `stddev_input_tokens`, `mean_output_tokens`, `stddev_output_tokens`,
//! `num_concurrent_requests`, `timestamp`, `version`, `name`) and its `results`, flattened with
//! `_`: `results_{metric}_{mean,min,max,stddev}` and `results_{metric}_quantiles_p{25,50,75,90,95,99}`
//! for `ttft_s`, `end_to_end_latency_s`, `inter_token_latency_s` (s),
//! `request_output_throughput_token_per_s`, `number_input_tokens`, `number_output_tokens`, plus
//! `results_num_requests_started`, `results_number_errors`, `results_error_rate`,
//! `results_mean_output_throughput_token_per_s`, `results_num_completed_requests`,
//! `results_num_completed_requests_per_min`. `json.dump(default=str)` writes numpy integers as
//! strings and pandas' NaN as `NaN`; both are read.
//!
//! The individual responses are one object per request sent (failed ones too): `error_code`
//! (null for a success), `error_msg`, `ttft_s`, `end_to_end_latency_s`, `inter_token_latency_s`
//! (a per-request mean of the gaps, the first being the TTFT; a list of gaps in early versions),
//! `request_output_throughput_token_per_s`, `number_input_tokens`, `number_output_tokens`,
//! `number_total_tokens`. Token counts are the client's: the Llama tokenizer
//! (`hf-internal-testing/llama-tokenizer`) over the prompt and the generated text.
//!
//! llmperf's load is `num_concurrent_requests` threads, each sending its next request when the
//! last returns: a queue of that many requests in flight.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::json::{python_json_to_strict, secs_to_ms, stats_of, whole};
use super::sglang::{non_negative, typed, Num};
use super::{ImportedRun, Importer, RequestRecord, RunLengths, RunLoad, Source};
use crate::error::{Error, Result};
use crate::measured::{Assumption, MeasuredLevel, MetricStats};
use crate::metrics::Summary;

/// Unix time of llmperf's commit f1d6bed (2024-12-09 01:52 UTC, "subsequent requests cannot be
/// sent until 'num_concurrent_requests' requests have all finished", PR #59): runs before it sent
/// waves of requests, not a closed loop.
const LLMPERF_CLOSED_LOOP_SINCE_S: f64 = 1_733_709_148.0;

/// The llmperf summary / individual responses format.
pub struct LlmPerf;

const SUMMARY_SUFFIX: &str = "_summary.json";
const RESPONSES_SUFFIX: &str = "_individual_responses.json";

impl Importer for LlmPerf {
    fn name(&self) -> &'static str {
        "llmperf summary / individual responses"
    }

    /// A summary object (`results_*` keys beside `num_concurrent_requests`) or an array of
    /// per-request objects with llmperf's key names.
    fn detect(&self, _origin: &str, text: &str) -> bool {
        let head = text.trim_start();
        let summary = head.starts_with('{')
            && text.contains("\"num_concurrent_requests\"")
            && (text.contains("\"results_num_completed_requests\"") || text.contains("\"results_ttft_s_mean\""));
        let responses = head.starts_with('[')
            && text.contains("\"end_to_end_latency_s\"")
            && text.contains("\"ttft_s\"")
            && text.contains("\"number_input_tokens\"");
        summary || responses
    }

    fn import(&self, source: &Source<'_>) -> Result<Vec<ImportedRun>> {
        let value = parse_value(source.text, source.origin)?;
        let file = file_name(source.origin);
        match value {
            Value::Object(obj) => {
                let summary = read_summary(&obj, source.origin)?;
                let responses = file
                    .strip_suffix(SUMMARY_SUFFIX)
                    .and_then(|stem| (source.sibling)(&format!("{stem}{RESPONSES_SUFFIX}")));
                let responses = match responses {
                    Some((origin, text)) => Some((read_responses(&parse_value(&text, &origin)?, &origin)?, origin)),
                    None => None,
                };
                Ok(vec![build_run(&summary, source.origin, responses)?])
            }
            Value::Array(_) => {
                let records = read_responses(&value, source.origin)?;
                let sibling = file
                    .strip_suffix(RESPONSES_SUFFIX)
                    .map(|stem| format!("{stem}{SUMMARY_SUFFIX}"));
                let Some((summary_origin, text)) = sibling.as_deref().and_then(|name| (source.sibling)(name)) else {
                    return Err(Error::invalid(
                        source.origin,
                        "num_concurrent_requests",
                        format!(
                            "the load is in the run's summary, {}, which was not found beside it; import the \
                             individual responses with their summary in the same directory",
                            sibling.unwrap_or_else(|| format!("<name>{SUMMARY_SUFFIX}"))
                        ),
                    ));
                };
                let obj = match parse_value(&text, &summary_origin)? {
                    Value::Object(o) => o,
                    _ => {
                        return Err(Error::invalid(
                            &summary_origin,
                            "(top level)",
                            "expected llmperf's summary object",
                        ))
                    }
                };
                let summary = read_summary(&obj, &summary_origin)?;
                Ok(vec![build_run(
                    &summary,
                    &summary_origin,
                    Some((records, source.origin.to_string())),
                )?])
            }
            _ => Err(Error::invalid(
                source.origin,
                "(top level)",
                "expected llmperf's summary object or its array of individual responses",
            )),
        }
    }
}

fn file_name(origin: &str) -> &str {
    origin.rsplit(['/', '\\']).next().unwrap_or(origin)
}

/// Parses JSON accepting Python's `NaN` / `Infinity`, numbers kept as printed (quoted).
fn parse_value(text: &str, origin: &str) -> Result<Value> {
    let marked = python_json_to_strict(text, false);
    serde_json::from_str::<serde::de::IgnoredAny>(&marked).map_err(|e| Error::from_json(origin, &e))?;
    let quoted = python_json_to_strict(text, true);
    serde_json::from_str(&quoted).map_err(|e| Error::from_json(origin, &e))
}

// ---------------------------------------------------------------------------------------------
// The summary.

/// The summary's own keys (the metric families are read by [`group`]).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LlmperfSummary {
    version: Option<String>,
    name: Option<String>,
    model: Option<String>,
    mean_input_tokens: Option<Num>,
    stddev_input_tokens: Option<Num>,
    mean_output_tokens: Option<Num>,
    stddev_output_tokens: Option<Num>,
    num_concurrent_requests: Option<Num>,
    timestamp: Option<Num>,
    results_num_requests_started: Option<Num>,
    results_number_errors: Option<Num>,
    results_error_rate: Option<Num>,
    /// Generated tokens of the successful requests ÷ wall time, tokens/s.
    results_mean_output_throughput_token_per_s: Option<Num>,
    results_num_completed_requests: Option<Num>,
    /// Successful requests ÷ wall time × 60.
    results_num_completed_requests_per_min: Option<Num>,
}

/// One metric family of the summary: `results_{metric}_{stat}`, in the metric's unit.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Group {
    mean: Option<Num>,
    min: Option<Num>,
    max: Option<Num>,
    stddev: Option<Num>,
    quantiles_p25: Option<Num>,
    quantiles_p50: Option<Num>,
    quantiles_p75: Option<Num>,
    quantiles_p90: Option<Num>,
    quantiles_p95: Option<Num>,
    quantiles_p99: Option<Num>,
}

struct SummaryFile {
    head: LlmperfSummary,
    concurrency: u32,
    completed: u32,
    ttft: Option<MetricStats>,
    e2e: Option<MetricStats>,
    itl: Option<MetricStats>,
    rate: Option<MetricStats>,
    input: Option<MetricStats>,
    output: Option<MetricStats>,
}

/// A time longer than any load-test request runs, refused naming its key.
fn too_long(x: f64, field: &str, origin: &str) -> Error {
    Error::invalid(
        origin,
        field,
        format!(
            "{x} s is longer than any load-test request runs (at most {} s)",
            super::json::MAX_REQUEST_SECONDS
        ),
    )
}

/// `results_{metric}_*` as [`MetricStats`], scaled by `scale` (1000: s → ms); NaN left out,
/// negative values refused.
fn group(obj: &Map<String, Value>, metric: &str, seconds: bool, origin: &str) -> Result<Option<MetricStats>> {
    let prefix = format!("results_{metric}_");
    let sub: Map<String, Value> = obj
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|s| (s.to_string(), v.clone())))
        .collect();
    let g: Group = typed(&sub, origin, &prefix)?;
    let conv = |v: Option<Num>, stat: &str| -> Result<Option<f64>> {
        match v {
            None => Ok(None),
            Some(Num(x)) if x.is_nan() => Ok(None),
            Some(Num(x)) => {
                let x = non_negative(x, &format!("{prefix}{stat}"), if seconds { "s" } else { "" }, origin)?;
                if seconds && x > super::json::MAX_REQUEST_SECONDS {
                    return Err(too_long(x, &format!("{prefix}{stat}"), origin));
                }
                Ok(Some(if seconds { secs_to_ms(x) } else { x }))
            }
        }
    };
    let s = MetricStats {
        mean: conv(g.mean, "mean")?,
        min: conv(g.min, "min")?,
        max: conv(g.max, "max")?,
        std: conv(g.stddev, "stddev")?,
        p50: conv(g.quantiles_p50, "quantiles_p50")?,
        p90: conv(g.quantiles_p90, "quantiles_p90")?,
        p95: conv(g.quantiles_p95, "quantiles_p95")?,
        p99: conv(g.quantiles_p99, "quantiles_p99")?,
    };
    let _ = (g.quantiles_p25, g.quantiles_p75); // no field for them
    Ok((s != MetricStats::default()).then_some(s))
}

fn read_summary(obj: &Map<String, Value>, origin: &str) -> Result<SummaryFile> {
    let head: LlmperfSummary = typed(obj, origin, "")?;
    let need = |v: Option<Num>, key: &str| v.map(|n| n.0).ok_or_else(|| super::json::missing(origin, key));
    let concurrency = whole(
        need(head.num_concurrent_requests, "num_concurrent_requests")?,
        "num_concurrent_requests",
        origin,
    )?;
    if concurrency == 0 {
        return Err(Error::invalid(origin, "num_concurrent_requests", "must be ≥ 1"));
    }
    let completed = whole(
        need(head.results_num_completed_requests, "results_num_completed_requests")?,
        "results_num_completed_requests",
        origin,
    )?;
    Ok(SummaryFile {
        concurrency,
        completed,
        ttft: group(obj, "ttft_s", true, origin)?,
        e2e: group(obj, "end_to_end_latency_s", true, origin)?,
        itl: group(obj, "inter_token_latency_s", true, origin)?,
        rate: group(obj, "request_output_throughput_token_per_s", false, origin)?,
        input: group(obj, "number_input_tokens", false, origin)?,
        output: group(obj, "number_output_tokens", false, origin)?,
        head,
    })
}

// ---------------------------------------------------------------------------------------------
// The individual responses.

/// `inter_token_latency_s`: a per-request mean (current), or the list of gaps (early versions).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Itl {
    Mean(Num),
    Gaps(Vec<Num>),
}

/// One entry of `{name}_individual_responses.json`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LlmperfResponse {
    error_code: Option<Value>,
    error_msg: Option<String>,
    inter_token_latency_s: Option<Itl>,
    ttft_s: Option<Num>,
    end_to_end_latency_s: Option<Num>,
    request_output_throughput_token_per_s: Option<Num>,
    number_total_tokens: Option<Num>,
    number_output_tokens: Option<Num>,
    number_input_tokens: Option<Num>,
}

/// One request as read: its record, and its mean ITL in s where given.
struct Response {
    record: RequestRecord,
    itl_s: Option<f64>,
}

fn read_responses(value: &Value, origin: &str) -> Result<Vec<Response>> {
    let Value::Array(items) = value else {
        return Err(Error::invalid(
            origin,
            "(top level)",
            "expected the array of individual responses",
        ));
    };
    if items.is_empty() {
        return Err(Error::invalid(
            origin,
            "(top level)",
            "no responses; a run without requests measures nothing",
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("[{i}].");
            let Value::Object(obj) = item else {
                return Err(Error::invalid(origin, format!("[{i}]"), "expected a response object"));
            };
            let r: LlmperfResponse = typed(obj, origin, &at)?;
            let failed = r.error_code.as_ref().is_some_and(|c| !c.is_null());
            let tokens = |v: Option<Num>, key: &str| -> Result<u32> {
                let x = v
                    .map(|n| n.0)
                    .ok_or_else(|| super::json::missing(origin, &format!("{at}{key}")))?;
                whole(x, &format!("{at}{key}"), origin)
            };
            let secs = |v: Option<Num>, key: &str| -> Result<Option<f64>> {
                let field = format!("{at}{key}");
                match v.map(|n| non_negative(n.0, &field, "s", origin)).transpose()? {
                    Some(x) if x > super::json::MAX_REQUEST_SECONDS => Err(too_long(x, &field, origin)),
                    other => Ok(other),
                }
            };
            let ttft = secs(r.ttft_s, "ttft_s")?;
            let e2e = secs(r.end_to_end_latency_s, "end_to_end_latency_s")?;
            let itl_s = match &r.inter_token_latency_s {
                None => None,
                Some(Itl::Mean(n)) => Some(non_negative(n.0, &format!("{at}inter_token_latency_s"), "s", origin)?),
                Some(Itl::Gaps(g)) if g.is_empty() => None,
                Some(Itl::Gaps(g)) => {
                    for (j, x) in g.iter().enumerate() {
                        non_negative(x.0, &format!("{at}inter_token_latency_s[{j}]"), "s", origin)?;
                    }
                    Some(g.iter().map(|x| x.0).sum::<f64>() / g.len() as f64)
                }
            };
            if failed {
                let code = match &r.error_code {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                let msg = r.error_msg.as_deref().unwrap_or("").trim();
                return Ok(Response {
                    record: RequestRecord {
                        input_tokens: r.number_input_tokens.map_or(0, |n| whole(n.0, "", origin).unwrap_or(0)),
                        error: Some(if msg.is_empty() {
                            format!("error code {code}")
                        } else {
                            format!("error code {code}: {}", msg.lines().last().unwrap_or(msg))
                        }),
                        ..RequestRecord::default()
                    },
                    itl_s: None,
                });
            }
            let (Some(ttft), Some(e2e)) = (ttft, e2e) else {
                let key = if ttft.is_none() {
                    "ttft_s"
                } else {
                    "end_to_end_latency_s"
                };
                return Err(super::json::missing(origin, &format!("{at}{key}")));
            };
            // One clock times both from the same send: the latency covers the first token, and
            // a request that generated tokens took some time (1 µs of slack for printed digits).
            let output_tokens = tokens(r.number_output_tokens, "number_output_tokens")?;
            if e2e < ttft - 1e-6 || (output_tokens > 0 && !(f64::from(output_tokens) / e2e).is_finite()) {
                return Err(Error::invalid(
                    origin,
                    format!("{at}end_to_end_latency_s"),
                    format!(
                        "{e2e} s is no latency of a request with a {ttft} s TTFT and {output_tokens} output tokens"
                    ),
                ));
            }
            Ok(Response {
                record: RequestRecord {
                    start_s: None,
                    input_tokens: tokens(r.number_input_tokens, "number_input_tokens")?,
                    output_tokens,
                    ttft_ms: Some(secs_to_ms(ttft)),
                    e2e_ms: Some(secs_to_ms(e2e)),
                    error: None,
                },
                itl_s,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The run.

fn build_run(s: &SummaryFile, summary_origin: &str, responses: Option<(Vec<Response>, String)>) -> Result<ImportedRun> {
    let head = &s.head;
    let per_min = head
        .results_num_completed_requests_per_min
        .map(|n| n.0)
        .filter(|v| v.is_finite() && *v > 0.0);
    let mut notes = Vec::new();
    let total_time_s = per_min.map(|m| f64::from(s.completed) * 60.0 / m);
    if let Some(t) = total_time_s.filter(|t| !t.is_finite()) {
        return Err(Error::invalid(
            summary_origin,
            "results_num_completed_requests_per_min",
            format!(
                "{} requests per minute makes the run last {t} s; no measured run does",
                per_min.unwrap_or_default()
            ),
        ));
    }
    if total_time_s.is_some() {
        notes.push(
            "wall time = results_num_completed_requests × 60 ÷ results_num_completed_requests_per_min (llmperf \
             writes no duration)"
                .to_string(),
        );
    }
    let output_throughput = head
        .results_mean_output_throughput_token_per_s
        .map(|n| n.0)
        .filter(|v| v.is_finite() && *v > 0.0);
    let itl_note = |itl: &MetricStats| {
        format!(
            "llmperf's inter_token_latency_s (per request: the sum of its gaps, the first being the TTFT, ÷ its \
             output tokens; not an inter-token latency, so not stored as one), mean {:.3} ms, p50 {} ms",
            itl.mean.unwrap_or(f64::NAN),
            itl.p50.map_or("–".into(), |v| format!("{v:.3}"))
        )
    };
    let mut assumptions = vec![Assumption {
        field: "workload.input_len / output_len".into(),
        value: "llmperf's token counts".into(),
        reason: "llmperf counts prompt and generated tokens with the Llama tokenizer \
                 (hf-internal-testing/llama-tokenizer), not the served model's; the counts are used as the model's"
            .into(),
        source: summary_origin.to_string(),
    }];
    let format;
    let origin;
    let (input, output, total_input, total_output, requests, failed, level);
    match responses {
        Some((records, resp_origin)) => {
            format = "llmperf individual responses".to_string();
            origin = resp_origin;
            let ok: Vec<&Response> = records.iter().filter(|r| r.record.error.is_none()).collect();
            if ok.len() != s.completed as usize {
                return Err(Error::invalid(
                    summary_origin,
                    "results_num_completed_requests",
                    format!(
                        "is {} but {origin} holds {} responses without an error_code; the two files are not one run",
                        s.completed,
                        ok.len()
                    ),
                ));
            }
            if ok.is_empty() {
                return Err(Error::invalid(
                    &origin,
                    "error_code",
                    "every request failed; nothing was measured",
                ));
            }
            let inputs: Vec<u32> = ok.iter().map(|r| r.record.input_tokens).collect();
            let outputs: Vec<u32> = ok.iter().map(|r| r.record.output_tokens).collect();
            if let Some(i) = inputs.iter().position(|&x| x == 0) {
                return Err(Error::invalid(
                    &origin,
                    "number_input_tokens",
                    format!("successful response {i} has a 0-token prompt (allowed: ≥ 1)"),
                ));
            }
            let summ = |f: &dyn Fn(&Response) -> Option<f64>| {
                let mut v: Vec<f64> = ok.iter().filter_map(|r| f(r)).collect();
                Summary::from_values(&mut v).map(|x| stats_of(&x))
            };
            let ttft = summ(&|r| r.record.ttft_ms);
            let e2e = summ(&|r| r.record.e2e_ms);
            let out_stats = summ(&|r| Some(f64::from(r.record.output_tokens)));
            let rate = summ(&|r| match r.record.e2e_ms {
                Some(e) if e > 0.0 => Some(f64::from(r.record.output_tokens) / (e / 1000.0)),
                _ => None,
            });
            // TPOT as vLLM and SGLang define it: (latency − TTFT) ÷ (tokens − 1), tokens > 1.
            let tpot = summ(&|r| match (r.record.e2e_ms, r.record.ttft_ms) {
                (Some(e), Some(t)) if r.record.output_tokens > 1 => {
                    Some((e - t).max(0.0) / f64::from(r.record.output_tokens - 1))
                }
                _ => None,
            });
            notes.push("TTFT, E2E latency, TPOT ((latency − TTFT) ÷ (tokens − 1)), output tokens and per-request output rate computed from the successful individual responses".into());
            let itl = summ(&|r| r.itl_s.map(secs_to_ms));
            if let Some(itl) = &itl {
                notes.push(itl_note(itl));
            }
            total_input = inputs.iter().map(|&x| f64::from(x)).sum::<f64>();
            total_output = outputs.iter().map(|&x| f64::from(x)).sum::<f64>();
            failed = (records.len() - ok.len()) as u32;
            level = MeasuredLevel {
                total_input_tokens: Some(total_input as u64),
                total_output_tokens: Some(total_output as u64),
                ttft_ms: ttft,
                e2e_latency_ms: e2e,
                tpot_ms: tpot,
                output_tokens: out_stats,
                request_output_rate_tok_s: rate,
                ..MeasuredLevel::default()
            };
            input = RunLengths::Recorded(inputs);
            output = RunLengths::Recorded(outputs);
            requests = records.into_iter().map(|r| r.record).collect();
        }
        None => {
            format = "llmperf summary".to_string();
            origin = summary_origin.to_string();
            if s.completed == 0 {
                return Err(Error::invalid(
                    &origin,
                    "results_num_completed_requests",
                    "no request completed; a run without completed requests measures nothing (allowed: ≥ 1)",
                ));
            }
            let most = f64::from(super::json::MAX_REQUEST_TOKENS);
            let mean_of = |g: &Option<MetricStats>, key: &str| -> Result<f64> {
                g.as_ref()
                    .and_then(|g| g.mean)
                    .filter(|m| (0.5..=most).contains(m))
                    .ok_or_else(|| {
                        Error::invalid(
                            &origin,
                            key,
                            format!(
                                "is missing, under one token or longer than any context; the summary's mean lengths \
                                 are needed (allowed: 0.5..={most})"
                            ),
                        )
                    })
            };
            let mean_in = mean_of(&s.input, "results_number_input_tokens_mean")?;
            let mean_out = mean_of(&s.output, "results_number_output_tokens_mean")?;
            if let Some(itl) = &s.itl {
                notes.push(itl_note(itl));
            }
            total_input = mean_in * f64::from(s.completed);
            total_output = mean_out * f64::from(s.completed);
            let started = head.results_num_requests_started.map(|n| n.0);
            failed = match (head.results_number_errors, started) {
                (Some(Num(e)), _) => whole(e, "results_number_errors", &origin)?,
                (None, Some(st)) => whole(st, "results_num_requests_started", &origin)?.saturating_sub(s.completed),
                _ => 0,
            };
            level = MeasuredLevel {
                ttft_ms: s.ttft,
                e2e_latency_ms: s.e2e,
                output_tokens: s.output,
                request_output_rate_tok_s: s.rate,
                ..MeasuredLevel::default()
            };
            input = RunLengths::Mean(mean_in);
            output = RunLengths::Mean(mean_out);
            requests = Vec::new();
        }
    }
    if output_throughput.is_none() {
        notes.push("no results_mean_output_throughput_token_per_s in the summary".into());
    }
    let completed = s.completed;
    if let Some(t) = total_time_s {
        super::json::duration_fits(
            t,
            total_input + total_output,
            "results_num_completed_requests_per_min",
            summary_origin,
        )?;
    }
    let level = MeasuredLevel {
        concurrency: Some(s.concurrency),
        qps: None,
        requests: completed + failed,
        successful_requests: Some(completed),
        total_time_s,
        output_throughput_tok_s: output_throughput,
        request_throughput_req_s: per_min.map(|m| m / 60.0),
        total_token_throughput_tok_s: total_time_s
            .filter(|_| !requests.is_empty())
            .map(|t| (total_input + total_output) / t),
        notes: {
            notes.insert(0, format!("{format} {origin}"));
            notes.join("; ")
        },
        ..level
    };
    // llmperf before f1d6bed (2024-12-09 UTC, PR #59) collected results every N launches and
    // waited for all N: waves of N requests, the next wave sent when the whole last one ended.
    let waves = head
        .timestamp
        .is_some_and(|t| t.0.is_finite() && t.0 < LLMPERF_CLOSED_LOOP_SINCE_S);
    if waves {
        assumptions.push(Assumption {
            field: "workload.load".into(),
            value: format!("waves of {}", s.concurrency),
            reason: format!(
                "the run's timestamp {} predates llmperf's commit f1d6bed (2024-12-09), before which it sent \
                 waves of num_concurrent_requests requests, each wave when the whole last one had ended (results \
                 collected every N launches, waiting for all N); later runs keep N in flight",
                head.timestamp.map_or(0.0, |t| t.0)
            ),
            source: summary_origin.to_string(),
        });
    }
    if let Some(Num(r)) = head.results_error_rate.filter(|r| r.0.is_finite() && r.0 > 0.0) {
        assumptions.push(Assumption {
            field: "levels.requests".into(),
            value: format!("{} sent, {failed} failed", completed + failed),
            reason: format!("llmperf's error rate is {r}; its figures cover the successful requests only"),
            source: summary_origin.to_string(),
        });
    }
    let show = |v: Option<Num>| v.map_or("–".to_string(), |n| n.0.to_string());
    let summary = format!(
        "{origin}: llmperf {} (results version {}), model {}, num_concurrent_requests {}, mean_input_tokens {} (stddev {}), \
         mean_output_tokens {} (stddev {}), timestamp {}",
        head.name.as_deref().unwrap_or("–"),
        head.version.as_deref().unwrap_or("–"),
        head.model.as_deref().unwrap_or("–"),
        s.concurrency,
        show(head.mean_input_tokens),
        show(head.stddev_input_tokens),
        show(head.mean_output_tokens),
        show(head.stddev_output_tokens),
        show(head.timestamp),
    );
    Ok(ImportedRun {
        origin,
        format,
        model_id: head.model.clone().filter(|m| !m.is_empty()),
        load: if waves {
            RunLoad::Waves {
                concurrency: s.concurrency,
            }
        } else {
            RunLoad::Queue {
                concurrency: s.concurrency,
            }
        },
        num_requests: completed,
        level,
        input,
        output,
        total_input,
        total_output,
        requests,
        failed,
        summary,
        lengths_hint: format!(
            "llmperf writes them to {{name}}{RESPONSES_SUFFIX} beside the summary; keep it in the same directory"
        ),
        assumptions,
        endpoint: crate::workload::arrivals::Endpoint::Completions,
    })
}
