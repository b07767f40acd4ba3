//! A pasted load-test command, read into the load it sends: its prompts and their lengths, how
//! many requests, at what rate or concurrency, and to which endpoint.
//!
//! A planner has the exact command the team will run; pasting it saves translating each flag
//! (and getting a default wrong: `vllm bench serve` draws from `random` by default,
//! `benchmark_serving.py` from ShareGPT, llmperf sends 550 ± 150-token prompts). One room per
//! load tester:
//!
//! - [`vllm_bench`]: `vllm bench serve …` and `benchmarks/benchmark_serving.py …`.
//! - [`vllm_offline`]: `vllm bench throughput …` / `benchmark_throughput.py …` and `vllm bench
//!   latency …` / `benchmark_latency.py …`, which start their own engine (the `LLM` class).
//! - [`sglang`]: `python -m sglang.bench_serving …`.
//! - [`llmperf`]: ray-project llmperf's `token_benchmark_ray.py …`.
//! - [`genai_perf`]: NVIDIA's `genai-perf profile …` and its successor `aiperf profile …`.
//! - [`guidellm`]: `guidellm benchmark …`.
//!
//! Each tester's facts, with the source lines they come from: `docs/research/load-testers.md`.
//!
//! Flags that change nothing the simulation models (host, port, result files, percentiles,
//! sampling temperature) are listed, not refused; flags that change the load in a way servecast
//! cannot read are refused naming the flag.

pub mod genai_perf;
pub mod guidellm;
pub mod llmperf;
pub mod sglang;
pub mod vllm_bench;
pub mod vllm_offline;

use crate::spec::cmdline::shell_words;
use crate::workload::arrivals::{ConcurrencyLevel, Endpoint};
use crate::workload::datasets::{random_range_lengths, RandomRangeEra};
use crate::workload::lengths::LengthDist;
use crate::{Error, Result};

/// Where errors in a pasted client command are reported.
pub(crate) const ORIGIN: &str = "--client";

/// The load tester a command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientProgram {
    /// `vllm bench serve` (vLLM ≥ 0.10).
    VllmBenchServe,
    /// `benchmarks/benchmark_serving.py` (vLLM's client before `vllm bench serve`).
    BenchmarkServing,
    /// SGLang's `python -m sglang.bench_serving`.
    SglangBenchServing,
    /// ray-project llmperf's `token_benchmark_ray.py`.
    LlmPerf,
    /// NVIDIA GenAI-Perf, `genai-perf profile`.
    GenAiPerf,
    /// NVIDIA AIPerf, `aiperf profile`.
    AiPerf,
    /// GuideLLM, `guidellm benchmark`.
    GuideLlm,
    /// `vllm bench throughput` (vLLM ≥ 0.10): offline, every prompt to one `LLM.generate` call.
    VllmBenchThroughput,
    /// `benchmarks/benchmark_throughput.py`, its predecessor.
    BenchmarkThroughput,
    /// `vllm bench latency` (vLLM ≥ 0.10): offline, one batch per `LLM.generate` call.
    VllmBenchLatency,
    /// `benchmarks/benchmark_latency.py`, its predecessor.
    BenchmarkLatency,
}

impl ClientProgram {
    /// The program a command line runs, from the words before its first flag.
    fn of(program: &str) -> Option<ClientProgram> {
        let p = program.to_ascii_lowercase();
        // SGLang's script is `bench_serving.py`, run as a module or directly; vLLM's is
        // `benchmark_serving.py`.
        let sglang_script = p.contains("bench_serving") && !p.contains("benchmark_serving");
        Some(if p.contains("sglang") || sglang_script {
            ClientProgram::SglangBenchServing
        } else if p.contains("token_benchmark_ray") || p.contains("llmperf") {
            ClientProgram::LlmPerf
        } else if p.contains("genai-perf") || p.contains("genai_perf") {
            ClientProgram::GenAiPerf
        } else if p.contains("aiperf") {
            ClientProgram::AiPerf
        } else if p.contains("guidellm") {
            ClientProgram::GuideLlm
        } else if p.contains("benchmark_throughput") {
            ClientProgram::BenchmarkThroughput
        } else if p.contains("benchmark_latency") {
            ClientProgram::BenchmarkLatency
        } else if p.contains("bench") && p.split_whitespace().any(|w| w == "throughput") {
            ClientProgram::VllmBenchThroughput
        } else if p.contains("bench") && p.split_whitespace().any(|w| w == "latency") {
            ClientProgram::VllmBenchLatency
        } else if p.contains("benchmark_serving") {
            ClientProgram::BenchmarkServing
        } else if p.contains("bench") || p.is_empty() {
            ClientProgram::VllmBenchServe
        } else {
            return None;
        })
    }

