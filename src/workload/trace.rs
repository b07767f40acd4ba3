//! Request traces in CSV or JSON Lines, read row by row (a trace of millions of requests never
//! sits in memory as text, only as 16-byte rows).
//!
//! Columns (CSV header or JSON keys; case and punctuation ignored), first match wins:
//!
//! | meaning | names |
//! |---|---|
//! | send time, s | `arrival_s`, `arrival_time`, `timestamp_s`, `start_s`, `time_s`, `timestamp`, `TIMESTAMP` |
//! | send time, ms | `arrival_ms`, `timestamp_ms`; Mooncake's `timestamp` (a row with `hash_ids`) |
//! | prompt tokens | `input_tokens`, `input_len`, `input_length`, `prompt_tokens`, `prompt_len`, `ContextTokens` |
//! | output tokens | `output_tokens`, `output_len`, `output_length`, `completion_tokens`, `GeneratedTokens` |
//!
//! A send time may also be a date-time (`2023-11-16 18:15:46.6805900`, as the Azure LLM
//! inference traces write it). Times are shifted so the first request is sent at 0 s, and rows
//! are sorted by time.

use std::io::BufRead;
use std::path::Path;

use serde_json::Value;

use super::arrivals::TraceRequest;
use crate::error::{Error, Result};

/// Most rows a trace may have.
pub const MAX_TRACE_REQUESTS: usize = 100_000_000;

/// Longest a trace may last from its first send to its last, seconds (what a workload's
/// `arrival_s` allows: about 3 years).
pub const MAX_TRACE_SPAN_S: f64 = 1e8;

const TIME_S: &[&str] = &[
    "arrivals",
    "arrivaltime",
    "timestamps",
    "starts",
    "times",
    "timestamp",
    "arrival",
    "time",
];
const TIME_MS: &[&str] = &["arrivalms", "timestampms", "arrivaltimems", "startms"];
const INPUT: &[&str] = &[
    "inputtokens",
    "inputlen",
    "inputlength",
    "prompttokens",
    "promptlen",
    "promptlength",
    "contexttokens",
    "numinputtokens",
];
const OUTPUT: &[&str] = &[
    "outputtokens",
    "outputlen",
    "outputlength",
    "completiontokens",
    "generatedtokens",
    "numoutputtokens",
];

fn key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether a file name is a trace this module reads (`.csv`, `.tsv`, `.jsonl`, `.ndjson`).
pub fn is_trace_file(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("csv" | "tsv" | "jsonl" | "ndjson")
    )
}

/// Reads a CSV / TSV / JSON Lines trace; errors name the file, the line and the column.
pub fn read_trace(path: &Path) -> Result<Vec<TraceRequest>> {
    let origin = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: origin.clone(),
        source,
    })?;
    let reader = std::io::BufReader::new(file);
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("jsonl" | "ndjson") => read_jsonl(reader, &origin),
        Some("tsv") => read_delimited(reader, &origin, '\t'),
        _ => read_delimited(reader, &origin, ','),
    }
}

