//! `--per-request FILE`: every request's record, written as it finishes (JSON Lines or CSV), so
//! a run of any length keeps its per-request detail without holding it in memory.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::engine::{RecordSink, RequestRecord};
use crate::error::{Error, Result};
use crate::metrics::level::LevelRecorder;
use crate::units::NANOS_PER_MS;
use crate::workload::arrivals::Level;

/// The layouts a per-request file can have, chosen by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerRequestFormat {
    /// One JSON object per line (`.jsonl`, `.ndjson`).
    JsonLines,
    /// A header and one row per request (`.csv`).
    Csv,
}

impl PerRequestFormat {
    /// The format for `path`'s extension, or an error naming the allowed ones.
    pub fn for_path(path: &Path) -> Result<PerRequestFormat> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("jsonl" | "ndjson") => Ok(PerRequestFormat::JsonLines),
            Some("csv") => Ok(PerRequestFormat::Csv),
            _ => Err(Error::invalid(
                "--per-request",
                "per_request",
                format!("{}: the extension must be .jsonl, .ndjson or .csv", path.display()),
            )),
        }
    }
}

/// Columns of the CSV layout (the JSON Lines objects have the same keys).
const COLUMNS: &[&str] = &[
    "level",
    "load",
    "id",
    "user",
    "replica",
    "input_tokens",
    "output_tokens",
    "failed",
    "preemptions",
    "send_ns",
    "arrival_ns",
    "first_scheduled_ns",
    "first_token_ns",
    "first_chunk_ns",
    "finish_ns",
    "ttft_ms",
    "tpot_ms",
    "e2e_latency_ms",
];

/// Writes request records to a file as they arrive; times are simulated nanoseconds from the
/// level's start (empty in CSV, null in JSON when never reached).
pub struct PerRequestWriter {
    path: PathBuf,
    format: PerRequestFormat,
    out: BufWriter<File>,
    level: usize,
    load: String,
    rows: u64,
    /// The first write error (reported by [`PerRequestWriter::finish`]; later rows are skipped).
    error: Option<std::io::Error>,
}

impl std::fmt::Debug for PerRequestWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerRequestWriter")
            .field("path", &self.path)
            .field("rows", &self.rows)
            .finish()
    }
}

fn load_text(level: Level) -> String {
    match level {
        Level::Concurrency(c) => format!("concurrency={c}"),
        Level::Qps(q) => format!("qps={q}"),
        Level::Trace => "trace".into(),
    }
}

impl PerRequestWriter {
    /// Creates (or truncates) `path`; the format follows its extension.
    pub fn create(path: &Path) -> Result<PerRequestWriter> {
        let format = PerRequestFormat::for_path(path)?;
        let file = File::create(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        let mut w = PerRequestWriter {
            path: path.to_path_buf(),
            format,
            out: BufWriter::new(file),
            level: 0,
            load: String::new(),
            rows: 0,
            error: None,
        };
        if format == PerRequestFormat::Csv {
            let header = COLUMNS.join(",");
            w.write_line(&header);
        }
        Ok(w)
    }

    fn write_line(&mut self, line: &str) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self
            .out
            .write_all(line.as_bytes())
            .and_then(|_| self.out.write_all(b"\n"))
        {
            self.error = Some(e);
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes the file; the first write error, if any, naming the file.
    pub fn finish(mut self) -> Result<u64> {
        let flushed = self.out.flush();
        match self.error.take().map_or(flushed, Err) {
            Ok(()) => Ok(self.rows),
            Err(source) => Err(Error::Io {
                path: self.path.display().to_string(),
                source,
            }),
        }
    }
}

impl LevelRecorder for PerRequestWriter {
    fn begin_level(&mut self, index: usize, level: Level) {
        self.level = index;
        self.load = load_text(level);
    }
}

impl RecordSink for PerRequestWriter {
    fn record(&mut self, r: &RequestRecord) {
        const NEVER: u64 = u64::MAX;
        let reached = |t: u64| (t != NEVER).then_some(t);
        let ok = !r.failed && r.finish_ns != NEVER;
        let ttft = ok.then(|| r.ttft_ns() as f64 / NANOS_PER_MS);
        let tpot = if ok {
            r.tpot_ns().map(|t| t / NANOS_PER_MS)
        } else {
            None
        };
        let e2e = ok.then(|| r.e2e_ns() as f64 / NANOS_PER_MS);
        let line = match self.format {
            PerRequestFormat::JsonLines => serde_json::json!({
                "level": self.level,
                "load": self.load,
                "id": r.id,
                "user": r.user,
                "replica": r.replica,
                "input_tokens": r.input_tokens,
                "output_tokens": r.output_tokens,
                "failed": r.failed,
                "preemptions": r.preemptions,
                "send_ns": reached(r.send_ns),
                "arrival_ns": reached(r.arrival_ns),
                "first_scheduled_ns": reached(r.first_scheduled_ns),
                "first_token_ns": reached(r.first_token_ns),
                "first_chunk_ns": reached(r.first_chunk_ns),
                "finish_ns": reached(r.finish_ns),
                "ttft_ms": ttft,
                "tpot_ms": tpot,
                "e2e_latency_ms": e2e,
            })
            .to_string(),
            PerRequestFormat::Csv => {
                let t = |v: Option<u64>| v.map_or(String::new(), |x| x.to_string());
                let f = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:.6}"));
                [
                    self.level.to_string(),
                    self.load.clone(),
                    r.id.to_string(),
                    r.user.to_string(),
                    r.replica.to_string(),
                    r.input_tokens.to_string(),
                    r.output_tokens.to_string(),
                    r.failed.to_string(),
                    r.preemptions.to_string(),
                    t(reached(r.send_ns)),
                    t(reached(r.arrival_ns)),
                    t(reached(r.first_scheduled_ns)),
                    t(reached(r.first_token_ns)),
                    t(reached(r.first_chunk_ns)),
                    t(reached(r.finish_ns)),
                    f(ttft),
                    f(tpot),
                    f(e2e),
                ]
                .join(",")
            }
        };
        self.write_line(&line);
        self.rows += 1;
    }

    fn itl(&mut self, _ns: f64, _count: u64) {}
}