    /// The program's name as its users call it.
    pub fn name(&self) -> &'static str {
        match self {
            ClientProgram::VllmBenchServe => "vllm bench serve",
            ClientProgram::BenchmarkServing => "benchmark_serving.py",
            ClientProgram::SglangBenchServing => "sglang.bench_serving",
            ClientProgram::LlmPerf => "llmperf",
            ClientProgram::GenAiPerf => "genai-perf",
            ClientProgram::AiPerf => "aiperf",
            ClientProgram::GuideLlm => "guidellm",
            ClientProgram::VllmBenchThroughput => "vllm bench throughput",
            ClientProgram::BenchmarkThroughput => "benchmark_throughput.py",
            ClientProgram::VllmBenchLatency => "vllm bench latency",
            ClientProgram::BenchmarkLatency => "benchmark_latency.py",
        }
    }

    /// Whether the program starts its own engine through vLLM's `LLM` class and hands it the
    /// prompts directly (no API server, no HTTP): the offline throughput and latency benchmarks.
    pub fn is_offline(&self) -> bool {
        matches!(
            self,
            ClientProgram::VllmBenchThroughput
                | ClientProgram::BenchmarkThroughput
                | ClientProgram::VllmBenchLatency
                | ClientProgram::BenchmarkLatency
        )
    }
}

/// The prompts a client command sends and the answers it asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientDataset {
    /// First turns of ShareGPT conversations as vLLM's (and SGLang's) client samples them,
    /// `max_tokens` the reference answer's length, or `output_len` for every request.
    Sharegpt {
        /// `--sharegpt-output-len`, tokens.
        output_len: Option<u32>,
    },
    /// vLLM's `random` dataset: prompts of `input_len` tokens, answers of `output_len`, spread by
    /// `--random-range-ratio` as the client release draws it ([`RandomRangeEra`]).
    VllmRandom {
        /// Prompt tokens.
        input_len: u32,
        /// Output tokens.
        output_len: u32,
        /// `--random-range-ratio` (none: the client's default); the prompts' one when the
        /// command gives the two sides apart.
        range_ratio: Option<f64>,
        /// vLLM ≥ 0.20's `--random-range-ratio '{"input": a, "output": b}'`: the answers' ratio
        /// (none: `range_ratio` for both).
        output_range_ratio: Option<f64>,
        /// `--random-prefix-len`: random tokens in front of every prompt, the same in each,
        /// on top of the drawn length.
        prefix_len: u32,
    },
    /// vLLM bench's `sonnet` dataset: lines of Shakespeare's sonnets after a fixed instruction,
    /// about `input_len` tokens with the chat template, the first lines the same in every prompt
    /// (see [`crate::workload::datasets::sonnet_prompts`]); `output_len` tokens asked for.
    Sonnet {
        /// `--sonnet-input-len`, tokens (chat template included).
        input_len: u32,
        /// `--sonnet-prefix-len`, tokens (chat template included).
        prefix_len: u32,
        /// `--sonnet-output-len`: `max_tokens`, tokens.
        output_len: u32,
        /// The model family the lengths are counted with.
        template: crate::workload::datasets::SonnetTemplate,
        /// Sent to the chat endpoint (the raw prompt; the server adds the template).
        chat: bool,
    },
    /// Lengths the command fixes whatever the release: synthetic prompts of another tester.
    Lengths {
        /// Prompt lengths, tokens.
        input: LengthDist,
        /// Output lengths (`max_tokens`), tokens; none: the command sends no limit, so the
        /// model's answers end where it chooses and `--output-len` must say where.
        output: Option<LengthDist>,
    },
}

