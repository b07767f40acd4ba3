//! Importers: load-test result files, in the formats load testers write them, turned into
//! [`MeasuredReport`]s (to fit and validate) and into workloads (to replay).
//!
//! One room per format, each behind the [`Importer`] trait and detected from the file's content
//! ([`detect`]):
//!
//! - [`vllm_bench`]: `vllm bench serve --save-result` and `benchmarks/benchmark_serving.py
//!   --save-result` JSON of every release, including `--append-result` files (one object per line).
//! - [`guidellm`]: GuideLLM `benchmarks.json` (v1 and v2).
//! - [`aiperf`]: NVIDIA AIPerf / GenAI-Perf `profile_export.jsonl` and its aggregate JSON / CSV.
//! - [`llmperf`]: ray-project llmperf `*_summary.json` and `*_individual_responses.json`.
//! - [`sglang`]: SGLang `bench_serving` JSONL.
//! - [`script_summary`]: the summary JSON of seed 004's load-test script ([`level_from_summary_json`]).
//!
//! Every importer produces format-neutral [`ImportedRun`]s; [`build_report`] turns runs into a
//! report and [`replay_workload`] into the workload that re-sends what the client sent. A result
//! file does not say which GPU and engine flags served it; the caller gives them in an
//! [`ImportContext`]. What the file leaves out of the workload is recorded as an [`Assumption`].
//! Python writes non-finite floats as bare `NaN`, `Infinity` and `-Infinity`, which strict JSON
//! has no words for; they are accepted.

pub mod aiperf;
pub mod guidellm;
pub mod json;
pub mod llmperf;
pub mod script_summary;
pub mod sglang;
pub mod vllm_bench;

use std::path::Path;

use super::{Assumption, MeasuredLevel, MeasuredReport, Provenance};
use crate::error::{Error, Result};
use crate::spec::engine::{EngineFlags, EngineVersion};
use crate::workload::arrivals::{ConcurrencyLevel, Endpoint, LoadSpec, TraceRequest, WorkloadSpec};
use crate::workload::lengths::LengthDist;

pub use json::secs_to_ms;
pub use script_summary::level_from_summary_json;
pub use vllm_bench::{from_vllm_bench_json, from_vllm_bench_runs};

/// What a result file does not carry: the deployment it was measured on.
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

/// How one run offered load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RunLoad {
    /// A shared queue with at most `concurrency` requests in flight (`--request-rate inf
    /// --max-concurrency C`, C concurrent streams, a pool of C workers).
    Queue {
        /// Most requests outstanding at once.
        concurrency: u32,
    },
    /// Waves of `concurrency` requests sent together, the next wave when the whole last one has
    /// ended (llmperf before its commit f1d6bed, 2024-12-09).
    Waves {
        /// Requests per wave.
        concurrency: u32,
    },
    /// Open-loop arrivals at `rate` req/s with gamma gaps of shape `burstiness` (1: Poisson;
    /// very large: evenly spaced), optionally behind a semaphore of `max_concurrency`.
    Poisson {
        /// Request rate, requests per second.
        rate: f64,
        /// Most requests outstanding at once; none: unlimited.
        max_concurrency: Option<u32>,
        /// Gamma shape of the gaps (1: Poisson).
        burstiness: f64,
    },
}

impl RunLoad {
    /// The rate offered, req/s (`inf` for a queue).
    pub fn rate(&self) -> f64 {
        match self {
            RunLoad::Poisson { rate, .. } => *rate,
            RunLoad::Queue { .. } | RunLoad::Waves { .. } => f64::INFINITY,
        }
    }

    /// The level a run is reported at: `(concurrency, qps)`, as [`MeasuredLevel`] names it.
    pub fn level_key(&self) -> (Option<u32>, Option<f64>) {
        match self {
            RunLoad::Queue { concurrency } | RunLoad::Waves { concurrency } => (Some(*concurrency), None),
            RunLoad::Poisson { rate, .. } => (None, Some(*rate)),
        }
    }

