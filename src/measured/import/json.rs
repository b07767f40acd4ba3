//! JSON reading shared by the importers: Python's non-finite literals, numbers with the digits
//! as printed, and typed getters whose errors name the file and the field.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::measured::MetricStats;
use crate::metrics::Summary;

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

/// `mean_`, `median_` (→ p50), `p50_`, `p95_` and `p99_` `{metric}_ms` keys as [`MetricStats`].
///
/// A negative figure is refused naming its key (a latency cannot be below 0 ms); `NaN` (what a
/// client writes for a metric it did not measure) reads as absent.
pub(super) fn ms_stats(obj: &Map<String, Value>, metric: &str, origin: &str) -> Result<Option<MetricStats>> {
    let get = |prefix: &str| -> Result<Option<f64>> {
        let key = format!("{prefix}_{metric}_ms");
        match num(obj, &key, origin)? {
            Some(v) if v < 0.0 || v == f64::INFINITY => Err(Error::invalid(
                origin,
                &key,
                format!("{v} ms is not a latency (must be finite and ≥ 0)"),
            )),
            other => Ok(other.filter(|v| v.is_finite())),
        }
    };
    Ok(some_stats(MetricStats {
        mean: get("mean")?,
        p50: get("median")?.or(get("p50")?),
        p95: get("p95")?,
        p99: get("p99")?,
        ..MetricStats::default()
    }))
}

pub(super) fn stats_of(s: &Summary) -> MetricStats {
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

pub(super) fn some_stats(s: MetricStats) -> Option<MetricStats> {
    (s != MetricStats::default()).then_some(s)
}

// ---------------------------------------------------------------------------------------------
// JSON helpers

/// Parses `text` as one JSON object, accepting Python's bare `NaN`, `Infinity` and `-Infinity`.
///
/// Numbers are read with Rust's correctly rounded `str::parse::<f64>` (serde_json's default float
/// parser may be one unit in the last place off), so figures keep the digits the file printed:
/// a first pass checks the syntax with positions intact, a second reads every number as text.
pub(super) fn parse_object(text: &str, origin: &str) -> Result<Map<String, Value>> {
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

/// The top-level JSON objects of a file: one, or one per line as `--append-result` (vLLM) and
/// `bench_serving` (SGLang) append them; a pretty-printed object spanning lines is read too.
pub(super) fn split_objects<'a>(text: &'a str, origin: &str) -> Result<Vec<&'a str>> {
    let marked = python_json_to_strict(text, false);
    let mut stream = serde_json::Deserializer::from_str(&marked).into_iter::<serde::de::IgnoredAny>();
    let mut out = Vec::new();
    let mut start = 0usize;
    loop {
        match stream.next() {
            None => break,
            Some(Ok(_)) => {
                // The marks have the literals' lengths, so offsets hold in the original.
                let end = stream.byte_offset();
                out.push(text[start..end].trim());
                start = end;
            }
            Some(Err(e)) => return Err(Error::from_json(origin, &e)),
        }
    }
    if out.is_empty() {
        return Err(Error::invalid(
            origin,
            "(top level)",
            "the file is empty; expected a JSON object of results (or one per line)",
        ));
    }
    Ok(out)
}

/// Parses every top-level object of a file as one run with `parse`; with several, each run's
/// origin is `path#i` (1-based).
pub(super) fn runs_per_object(
    text: &str,
    origin: &str,
    parse: impl Fn(&str, &str) -> Result<super::ImportedRun>,
) -> Result<Vec<super::ImportedRun>> {
    let objects = split_objects(text, origin)?;
    let several = objects.len() > 1;
    objects
        .into_iter()
        .enumerate()
        .map(|(i, object)| {
            let run_origin = if several {
                format!("{origin}#{}", i + 1)
            } else {
                origin.to_string()
            };
            parse(object, &run_origin)
        })
        .collect()
}