/// How a client command offers its requests.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientLoad {
    /// Open loop: one level per rate (requests per second; infinity: all at once), gaps drawn
    /// from a gamma of shape `burstiness` (1: Poisson), optionally behind a cap on requests
    /// outstanding.
    Rates {
        /// Request rates, requests per second, one level each.
        qps: Vec<f64>,
        /// Requests sent per level.
        num_requests: u32,
        /// Requests sent at each level when they differ (a duration at several rates).
        num_requests_per_level: Option<Vec<u32>>,
        /// Most requests outstanding at once; none: unlimited.
        max_concurrency: Option<u32>,
        /// Gamma shape of the gaps (1: Poisson; `f64::INFINITY`: evenly spaced).
        burstiness: f64,
    },
    /// A shared queue of requests, at most `concurrency` outstanding, one level each: a fixed
    /// number of concurrent streams, each sending its next request when the last one ends.
    Concurrency {
        /// The levels; a level of 0 requests runs for [`ClientCommand::max_seconds_per_run`]
        /// instead, its count set from the simulated request rate.
        levels: Vec<ConcurrencyLevel>,
    },
    /// GuideLLM's sweep: constant rates evenly spaced from the synchronous run's request rate to
    /// the throughput run's (both simulated first), the last at the throughput rate.
    Sweep {
        /// Constant-rate runs (the sweep's size less the synchronous and throughput runs).
        constant_rates: u32,
        /// Most requests in flight in the throughput and constant-rate runs.
        max_concurrency: u32,
        /// Gamma shape of the rate runs' gaps: `f64::INFINITY` evenly spaced (GuideLLM's
        /// default), 1 Poisson (0.7's `strategy_type=poisson`).
        burstiness: f64,
    },
}

/// A client command as servecast reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientCommand {
    /// The load tester.
    pub program: ClientProgram,
    /// Prompts and their lengths.
    pub dataset: ClientDataset,
    /// How requests are offered.
    pub load: ClientLoad,
    /// The endpoint (`/v1/chat/completions` or `/v1/completions`).
    pub endpoint: Endpoint,
    /// The model the command asks the server for.
    pub model: Option<String>,
    /// Flags read but without effect on the simulation (host, result files, …), as written.
    pub ignored: Vec<String>,
    /// What servecast assumed in reading the command (an approximation, a default of the
    /// program's that the simulation cannot follow exactly).
    pub notes: Vec<String>,
    /// Prompts sharing a prefix: `(groups, tokens)`, request i in group i mod groups, its first
    /// `tokens` tokens those of its group (vLLM bench's `--random-prefix-len` and
    /// `prefix_repetition` dataset, SGLang's `generated-shared-prefix`).
    pub shared_prefix: Option<(u32, u32)>,
    /// Requests per run when the tester counts them per run (GuideLLM's `--max-requests`).
    pub max_requests_per_run: Option<u32>,
    /// The tester's duration limit per run, seconds (GuideLLM's `--max-seconds`), where it and
    /// not a count ends a run.
    pub max_seconds_per_run: Option<f64>,
    /// The tester sends the first prompt once, to completion, before each timed run (vLLM's
    /// initial test run, SGLang's warm-up): see
    /// [`crate::workload::arrivals::WorkloadSpec::initial_test_run`].
    pub test_prompt: bool,
    /// An offline benchmark's engine arguments (`--model M --max-num-seqs 128 …`), as words a
    /// `vllm serve` command would carry: the benchmark starts the engine itself. Empty for the
    /// load testers that send requests to a running server.
    pub engine_args: Vec<String>,
}

impl ClientLoad {
    /// One open-loop level: `num_requests` at `qps` requests per second (infinity: all at once),
    /// gamma gaps of shape `burstiness`, optionally behind a cap on requests outstanding — what
    /// every single-run load tester's command comes to.
    pub fn one_rate(qps: f64, num_requests: u32, max_concurrency: Option<u32>, burstiness: f64) -> ClientLoad {
        ClientLoad::Rates {
            qps: vec![qps],
            num_requests,
            num_requests_per_level: None,
            max_concurrency,
            burstiness,
        }
    }
}

impl ClientCommand {
    /// A command of `program` sending `dataset` under `load` to `endpoint`, with nothing else
    /// read: no model, no flags ignored or notes, no per-run limits, shared prefix or test prompt
    /// (each tester's reader sets the fields its command gives).
    fn new(program: ClientProgram, dataset: ClientDataset, load: ClientLoad, endpoint: Endpoint) -> ClientCommand {
        ClientCommand {
            program,
            dataset,
            load,
            endpoint,
            model: None,
            ignored: Vec::new(),
            notes: Vec::new(),
            shared_prefix: None,
            max_requests_per_run: None,
            max_seconds_per_run: None,
            test_prompt: false,
            engine_args: Vec::new(),
        }
    }

