//! The summary JSON of seed 004's load-test script (a hand-written client, not a published tool).

use super::json::{count, num, object, parse_object, positive, req_count, req_num, secs_to_ms, some_stats};
use crate::error::{Error, Result};
use crate::measured::{MeasuredLevel, MetricStats};
use serde_json::Value;

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
        (None, None) => return Err(super::json::missing(origin, "successful_requests")),
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
    let output_throughput = total_output / total_time;
    if !output_throughput.is_finite() {
        return Err(Error::invalid(
            origin,
            "total_time",
            format!("{total_time} s for {total_output} output tokens is no measured run (the throughput overflows)"),
        ));
    }
    let rps = num(&obj, "requests_per_second", origin)?.filter(|v| v.is_finite() && *v > 0.0);
    let seconds_stats = |key: &str| -> Result<Option<MetricStats>> {
        let Some(inner) = object(&obj, key, origin)? else {
            return Ok(None);
        };
        // NaN (a figure the script did not measure) reads as absent; a negative latency, or one
        // too large to be in milliseconds, is no measurement and is refused naming its key.
        let field = |k: &str| -> Result<Option<f64>> {
            match num(inner, k, origin)? {
                None => Ok(None),
                Some(v) if v.is_nan() => Ok(None),
                Some(v) => {
                    let ms = secs_to_ms(v);
                    if v < 0.0 || !ms.is_finite() {
                        return Err(Error::invalid(
                            origin,
                            format!("{key}.{k}"),
                            format!("{v} s is not a latency (must be finite and ≥ 0)"),
                        ));
                    }
                    Ok(Some(ms))
                }
            }
        };
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
        output_throughput_tok_s: Some(output_throughput),
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

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &str = r#"{"concurrency": 100, "successful_requests": 300, "total_time": 15.3,
        "total_output_tokens": 56040, "latency": {"average": 4.7, "p50": 5.4, "p95": 5.6, "p99": 5.7}}"#;

    #[test]
    fn a_total_time_that_overflows_the_throughput_is_refused() {
        // Found by the fuzz harness: total_time 5e-324 s made output_throughput_tok_s infinite.
        let text = BLOCK.replace("15.3", "5e-324");
        let err = level_from_summary_json(&text, "s.json").unwrap_err().to_string();
        assert!(err.contains("s.json") && err.contains("`total_time`"), "{err}");
        assert!(level_from_summary_json(BLOCK, "s.json").is_ok());
    }

    #[test]
    fn a_negative_or_infinite_latency_is_refused_naming_its_key() {
        for bad in ["-1", "Infinity", "1e308"] {
            let text = BLOCK.replace("\"p95\": 5.6", &format!("\"p95\": {bad}"));
            let err = level_from_summary_json(&text, "s.json").unwrap_err().to_string();
            assert!(err.contains("`latency.p95`"), "{bad}: {err}");
        }
        // NaN is a figure the script did not measure: absent, not refused.
        let text = BLOCK.replace("\"p95\": 5.6", "\"p95\": NaN");
        assert_eq!(
            level_from_summary_json(&text, "s.json")
                .unwrap()
                .e2e_latency_ms
                .unwrap()
                .p95,
            None
        );
    }
}