    /// How the load is described in messages.
    pub fn describe(&self) -> String {
        match self {
            RunLoad::Queue { concurrency } => {
                format!("request_rate inf (a queue of at most {concurrency} requests in flight)")
            }
            RunLoad::Waves { concurrency } => {
                format!("waves of {concurrency} requests, each sent when the last had ended")
            }
            RunLoad::Poisson {
                rate,
                max_concurrency,
                burstiness,
            } => {
                let shape = if (burstiness - 1.0).abs() < 1e-9 {
                    "Poisson arrivals".to_string()
                } else {
                    format!("gamma arrivals of burstiness {burstiness}")
                };
                match max_concurrency {
                    Some(c) => format!("request_rate {rate} req/s ({shape}) behind max_concurrency {c}"),
                    None => format!("request_rate {rate} req/s ({shape})"),
                }
            }
        }
    }
}

/// The lengths of one run: recorded per request, or only their mean.
#[derive(Debug, Clone, PartialEq)]
pub enum RunLengths {
    /// Per-request lengths of the successful requests, in request order, tokens.
    Recorded(Vec<u32>),
    /// Only the total is known: its mean per request, tokens.
    Mean(f64),
}

impl RunLengths {
    /// The length distribution a simulation draws from: the recorded lengths in order (a
    /// recorded 0 becomes 1: the request generated at least its end-of-sequence token), or a
    /// fixed length at the rounded mean (at least 1 token).
    pub fn dist(&self) -> LengthDist {
        match self {
            RunLengths::Recorded(values) => LengthDist::Cycle {
                values: values.iter().map(|&v| v.max(1)).collect(),
            },
            RunLengths::Mean(mean) => LengthDist::Fixed {
                tokens: mean.round().clamp(1.0, f64::from(u32::MAX)) as u32,
            },
        }
    }
}

/// One request as the client recorded it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestRecord {
    /// When the client sent it, seconds from any fixed origin (the run's first send, or epoch);
    /// none: not recorded.
    pub start_s: Option<f64>,
    /// Prompt tokens.
    pub input_tokens: u32,
    /// Generated tokens as the client counted them.
    pub output_tokens: u32,
    /// Time to first token, ms.
    pub ttft_ms: Option<f64>,
    /// End-to-end latency, ms.
    pub e2e_ms: Option<f64>,
    /// The client's error; none: the request succeeded.
    pub error: Option<String>,
}

/// The per-request arrays a benchmark client writes side by side (vllm bench's `--save-detailed`,
/// SGLang's `--output-details`): lengths in tokens, TTFTs and inter-token gaps in seconds, and one
/// error string per request (empty for a success).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct BenchArrays<'a> {
    pub(super) input_lens: Option<&'a [u32]>,
    pub(super) output_lens: Option<&'a [u32]>,
    pub(super) ttfts: Option<&'a [f64]>,
    pub(super) itls: Option<&'a [Vec<f64>]>,
    pub(super) errors: Option<&'a [String]>,
}

impl BenchArrays<'_> {
    /// Request `i` as a [`RequestRecord`]: E2E = TTFT + the sum of its gaps (the client's own
    /// latency); a failure keeps the last line of its error (a traceback's message).
    pub(super) fn record(&self, i: usize, success: bool, start_s: Option<f64>) -> RequestRecord {
        let ttft = self.ttfts.and_then(|t| t.get(i).copied());
        RequestRecord {
            start_s,
            input_tokens: self.input_lens.and_then(|v| v.get(i).copied()).unwrap_or(0),
            output_tokens: self.output_lens.and_then(|v| v.get(i).copied()).unwrap_or(0),
            ttft_ms: ttft.filter(|_| success).map(json::secs_to_ms),
            e2e_ms: match (ttft, self.itls.and_then(|g| g.get(i))) {
                (Some(t), Some(g)) if success => Some(json::secs_to_ms(t + g.iter().sum::<f64>())),
                _ => None,
            },
            error: (!success).then(|| {
                let e = self.errors.and_then(|e| e.get(i)).map_or("", String::as_str);
                if e.is_empty() {
                    "failed with no error message".to_string()
                } else {
                    e.lines().last().unwrap_or(e).to_string()
                }
            }),
        }
    }
}