    /// Parses a pasted command line (quoted as a shell would; `--flag=value` accepted), naming
    /// the load tester from the words before its first flag.
    pub fn parse(line: &str) -> Result<ClientCommand> {
        let words = shell_words(line).map_err(|_| Error::invalid(ORIGIN, "command", "an unterminated quote"))?;
        // `python -m sglang.bench_serving …`: the module is the program, not a flag's value.
        let module = words
            .iter()
            .position(|w| w == "-m")
            .filter(|&i| i > 0 && words[i - 1].contains("python") && i + 1 < words.len())
            .map_or(0, |i| i + 2);
        let first_flag = words
            .iter()
            .skip(module)
            .position(|w| w.starts_with('-'))
            .map_or(words.len(), |i| i + module);
        let program_words = words[..first_flag].join(" ");
        let Some(program) = ClientProgram::of(&program_words) else {
            return Err(Error::invalid(
                ORIGIN,
                "command",
                format!(
                    "'{program_words}' is not a load tester servecast reads: paste a `vllm bench serve …`, \
                     `python benchmarks/benchmark_serving.py …`, `python -m sglang.bench_serving …`, \
                     `python token_benchmark_ray.py …` (llmperf), `genai-perf profile …`, `aiperf profile …`, \
                     `guidellm benchmark …`, or an offline `vllm bench throughput …` / `vllm bench latency …` \
                     command"
                ),
            ));
        };
        let flags = Flags::new(&words[first_flag..]);
        match program {
            ClientProgram::VllmBenchServe | ClientProgram::BenchmarkServing => vllm_bench::parse(program, flags),
            ClientProgram::SglangBenchServing => sglang::parse(flags),
            ClientProgram::LlmPerf => llmperf::parse(flags),
            ClientProgram::GenAiPerf | ClientProgram::AiPerf => genai_perf::parse(program, flags),
            ClientProgram::GuideLlm => guidellm::parse(flags),
            ClientProgram::VllmBenchThroughput
            | ClientProgram::BenchmarkThroughput
            | ClientProgram::VllmBenchLatency
            | ClientProgram::BenchmarkLatency => vllm_offline::parse(program, flags),
        }
    }

    /// With vLLM bench's sonnet dataset, counts the prompts again for what servecast's own command
    /// line says: the served `model`'s family when the command names no `--model`, and the
    /// `endpoint` the requests go to (the chat endpoint's template is the server's to add).
    pub fn recount_sonnet(&mut self, model: Option<&str>, endpoint: Endpoint) -> Result<()> {
        if let ClientDataset::Sonnet {
            input_len,
            prefix_len,
            output_len,
            chat,
            ..
        } = &self.dataset
        {
            let model = self.model.as_deref().or(model);
            let chat_now = endpoint == Endpoint::Chat;
            if model.is_none() && chat_now == *chat {
                return Ok(());
            }
            let (dataset, prefix, note) = vllm_bench::sonnet(model, *input_len, *prefix_len, *output_len, chat_now)?;
            self.dataset = dataset;
            self.shared_prefix = prefix;
            self.notes.retain(|n| !n.starts_with(vllm_bench::SONNET_NOTE));
            self.notes.extend(note);
        }
        Ok(())
    }

    /// Whether the levels are set from the server's own simulated rates (GuideLLM's sweep, a run
    /// bounded by time at a concurrency): each configuration of a sweep would offer other load.
    pub fn levels_depend_on_the_server(&self) -> bool {
        match &self.load {
            ClientLoad::Sweep { .. } => true,
            ClientLoad::Concurrency { levels } => levels.iter().any(|l| l.num_requests == 0),
            ClientLoad::Rates { .. } => false,
        }
    }