/// Stand-ins of the same length as Python's non-finite literals, so errors keep their columns.
const NAN_MARK: &str = "\"N\"";
const INF_MARK: &str = "\"Infini\"";
const NEG_INF_MARK: &str = "\"-Infini\"";

/// Rewrites bare `NaN`, `Infinity` and `-Infinity` outside strings into strings of the same
/// length (read back by [`number_value`]); with `quote_numbers`, also wraps every number in
/// quotes so that its digits reach [`number_value`] as written. Strings are left as they are.
pub(super) fn python_json_to_strict(text: &str, quote_numbers: bool) -> std::borrow::Cow<'_, str> {
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
pub(super) fn number_value(v: &Value) -> Option<f64> {
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

pub(super) fn missing(origin: &str, key: &str) -> Error {
    Error::invalid(
        origin,
        key,
        format!("required key `{key}` is missing from the result file"),
    )
}

/// An optional number (`null` or absent: `None`).
pub(super) fn num(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<Option<f64>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => number_value(v)
            .map(Some)
            .ok_or_else(|| Error::invalid(origin, key, format!("expected a number, got {v}"))),
    }
}

/// A required number.
pub(super) fn req_num(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<f64> {
    num(obj, key, origin)?.ok_or_else(|| missing(origin, key))
}

pub(super) fn positive(v: f64, key: &str, origin: &str) -> Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(Error::invalid(origin, key, format!("must be > 0 seconds, got {v}")))
    }
}

pub(super) fn whole(v: f64, key: &str, origin: &str) -> Result<u32> {
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
pub(super) fn count(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<Option<u32>> {
    num(obj, key, origin)?.map(|v| whole(v, key, origin)).transpose()
}

/// A required whole number.
pub(super) fn req_count(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<u32> {
    count(obj, key, origin)?.ok_or_else(|| missing(origin, key))
}

/// An optional nested object.
pub(super) fn object<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    origin: &str,
) -> Result<Option<&'a Map<String, Value>>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(Error::invalid(origin, key, format!("expected an object, got {other}"))),
    }
}

pub(super) fn array<'a>(obj: &'a Map<String, Value>, key: &str, origin: &str) -> Result<Option<&'a Vec<Value>>> {
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

/// Most tokens one request can hold: no served model has a context longer than this.
pub(super) const MAX_REQUEST_TOKENS: u32 = 10_000_000;

/// Longest one request of a load test can take, seconds (11.6 days): a longer time is no
/// measurement (a unit mix-up or garbage), and its milliseconds and sums would overflow.
pub(super) const MAX_REQUEST_SECONDS: f64 = 1e6;

/// Refuses a run duration (seconds, > 0) too short for its `work` (requests or tokens): the
/// per-second figures computed from it would overflow. Names `field`.
pub(super) fn duration_fits(duration_s: f64, work: f64, field: &str, origin: &str) -> Result<()> {
    if (work.max(1.0) / duration_s).is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(
            origin,
            field,
            format!(
                "a run of {duration_s} s for {work} tokens or requests is no measurement (its throughput overflows)"
            ),
        ))
    }
}

/// Refuses a request whose time to first token plus inter-token gaps (seconds, each already
/// finite and ≥ 0) is longer than [`MAX_REQUEST_SECONDS`], naming `field`.
pub(super) fn request_time_ok(ttft_s: f64, gaps_s: &[f64], field: &str, origin: &str) -> Result<()> {
    let total = ttft_s + gaps_s.iter().sum::<f64>();
    if total <= MAX_REQUEST_SECONDS {
        Ok(())
    } else {
        Err(Error::invalid(
            origin,
            field,
            format!("the request takes {total} s to its last token; no load-test request runs longer than {MAX_REQUEST_SECONDS} s"),
        ))
    }
}

pub(super) fn u32_array(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<Option<Vec<u32>>> {
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

pub(super) fn f64_array(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<Option<Vec<f64>>> {
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

pub(super) fn nested_f64_array(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<Option<Vec<Vec<f64>>>> {
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
pub(super) fn error_array(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<Option<Vec<String>>> {
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