/// One run (one load level) of one file, in a form shared by every format.
#[derive(Debug, Clone)]
pub struct ImportedRun {
    /// The file (and, for files of several runs, which one: `path#2`), named in errors and
    /// provenance.
    pub origin: String,
    /// The format and, where known, its version, e.g. `vllm bench serve result`.
    pub format: String,
    /// The model id the file names (a Hugging Face id or served name); none: not recorded.
    pub model_id: Option<String>,
    /// How load was offered.
    pub load: RunLoad,
    /// Successful requests: the ones the tool's metrics cover, and the ones simulated.
    pub num_requests: u32,
    /// The file's own figures for the run (the tool's metrics over its successful requests);
    /// `concurrency` / `qps` name the level.
    pub level: MeasuredLevel,
    /// Prompt lengths of the successful requests, tokens.
    pub input: RunLengths,
    /// Output lengths of the successful requests, tokens.
    pub output: RunLengths,
    /// Prompt tokens over the successful requests.
    pub total_input: f64,
    /// Generated tokens over the successful requests.
    pub total_output: f64,
    /// Per-request records where the file has them (successful and failed, in send order);
    /// empty otherwise.
    pub requests: Vec<RequestRecord>,
    /// Requests sent that did not succeed.
    pub failed: u32,
    /// One line for the provenance: date, tool, model, load, as the file states them.
    pub summary: String,
    /// How to get per-request lengths out of this tool, said when only their means are known
    /// (e.g. "vllm bench serve keeps them only with --save-detailed").
    pub lengths_hint: String,
    /// What this format's importer had to assume (e.g. 0-token outputs counted as completed).
    pub assumptions: Vec<Assumption>,
    /// The endpoint the client sent to, where the file says (`backend: openai-chat`); chat
    /// prompts are wrapped in the model's template on the server, which the file's prompt
    /// lengths leave out.
    pub endpoint: Endpoint,
}

/// A file as an importer sees it: its name, its text, and a way to read a companion file of the
/// same run (llmperf's summary beside its individual responses, AIPerf's aggregate JSON beside
/// its JSONL).
pub struct Source<'a> {
    /// Path or name, named in errors.
    pub origin: &'a str,
    /// The file's text.
    pub text: &'a str,
    /// Reads a file in the same directory by name: `(origin, text)`, or none if absent.
    pub sibling: &'a dyn Fn(&str) -> Option<(String, String)>,
}

impl<'a> Source<'a> {
    /// A source with no companion files (tests, stdin).
    pub fn alone(origin: &'a str, text: &'a str) -> Self {
        Source {
            origin,
            text,
            sibling: &no_sibling,
        }
    }
}

fn no_sibling(_: &str) -> Option<(String, String)> {
    None
}