    /// Prompt and output length distributions; vLLM's random dataset spread as `era`'s client
    /// draws it. No output lengths: the command sets no `max_tokens`.
    pub fn lengths(&self, era: RandomRangeEra) -> Result<(LengthDist, Option<LengthDist>)> {
        let sharegpt = || LengthDist::Dataset {
            name: "sharegpt".into(),
            part: None,
            mean: None,
            max: None,
        };
        match &self.dataset {
            ClientDataset::Sharegpt { output_len } => Ok((
                sharegpt(),
                Some(match output_len {
                    Some(n) => LengthDist::Fixed { tokens: *n },
                    None => sharegpt(),
                }),
            )),
            ClientDataset::VllmRandom {
                input_len,
                output_len,
                range_ratio,
                output_range_ratio,
                prefix_len,
            } => {
                let ratio = range_ratio.unwrap_or(match era {
                    RandomRangeEra::Y2024 => 1.0,
                    _ => 0.0,
                });
                let output_ratio = match output_range_ratio {
                    None => ratio,
                    Some(_) if era != RandomRangeEra::Current => {
                        return Err(Error::invalid(
                            ORIGIN,
                            "--random-range-ratio",
                            "this client takes one number; the {\"input\": …, \"output\": …} form is vLLM 0.20's",
                        ))
                    }
                    Some(out) => {
                        for (side, r) in [("input", ratio), ("output", *out)] {
                            if !(r.is_finite() && (0.0..1.0).contains(&r)) {
                                return Err(Error::invalid(
                                    ORIGIN,
                                    "--random-range-ratio",
                                    format!("{side}_range_ratio must be in [0, 1)."),
                                ));
                            }
                        }
                        *out
                    }
                };
                let input = match random_range_lengths(*input_len, ratio, era, ORIGIN)? {
                    LengthDist::Fixed { tokens } => LengthDist::Fixed {
                        tokens: tokens.saturating_add(*prefix_len),
                    },
                    LengthDist::Uniform { min, max } => LengthDist::Uniform {
                        min: min.saturating_add(*prefix_len),
                        max: max.saturating_add(*prefix_len),
                    },
                    other => other,
                };
                Ok((
                    input,
                    Some(random_range_lengths(*output_len, output_ratio, era, ORIGIN)?),
                ))
            }
            ClientDataset::Sonnet {
                input_len,
                prefix_len,
                output_len,
                template,
                chat,
            } => {
                let p =
                    crate::workload::datasets::sonnet_prompts(template, *input_len, *prefix_len, *chat, era, ORIGIN)?;
                Ok((p.input, Some(LengthDist::Fixed { tokens: *output_len })))
            }
            ClientDataset::Lengths { input, output } => Ok((input.clone(), output.clone())),
        }
    }
}

/// Whether a load-test command line (as a report prints it: possibly inside a shell loop, with
/// variables) sends its first prompt once before the timed run, so that with prefix caching on
/// the first request finds its prompt cached. vLLM's `benchmark_serving.py` and `vllm bench
/// serve` send it ("Starting initial single prompt test run…") unless
/// `--ready-check-timeout-sec 0`, and `--num-warmups N` sends it N more times; SGLang's
/// `bench_serving` sends `--warmup-requests` (default 1) copies of it. Another tester, or a command servecast cannot place (a fork such as Neural
/// Magic's, whose test prompt is optional): None.
pub fn sends_test_prompt(line: &str) -> Option<bool> {
    // Name the tester by its script, strictly: a report's command may be another tool's whose
    // name merely contains "bench".
    let lower = line.to_ascii_lowercase();
    let sglang = lower.contains("sglang.bench_serving")
        || (lower.contains("bench_serving.py") && !lower.contains("benchmark_serving"));
    let vllm = !sglang && (lower.contains("benchmark_serving") || lower.contains("vllm bench serve"));
    if lower.contains("neuralmagic") || !(sglang || vllm) {
        return None;
    }
    if let Ok(c) = ClientCommand::parse(line) {
        if (c.program == ClientProgram::SglangBenchServing) == sglang {
            return Some(c.test_prompt);
        }
    }
    // A command the parser refuses (a shell loop, a variable for a value): read the one flag
    // that turns the test prompt off.
    let words = shell_words(line).unwrap_or_default();
    let value_of = |flag: &str| -> Option<String> {
        words.iter().enumerate().find_map(|(i, w)| {
            let w = w.replace('_', "-");
            match w.split_once('=') {
                Some((f, v)) if f == flag => Some(v.to_string()),
                _ if w == flag => words.get(i + 1).cloned(),
                _ => None,
            }
        })
    };
    // A value as the shell passes it: `3;` ends a command inside a loop.
    let number_of =
        |flag: &str| value_of(flag).and_then(|v| v.trim().trim_end_matches([';', '&', '|']).parse::<f64>().ok());
    let zero = |flag: &str| number_of(flag) == Some(0.0);
    let positive = |flag: &str| number_of(flag).is_some_and(|v| v > 0.0);
    Some(if sglang {
        !zero("--warmup-requests")
    } else {
        !zero("--ready-check-timeout-sec") || positive("--num-warmups")
    })
}