/// A send time in seconds: a number, or a date-time `YYYY-MM-DD[ T]HH:MM:SS[.frac]`.
fn parse_time_s(text: &str) -> Option<f64> {
    let t = text.trim().trim_matches('"');
    if let Ok(v) = t.parse::<f64>() {
        return Some(v);
    }
    let (date, time) = t.split_once([' ', 'T'])?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.trim_end_matches('Z');
    let mut parts = time.split(':');
    let (h, min) = (parts.next()?.parse::<f64>().ok()?, parts.next()?.parse::<f64>().ok()?);
    let sec = parts.next().map_or(Some(0.0), |s| s.parse::<f64>().ok())?;
    Some(days_from_civil(y, m, day) as f64 * 86_400.0 + h * 3600.0 + min * 60.0 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn tokens(text: &str, origin: &str, line: usize, column: &str) -> Result<u32> {
    let t = text.trim().trim_matches('"');
    let v: f64 = t.parse().map_err(|_| {
        Error::invalid(
            format!("{origin}:{line}"),
            column,
            format!("'{t}' is not a token count"),
        )
    })?;
    if !(v.is_finite() && v >= 1.0 && v <= f64::from(u32::MAX) && v.fract() == 0.0) {
        return Err(Error::invalid(
            format!("{origin}:{line}"),
            column,
            format!("{t} must be a whole number of tokens in 1..={}", u32::MAX),
        ));
    }
    Ok(v as u32)
}

/// Sorts by send time, shifts the first to 0 s, and checks the count.
fn finish(mut rows: Vec<(f64, u32, u32)>, origin: &str, time_column: &str) -> Result<Vec<TraceRequest>> {
    if rows.is_empty() {
        return Err(Error::invalid(origin, "requests", "the trace has no rows"));
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let t0 = rows[0].0;
    // Each send time is finite, but far-apart ones (dates 10,000 years apart, ±1e308 s) give
    // offsets that overflow or that no replay runs through.
    let span = rows[rows.len() - 1].0 - t0;
    if !(span.is_finite() && span <= MAX_TRACE_SPAN_S) {
        return Err(Error::invalid(
            origin,
            time_column,
            format!("the send times span {span} s; a trace may span at most {MAX_TRACE_SPAN_S} s"),
        ));
    }
    Ok(rows
        .into_iter()
        .map(|(t, i, o)| TraceRequest {
            arrival_s: t - t0,
            input_tokens: i,
            output_tokens: o,
        })
        .collect())
}

fn column_of(header: &[String], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| header.iter().position(|h| h == n))
}

fn read_delimited(reader: impl BufRead, origin: &str, sep: char) -> Result<Vec<TraceRequest>> {
    let mut lines = reader.lines().enumerate();
    let (raw, header): (Vec<String>, Vec<String>) = match lines.next() {
        Some((_, Ok(h))) => (
            h.split(sep).map(|c| c.trim().trim_matches('"').to_string()).collect(),
            h.split(sep).map(key).collect(),
        ),
        Some((_, Err(source))) => {
            return Err(Error::Io {
                path: origin.to_string(),
                source,
            })
        }
        None => return Err(Error::invalid(origin, "header", "the file is empty")),
    };
    let missing = |what: &str, names: &[&str]| {
        Error::invalid(
            origin,
            "header",
            format!("no {what} column (one of {})", names.join(", ")),
        )
    };
    let (time, scale) = match (column_of(&header, TIME_MS), column_of(&header, TIME_S)) {
        (Some(c), _) => (c, 1e-3),
        (None, Some(c)) => (c, 1.0),
        (None, None) => return Err(missing("send-time", TIME_S)),
    };
    let input = column_of(&header, INPUT).ok_or_else(|| missing("prompt-token", INPUT))?;
    let output = column_of(&header, OUTPUT).ok_or_else(|| missing("output-token", OUTPUT))?;
    let mut rows = Vec::new();
    for (i, line) in lines {
        let line = line.map_err(|source| Error::Io {
            path: origin.to_string(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let n = i + 1;
        let cells: Vec<&str> = line.split(sep).collect();
        let cell = |c: usize, name: &str| -> Result<&str> {
            cells
                .get(c)
                .copied()
                .ok_or_else(|| Error::invalid(format!("{origin}:{n}"), name, "the row has too few columns"))
        };
        let t = cell(time, &raw[time])?;
        let secs = parse_time_s(t)
            .filter(|v| v.is_finite())
            .ok_or_else(|| Error::invalid(format!("{origin}:{n}"), &raw[time], format!("'{t}' is not a time")))?
            * scale;
        rows.push((
            secs,
            tokens(cell(input, &raw[input])?, origin, n, &raw[input])?,
            tokens(cell(output, &raw[output])?, origin, n, &raw[output])?,
        ));
        if rows.len() > MAX_TRACE_REQUESTS {
            return Err(Error::invalid(
                origin,
                "requests",
                format!("more than {MAX_TRACE_REQUESTS} rows"),
            ));
        }
    }
    finish(rows, origin, &raw[time])
}

fn read_jsonl(reader: impl BufRead, origin: &str) -> Result<Vec<TraceRequest>> {
    let mut rows = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|source| Error::Io {
            path: origin.to_string(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let n = i + 1;
        let value: Value = serde_json::from_str(&line).map_err(|e| Error::Parse {
            origin: origin.to_string(),
            line: n,
            column: e.column(),
            message: e.to_string(),
        })?;
        let Value::Object(obj) = value else {
            return Err(Error::invalid(
                format!("{origin}:{n}"),
                "(row)",
                "expected a JSON object",
            ));
        };
        // (normalised key, the key as written, value): matched by the first, named by the second.
        let keyed: Vec<(String, &str, &Value)> = obj.iter().map(|(k, v)| (key(k), k.as_str(), v)).collect();
        let find = |names: &[&str]| -> Option<(&str, &Value)> {
            names
                .iter()
                .find_map(|n| keyed.iter().find(|(k, _, _)| k == n).map(|(_, raw, v)| (*raw, *v)))
        };
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mooncake = keyed.iter().any(|(k, _, _)| k == "hashids");
        let secs = if let Some((k, v)) = find(TIME_MS) {
            parse_time_s(&text(v))
                .filter(|t| t.is_finite())
                .map(|t| t * 1e-3)
                .ok_or_else(|| Error::invalid(format!("{origin}:{n}"), k, format!("{v} is not a time")))?
        } else if let Some((k, v)) = find(TIME_S) {
            let scale = if mooncake && key(k) == "timestamp" { 1e-3 } else { 1.0 };
            parse_time_s(&text(v))
                .filter(|t| t.is_finite())
                .map(|t| t * scale)
                .ok_or_else(|| Error::invalid(format!("{origin}:{n}"), k, format!("{v} is not a time")))?
        } else {
            return Err(Error::invalid(
                format!("{origin}:{n}"),
                "(row)",
                format!("no send-time key (one of {})", TIME_S.join(", ")),
            ));
        };
        let get = |names: &[&str], what: &str| -> Result<u32> {
            let (k, v) = find(names).ok_or_else(|| {
                Error::invalid(
                    format!("{origin}:{n}"),
                    "(row)",
                    format!("no {what} key (one of {})", names.join(", ")),
                )
            })?;
            tokens(&text(v), origin, n, k)
        };
        rows.push((secs, get(INPUT, "prompt-token")?, get(OUTPUT, "output-token")?));
        if rows.len() > MAX_TRACE_REQUESTS {
            return Err(Error::invalid(
                origin,
                "requests",
                format!("more than {MAX_TRACE_REQUESTS} rows"),
            ));
        }
    }
    finish(rows, origin, "(send time)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_are_seconds_since_the_epoch() {
        assert_eq!(parse_time_s("1970-01-02 00:00:01"), Some(86_401.0));
        // 2023-11-16 is day 19,677 after 1970-01-01.
        let t = parse_time_s("2023-11-16 18:15:46.5").unwrap();
        assert!((t - (19_677.0 * 86_400.0 + 18.0 * 3600.0 + 15.0 * 60.0 + 46.5)).abs() < 1e-6);
        assert_eq!(parse_time_s("12.5"), Some(12.5));
        assert_eq!(parse_time_s("noon"), None);
    }

    #[test]
    fn send_times_too_far_apart_are_refused_naming_the_column() {
        // Found by the fuzz harness: a row at 1e308 s after one at -1e308 s loaded Ok with an
        // infinite arrival time.
        let dir = std::env::temp_dir().join(format!("servecast-trace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.csv");
        std::fs::write(&path, "arrival_s,input_tokens,output_tokens\n-1e308,10,5\n1e308,10,5\n").unwrap();
        let err = read_trace(&path).unwrap_err().to_string();
        assert!(err.contains("t.csv") && err.contains("`arrival_s`"), "{err}");
        std::fs::write(
            &path,
            "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,10,5\n9999-12-31 00:00:00,10,5\n",
        )
        .unwrap();
        let err = read_trace(&path).unwrap_err().to_string();
        assert!(err.contains("`TIMESTAMP`"), "{err}");
        std::fs::write(&path, "arrival_s,input_tokens,output_tokens\n0,10,5\n3600,10,5\n").unwrap();
        assert_eq!(read_trace(&path).unwrap()[1].arrival_s, 3600.0);
        std::fs::remove_dir_all(&dir).ok();
    }
}