/// One load tester's result format.
pub trait Importer: Sync {
    /// The format's name in messages, e.g. `GuideLLM benchmarks.json`.
    fn name(&self) -> &'static str;
    /// Whether the file is in this format, judged from its content (and, where the content is
    /// ambiguous, its name). Cheap: it looks at the keys, not the figures.
    fn detect(&self, origin: &str, text: &str) -> bool;
    /// The file's runs, one per load level, in the order the file holds them.
    fn import(&self, source: &Source<'_>) -> Result<Vec<ImportedRun>>;
}

/// Every importer, in the order [`detect`] tries them.
pub fn importers() -> [&'static dyn Importer; 5] {
    [
        &vllm_bench::VllmBench,
        &guidellm::GuideLlm,
        &aiperf::AiPerf,
        &llmperf::LlmPerf,
        &sglang::SglangBench,
    ]
}

/// The importer whose format `text` is in; an error listing the formats read otherwise.
pub fn detect(origin: &str, text: &str) -> Result<&'static dyn Importer> {
    importers().into_iter().find(|i| i.detect(origin, text)).ok_or_else(|| {
        Error::invalid(
            origin,
            "(format)",
            format!(
                "is not a load-test result servecast reads; it reads {}",
                importers().iter().map(|i| i.name()).collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

/// Reads `path` in whatever format it is in (companion files come from its directory).
pub fn import_file(path: &Path) -> Result<Vec<ImportedRun>> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: origin.clone(),
        source,
    })?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let sibling = move |name: &str| -> Option<(String, String)> {
        let p = dir.join(name);
        std::fs::read_to_string(&p).ok().map(|t| (p.display().to_string(), t))
    };
    let importer = detect(&origin, &text)?;
    importer.import(&Source {
        origin: &origin,
        text: &text,
        sibling: &sibling,
    })
}

/// Reads several files (each of one or more runs); every run, in file order.
pub fn import_files<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<ImportedRun>> {
    let mut runs = Vec::new();
    for p in paths {
        runs.extend(import_file(p.as_ref())?);
    }
    Ok(runs)
}

/// The workload that re-sends one run as its client sent it: the recorded send times and
/// lengths of its successful requests as a trace when the file has them, otherwise its load
/// (rate / concurrency / burstiness) with its recorded lengths in order.
pub fn replay_workload(run: &ImportedRun) -> WorkloadSpec {
    let ok: Vec<&RequestRecord> = run.requests.iter().filter(|r| r.error.is_none()).collect();
    let starts: Vec<f64> = ok.iter().filter_map(|r| r.start_s).collect();
    if !ok.is_empty()
        && starts.len() == ok.len()
        && matches!(
            run.load,
            RunLoad::Poisson {
                max_concurrency: None,
                ..
            }
        )
    {
        let t0 = starts.iter().copied().fold(f64::INFINITY, f64::min);
        let mut requests: Vec<TraceRequest> = ok
            .iter()
            .zip(&starts)
            .map(|(r, s)| TraceRequest {
                arrival_s: (s - t0).max(0.0),
                input_tokens: r.input_tokens.max(1),
                output_tokens: r.output_tokens.max(1),
            })
            .collect();
        requests.sort_by(|a, b| a.arrival_s.total_cmp(&b.arrival_s));
        return WorkloadSpec {
            endpoint: run.endpoint,
            initial_test_run: format_sends_test_prompt(&run.format),
            ..WorkloadSpec::new(LoadSpec::Trace { requests }, run.input.dist(), run.output.dist())
        };
    }
    WorkloadSpec {
        endpoint: run.endpoint,
        initial_test_run: format_sends_test_prompt(&run.format),
        ..WorkloadSpec::new(load_of(std::slice::from_ref(run)), run.input.dist(), run.output.dist())
    }
}

/// Drops runs that repeat an earlier one (the same format, load, request count and token totals:
/// e.g. llmperf's summary and its individual responses, both given, which each import as the
/// same run); returns the runs kept and how many were dropped.
pub fn dedupe_runs(runs: Vec<ImportedRun>) -> (Vec<ImportedRun>, usize) {
    let mut kept: Vec<ImportedRun> = Vec::new();
    let mut dropped = 0;
    for r in runs {
        let same = kept.iter().any(|k| {
            k.format.split_whitespace().next() == r.format.split_whitespace().next()
                && k.load == r.load
                && k.num_requests == r.num_requests
                && k.total_output == r.total_output
                && k.total_input == r.total_input
        });
        if same {
            dropped += 1;
        } else {
            kept.push(r);
        }
    }
    (kept, dropped)
}

/// Splits runs into groups that can each form one report (one load kind: queues together; rate
/// runs together when they share `max_concurrency` and burstiness), keeping file order within
/// and between groups. A GuideLLM sweep (synchronous, throughput, then constant rates) becomes
/// two or three reports this way.
pub fn group_runs(runs: Vec<ImportedRun>) -> Vec<Vec<ImportedRun>> {
    let key = |r: &ImportedRun| -> (bool, Option<u32>, u64) {
        match r.load {
            RunLoad::Queue { .. } => (true, None, 0),
            // One report per wave count per user: a closed loop has one for all its levels.
            RunLoad::Waves { concurrency } => (true, Some(r.num_requests.div_ceil(concurrency.max(1))), 1),
            RunLoad::Poisson {
                max_concurrency,
                burstiness,
                ..
            } => (false, max_concurrency, burstiness.to_bits()),
        }
    };
    let mut groups: Vec<Vec<ImportedRun>> = Vec::new();
    for r in runs {
        match groups.iter_mut().find(|g| key(&g[0]) == key(&r)) {
            Some(g) => g.push(r),
            None => groups.push(vec![r]),
        }
    }
    groups
}

/// The load of runs that share one kind (checked by the caller), one level per run.
fn load_of(runs: &[ImportedRun]) -> LoadSpec {
    match runs[0].load {
        RunLoad::Waves { concurrency } => LoadSpec::ClosedLoop {
            concurrency: runs.iter().map(|r| r.load.level_key().0.unwrap_or(1)).collect(),
            requests_per_user: runs[0].num_requests.div_ceil(concurrency.max(1)),
            think_time_s: 0.0,
            waves: true,
        },
        RunLoad::Queue { .. } => LoadSpec::MaxConcurrency {
            levels: runs
                .iter()
                .map(|r| ConcurrencyLevel {
                    concurrency: r.load.level_key().0.unwrap_or(1),
                    num_requests: r.num_requests,
                })
                .collect(),
        },
        RunLoad::Poisson {
            max_concurrency,
            burstiness,
            ..
        } => {
            let counts: Vec<u32> = runs.iter().map(|r| r.num_requests).collect();
            let same = counts.iter().all(|&c| c == counts[0]);
            LoadSpec::Poisson {
                qps: runs.iter().map(|r| r.load.rate()).collect(),
                num_requests: counts[0],
                max_concurrency,
                burstiness,
                num_requests_per_level: (!same).then_some(counts),
                client_draws: None,
            }
        }
    }
}

/// Runs of one deployment (e.g. one per concurrency or rate, from one or several files) → one
/// [`MeasuredReport`] with one level per run, sorted by concurrency, then by rate; per-level
/// prompt and output lengths go to `workload.input_len_per_level` / `output_len_per_level`.
///
/// A report's levels share one load kind: runs that mix a queue (`--request-rate inf`) with
/// finite rates, or finite-rate runs with different `max_concurrency` or burstiness, are refused
/// with an error naming both runs. The workload's own `input_len` / `output_len` (used only when
/// the levels are changed) pool every run's recorded lengths. The report is validated exactly as
/// a file in `data/measured` is.
pub fn build_report(mut runs: Vec<ImportedRun>, ctx: &ImportContext) -> Result<MeasuredReport> {
    let Some(first) = runs.first() else {
        return Err(Error::invalid(
            "import",
            "files",
            "no runs to import; pass one or more load-test result files",
        ));
    };
    let queue = matches!(first.load, RunLoad::Queue { .. } | RunLoad::Waves { .. });
    for r in &runs[1..] {
        let clash = match (first.load, r.load) {
            (RunLoad::Queue { .. }, RunLoad::Queue { .. }) => None,
            (RunLoad::Waves { concurrency: c0 }, RunLoad::Waves { concurrency: c1 }) => {
                (first.num_requests.div_ceil(c0.max(1)) != r.num_requests.div_ceil(c1.max(1))).then_some((
                    "num_requests",
                    "levels in waves share one count of waves (one report per count)",
                ))
            }
            (
                RunLoad::Poisson {
                    max_concurrency: m0,
                    burstiness: b0,
                    ..
                },
                RunLoad::Poisson {
                    max_concurrency: m1,
                    burstiness: b1,
                    ..
                },
            ) => {
                if m0 != m1 {
                    Some((
                        "max_concurrency",
                        "Poisson levels of one report share one max_concurrency",
                    ))
                } else if (b0 - b1).abs() > 1e-9 {
                    Some(("burstiness", "Poisson levels of one report share one burstiness"))
                } else {
                    None
                }
            }
            _ => Some((
                "request_rate",
                "a report's levels must share one load kind, so import them as separate reports",
            )),
        };
        if let Some((field, why)) = clash {
            return Err(Error::invalid(
                &r.origin,
                field,
                format!(
                    "{} has {} but {} has {}; {why}",
                    first.origin,
                    first.load.describe(),
                    r.origin,
                    r.load.describe()
                ),
            ));
        }
    }
    if queue {
        runs.sort_by_key(|r| r.load.level_key().0.unwrap_or(0));
    } else {
        runs.sort_by(|a, b| a.load.rate().total_cmp(&b.load.rate()));
    }
    let single = runs.len() == 1;
    let load = load_of(&runs);

    let mut assumptions = Vec::new();
    let field = |base: &str, i: usize| {
        if single {
            format!("workload.{base}")
        } else {
            format!("workload.{base}_per_level[{i}]")
        }
    };
    for (i, r) in runs.iter().enumerate() {
        for (base, lengths, total, what) in [
            ("input_len", &r.input, r.total_input, "prompt"),
            ("output_len", &r.output, r.total_output, "output"),
        ] {
            if let RunLengths::Mean(mean) = lengths {
                let LengthDist::Fixed { tokens } = lengths.dist() else {
                    continue;
                };
                assumptions.push(Assumption {
                    field: field(base, i),
                    value: format!("{tokens} tokens, fixed"),
                    reason: format!(
                        "the file has no per-request {what} lengths ({}); {total} {what} tokens ÷ {} successful \
                         requests = {mean:.2} tokens per request, so the total is kept to rounding but the spread \
                         of lengths is lost",
                        r.lengths_hint, r.num_requests
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
                    "{} of the run's requests failed; the tool's metrics cover only the successful ones, so only \
                     those are simulated",
                    r.failed
                ),
                source: r.origin.clone(),
            });
        }
        assumptions.extend(r.assumptions.iter().cloned());
    }
    assumptions.push(Assumption {
        field: "workload.prefix_groups".into(),
        value: "0".into(),
        reason: "a result file does not say whether prompts share prefixes (random datasets' do not); none is \
                 assumed, so the prefix cache never hits"
            .into(),
        source: first_format(&runs),
    });

    let (input_len, output_len, input_per_level, output_per_level) = if single {
        (runs[0].input.dist(), runs[0].output.dist(), None, None)
    } else {
        let pooled = |pick: fn(&ImportedRun) -> (&RunLengths, f64)| -> LengthDist {
            let mut all = Vec::new();
            for r in &runs {
                match pick(r).0 {
                    RunLengths::Recorded(v) => all.extend(v.iter().map(|&x| x.max(1))),
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
    let endpoint = if runs.iter().any(|r| r.endpoint == Endpoint::Chat) {
        assumptions.push(Assumption {
            field: "workload.endpoint".into(),
            value: "chat".into(),
            reason: "the client sent to /v1/chat/completions: the server wraps each prompt in the model's chat \
                     template, whose tokens the file's prompt lengths leave out"
                .into(),
            source: first_format(&runs),
        });
        Endpoint::Chat
    } else {
        Endpoint::Completions
    };
    let workload = WorkloadSpec {
        endpoint,
        initial_test_run: format_sends_test_prompt(&first_format(&runs)),
        input_len_per_level: input_per_level,
        output_len_per_level: output_per_level,
        ..WorkloadSpec::new(load, input_len, output_len)
    };
    let origins: Vec<String> = runs.iter().map(|r| r.origin.clone()).collect();
    let format = first_format(&runs);
    // A short name of the tool for the id: `vllm-bench`, `guidellm`, `aiperf`, …
    let first_word: String = format
        .split_whitespace()
        .next()
        .unwrap_or("import")
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let slug = if first_word == "vllm" || first_word == "benchmarkservingpy" {
        "vllm-bench".to_string()
    } else {
        first_word
    };
    let report = MeasuredReport {
        id: format!("{}-{}-{}-{slug}", ctx.gpu, ctx.model, ctx.engine.as_str()),
        provenance: Provenance {
            file: origins.join(", "),
            section: if single {
                format.clone()
            } else {
                format!("{format}, one level per run")
            },
            notes: format!(
                "Imported by servecast::measured::import. {}. GPU, model, engine and flags were given by the importer, \
                 not read from the files. Percentiles other than p50/p95/p99 have no field and are not stored.",
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
    let origin = origins.first().cloned().unwrap_or_else(|| "import".into());
    let yaml = serde_saphyr::to_string(&report)
        .map_err(|e| Error::invalid(&origin, "report", format!("cannot be written as YAML: {e}")))?;
    MeasuredReport::from_yaml(&yaml, &origin)
}

/// Whether the tester that wrote a result of `format` sends its first prompt once before the
/// timed run ([`WorkloadSpec::initial_test_run`]): vLLM's and SGLang's clients do (the files
/// do not record the flags that turn it off, which are rarely given); the other testers send no
/// such prompt.
fn format_sends_test_prompt(format: &str) -> Option<bool> {
    Some(
        format.starts_with("vllm bench serve")
            || format.starts_with("benchmark_serving.py")
            || format.starts_with("SGLang bench_serving"),
    )
}

fn first_format(runs: &[ImportedRun]) -> String {
    runs.first()
        .map_or_else(|| "load-test result".into(), |r| r.format.clone())
}