/// One flag of a command line and its value as written.
pub(crate) struct Flag {
    /// The flag, `_` read as `-` (`--num_prompts` is `--num-prompts`).
    pub name: String,
    /// The value after `=`, if written so.
    inline: Option<String>,
}

/// Walks a command line's flags: `--flag value`, `--flag=value` and bare switches.
pub(crate) struct Flags<'a> {
    words: std::iter::Peekable<std::slice::Iter<'a, String>>,
}

impl<'a> Flags<'a> {
    fn new(words: &'a [String]) -> Flags<'a> {
        Flags {
            words: words.iter().peekable(),
        }
    }

    /// The next flag; a word that is neither a flag nor a flag's value is refused.
    pub fn next_flag(&mut self) -> Result<Option<Flag>> {
        let Some(word) = self.words.next() else {
            return Ok(None);
        };
        let (name, inline) = match word.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f.to_string(), Some(v.to_string())),
            _ => (word.clone(), None),
        };
        if !name.starts_with('-') {
            return Err(Error::invalid(
                ORIGIN,
                "command",
                format!("'{word}' is no flag nor a flag's value"),
            ));
        }
        Ok(Some(Flag {
            name: name.replace('_', "-"),
            inline,
        }))
    }

    /// The flag's value if it has one: after `=`, else the next word unless that is a flag
    /// (a negative number is a value).
    pub fn value(&mut self, flag: &Flag) -> Option<String> {
        flag.inline.clone().or_else(|| {
            self.words
                .next_if(|w| !w.starts_with('-') || w.parse::<f64>().is_ok())
                .cloned()
        })
    }

    /// The flag's value, which it needs.
    pub fn need(&mut self, flag: &Flag) -> Result<String> {
        self.value(flag)
            .ok_or_else(|| Error::invalid(ORIGIN, &flag.name, "needs a value"))
    }

    /// The flag as written with its value, if any: for the list of flags without effect.
    pub fn shown(&mut self, flag: &Flag) -> String {
        match self.value(flag) {
            Some(v) => format!("{} {v}", flag.name),
            None => flag.name.clone(),
        }
    }
}

/// A `--dataset-name` servecast does not read from a command: names the ones it reads.
pub(crate) fn unread_dataset(name: &str, read: &str) -> Error {
    Error::invalid(
        ORIGIN,
        "--dataset-name",
        format!(
            "'{name}': servecast reads the {read} datasets from a client command; for another, give \
             --input-len/--output-len, a workload file or the run's result file"
        ),
    )
}

/// A whole number ≥ 1.
pub(crate) fn count(flag: &str, text: &str) -> Result<u32> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| Error::invalid(ORIGIN, flag, format!("'{text}' must be a whole number ≥ 1")))
}

/// A whole number ≥ 0.
pub(crate) fn count_or_zero(flag: &str, text: &str) -> Result<u32> {
    text.trim()
        .parse::<u32>()
        .map_err(|_| Error::invalid(ORIGIN, flag, format!("'{text}' must be a whole number ≥ 0")))
}

/// A finite number.
pub(crate) fn number(flag: &str, text: &str) -> Result<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| Error::invalid(ORIGIN, flag, format!("'{text}' is not a number")))
}

/// A rate in requests per second, > 0, or `inf`.
pub(crate) fn rate(flag: &str, text: &str) -> Result<f64> {
    if text.trim().eq_ignore_ascii_case("inf") {
        return Ok(f64::INFINITY);
    }
    let r = number(flag, text)?;
    if r <= 0.0 {
        return Err(Error::invalid(ORIGIN, flag, format!("'{text}' must be > 0 or inf")));
    }
    Ok(r)
}

/// A length a synthetic-prompt generator draws from a normal of `mean` ± `sd` tokens, at least
/// 1 (redrawn below it); a fixed length when `sd` is 0.
pub(crate) fn normal_lengths(mean: u32, sd: f64) -> LengthDist {
    if sd == 0.0 {
        LengthDist::Fixed { tokens: mean.max(1) }
    } else {
        LengthDist::Normal {
            mean: f64::from(mean),
            sd,
            min: 1,
            max: u32::MAX,
        }
    }
}

/// A standard deviation in tokens: a finite number ≥ 0.
pub(crate) fn std_dev(flag: &str, text: &str) -> Result<f64> {
    let v = number(flag, text)?;
    if v < 0.0 {
        return Err(Error::invalid(ORIGIN, flag, format!("'{text}' must be ≥ 0")));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vllm_and_sglang_clients_send_the_first_prompt_before_the_run() {
        for (line, sends) in [
            ("vllm bench serve --model m --num-prompts 1", Some(true)),
            ("vllm bench serve --model m --ready-check-timeout-sec 0", Some(false)),
            ("vllm bench serve --model m --ready-check-timeout-sec=600", Some(true)),
            // The warm-ups send the same first prompt, with or without the ready check.
            ("vllm bench serve --model m --ready-check-timeout-sec 0 --num-warmups 2", Some(true)),
            ("vllm bench serve --model m --ready-check-timeout-sec 0 --num-warmups 0", Some(false)),
            (
                "for C in 1 2; do vllm bench serve --max-concurrency $C --ready-check-timeout-sec 0 --num-warmups 3; done",
                Some(true),
            ),
            (
                "python benchmarks/benchmark_serving.py --backend vllm --model m",
                Some(true),
            ),
            ("python -m sglang.bench_serving --backend vllm", Some(true)),
            (
                "python -m sglang.bench_serving --backend vllm --warmup-requests 0",
                Some(false),
            ),
            // SGLang's script run directly, with an argparse abbreviation the parser refuses.
            (
                "python3 bench_serving.py --backend vllm --random-input 3200 --warmup-requests 0",
                Some(false),
            ),
            // A shell loop around vLLM's script: read by its script's name.
            (
                "for QPS in 1 2; do python3 benchmarks/benchmark_serving.py --request-rate $QPS; done",
                Some(true),
            ),
            // Other testers send no such prompt; a tool merely named like a benchmark is unknown.
            ("python token_benchmark_ray.py --model m", None),
            ("genai-perf profile -m m --endpoint-type chat", None),
            ("inferencebench run of suite llm.inference.sharegpt-v3", None),
            (
                "python3 -m neuralmagic.benchmarks.scripts.benchmark_serving --model m",
                None,
            ),
            ("", None),
        ] {
            assert_eq!(sends_test_prompt(line), sends, "{line}");
        }
        // As read by --client, every tester says.
        for (line, sends) in [
            ("vllm bench serve --model m", true),
            ("vllm bench serve --model m --ready-check-timeout-sec 0", false),
            (
                "python -m sglang.bench_serving --backend vllm --warmup-requests 2",
                true,
            ),
            (
                "python token_benchmark_ray.py --model m --mean-input-tokens 100 --mean-output-tokens 10",
                false,
            ),
        ] {
            assert_eq!(
                ClientCommand::parse(line).map(|c| c.test_prompt).ok(),
                Some(sends),
                "{line}"
            );
        }
    }

    #[test]
    fn the_program_is_named_by_the_words_before_the_first_flag() {
        for (line, program) in [
            ("vllm bench serve --model m", ClientProgram::VllmBenchServe),
            (
                "python3 benchmarks/benchmark_serving.py --model m",
                ClientProgram::BenchmarkServing,
            ),
            (
                "python -m sglang.bench_serving --backend vllm",
                ClientProgram::SglangBenchServing,
            ),
            ("python token_benchmark_ray.py --model m", ClientProgram::LlmPerf),
            ("genai-perf profile -m m --endpoint-type chat", ClientProgram::GenAiPerf),
            ("aiperf profile --model m", ClientProgram::AiPerf),
            (
                "guidellm benchmark --target http://localhost:8000 --data prompt_tokens=8,output_tokens=8",
                ClientProgram::GuideLlm,
            ),
        ] {
            match ClientCommand::parse(line) {
                Ok(c) => assert_eq!(c.program, program, "{line}"),
                Err(e) => panic!("{line}: {e}"),
            }
        }
        match ClientCommand::parse("locust -f load.py") {
            Err(Error::InvalidField { message, .. }) => assert!(message.contains("not a load tester")),
            other => panic!("{other:?}"),
        }
    }
}
