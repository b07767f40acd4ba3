//! Workload specifications (who sends what, when) and their expansion into concrete requests.

use serde::{Deserialize, Serialize};

use super::lengths::LengthDist;
use super::numpy_draws;
use super::rng::SimRng;
use crate::engine::{Clients, RequestSpec};
use crate::error::{Error, Result};
use crate::units::secs_to_nanos;

/// The most requests one run simulates, summed over all its load levels (and so the most one
/// level may send). Each simulated request costs memory for its record and its timeline (a run of
/// 12.5 million requests over several levels took 99 s and 5 GB), so the cap holds for the run,
/// not per level. A sweep applies it to each configuration.
pub const MAX_REQUESTS_PER_RUN: u64 = 10_000_000;

/// One request of a trace.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceRequest {
    /// When it is sent, seconds from the start.
    pub arrival_s: f64,
    /// Prompt tokens.
    pub input_tokens: u32,
    /// Tokens to generate.
    pub output_tokens: u32,
}

/// The placeholder of a length a file left out (0 tokens, which no real length is).
fn unset_length() -> LengthDist {
    LengthDist::Fixed { tokens: 0 }
}

/// A trace's mean prompt and output lengths as fixed lengths (at least 1 token each).
pub fn trace_mean_lengths(requests: &[TraceRequest]) -> (LengthDist, LengthDist) {
    let n = requests.len().max(1) as f64;
    let mean = |f: fn(&TraceRequest) -> u32| -> LengthDist {
        let total: f64 = requests.iter().map(|r| f64::from(f(r))).sum();
        LengthDist::Fixed {
            tokens: (total / n).round().clamp(1.0, f64::from(u32::MAX)) as u32,
        }
    };
    (mean(|r| r.input_tokens), mean(|r| r.output_tokens))
}

/// One level of a [`LoadSpec::MaxConcurrency`] load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConcurrencyLevel {
    /// Most requests outstanding at once.
    pub concurrency: u32,
    /// Requests sent in the level.
    pub num_requests: u32,
}

/// How load is offered: one simulation per listed level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LoadSpec {
    /// Closed loop: at each concurrency, that many users each send requests back to back.
    ClosedLoop {
        /// Concurrency levels (users), one simulation each.
        concurrency: Vec<u32>,
        /// Requests each user sends.
        requests_per_user: u32,
        /// Pause between a response and the user's next request, seconds.
        #[serde(default)]
        think_time_s: f64,
        /// Waves: each user's next request waits until every user's current one has ended, and
        /// all go out together (llmperf before 2024-12-09). False: each user on its own.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        waves: bool,
    },
    /// Open loop: Poisson arrivals at each request rate (`inf`: all due at once), optionally
    /// behind a semaphore of `max_concurrency` outstanding requests (`vllm bench serve`'s flags).
    Poisson {
        /// Request rates, requests per second, one simulation each.
        qps: Vec<f64>,
        /// Requests sent per level (may be left out when `num_requests_per_level` gives them).
        #[serde(default)]
        num_requests: u32,
        /// Most requests outstanding at once (`--max-concurrency`); none: unlimited.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_concurrency: Option<u32>,
        /// `--burstiness`: shape of the gamma inter-arrival times (1: Poisson; below 1 burstier,
        /// above 1 more regular; `.inf`: evenly spaced, GuideLLM's constant rate), the mean gap
        /// staying 1 ÷ rate.
        #[serde(default = "one_f64", skip_serializing_if = "is_one_f64")]
        burstiness: f64,
        /// Requests sent at each level when they differ (overrides `num_requests` level by level).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        num_requests_per_level: Option<Vec<u32>>,
        /// The gaps as vLLM's own client draws them (`benchmark_serving.py`, `vllm bench serve`),
        /// draw for draw; none: servecast's own Poisson draws.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_draws: Option<ClientDraws>,
    },
    /// A shared queue of requests, at most `concurrency` outstanding: `vllm bench serve
    /// --max-concurrency C --num-prompts N --request-rate inf`, or a thread pool of C workers.
    MaxConcurrency {
        /// One simulation per entry.
        levels: Vec<ConcurrencyLevel>,
    },
    /// A recorded trace, replayed once.
    Trace {
        /// The requests in send order.
        requests: Vec<TraceRequest>,
    },
}

/// How vLLM's load tester schedules Poisson arrivals ([`crate::workload::numpy_draws`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientDraws {
    /// The client's `--seed` (default 0): its gaps are numpy's legacy global `RandomState`
    /// seeded with it. Exact only when the dataset sampler drew nothing from that state first
    /// (ShareGPT, sonnet, a file; `random` from 0.11); servecast cannot tell, the report's
    /// assumptions say so.
    #[serde(default)]
    pub numpy_seed: u32,
    /// vLLM ≥ 0.10's client: a gap for every request (the first waits its own), cumulated and
    /// rescaled so that the last request is sent at exactly N ÷ rate seconds. False: the loop
    /// of 0.4–0.9, the first request at 0 and a gap after each.
    #[serde(default)]
    pub normalized_span: bool,
}

/// The offered load at one level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Closed-loop users.
    Concurrency(u32),
    /// Poisson request rate, requests per second.
    Qps(f64),
    /// A trace replay.
    Trace,
}

/// The OpenAI-compatible endpoint requests go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `/v1/completions`: the prompt goes to the engine as sent.
    #[default]
    Completions,
    /// `/v1/chat/completions`: the prompt is one user message in the model's chat template.
    Chat,
}

impl Endpoint {
    /// True for `/v1/completions` (the default, left out when a workload is written).
    pub fn is_completions(&self) -> bool {
        *self == Endpoint::Completions
    }
}

/// A workload: load levels and the token lengths of prompts and outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// How requests are sent.
    pub load: LoadSpec,
    /// Prompt length in tokens. A trace may leave it out (its requests carry their lengths;
    /// [`WorkloadSpec::fill_dataset_parts`] then sets it to the trace's mean, used only if the
    /// levels are changed).
    #[serde(default = "unset_length")]
    pub input_len: LengthDist,
    /// Output length in tokens: exactly this many with `ignore_eos`; otherwise what the model
    /// generated (a report's totals scale it), at most the client's max_tokens. A trace may
    /// leave it out.
    #[serde(default = "unset_length")]
    pub output_len: LengthDist,
    /// Whether the client sent `ignore_eos` (generation runs to max_tokens); none: not stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_eos: Option<bool>,
    /// Per-level prompt lengths (e.g. each imported run's recorded lengths), overriding `input_len`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_len_per_level: Option<Vec<LengthDist>>,
    /// Per-level output lengths (e.g. a report's recorded statistics per concurrency), overriding
    /// `output_len` level by level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_len_per_level: Option<Vec<LengthDist>>,
    /// Per-level target (None: a random deal) for the busiest closed-loop user's share of output tokens: its total ÷ the
    /// mean user's total. A closed-loop level lasts as long as its busiest user, so how lengths
    /// fall to users moves throughput by several percent; a report's total time and mean latency
    /// imply this ratio (total time ÷ (requests per user × mean latency)), and matching it
    /// reproduces the report's spread of work over users rather than one random deal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busiest_user_ratio_per_level: Option<Vec<Option<f64>>>,
    /// Number of distinct shared prompt prefixes (0: none; prefix caching has nothing to reuse).
    #[serde(default)]
    pub prefix_groups: u32,
    /// Tokens of each request's prompt shared within its group.
    #[serde(default)]
    pub shared_prefix_tokens: u32,
    /// The levels ran in the order listed against one long-lived server with the same sample of
    /// prompts (one client seed, as `vllm bench serve`'s default `--seed 0` at every level): with
    /// prefix caching on, a request from the second level on finds its twin's prompt (the same
    /// request of the level before) in the cache, as far as the cache kept it. Dataset lengths
    /// are then drawn alike at every level, as that client's sample was. Behind several replicas a
    /// twin is taken to have run on the same one (round-robin routing of one sample sends it
    /// there), and the blocks freed after it are counted over all replicas (an upper bound on
    /// its eviction). A benchmark artefact, off by default: a planning load sends new prompts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warm_prefix_cache: bool,
    /// The client sent the level's first prompt once, to completion, before timing the level:
    /// vLLM's `benchmark_serving.py` and `vllm bench serve` ("Starting initial single prompt test
    /// run…", skipped only by `--ready-check-timeout-sec 0`) and SGLang's `bench_serving`
    /// (`--warmup-requests`, default 1) do. With prefix caching on, the first request then finds
    /// its own prompt in the cache (all full blocks but the last token's), so its TTFT is a
    /// cache hit: noticeable when a level sends few requests. Behind several replicas the test
    /// prompt is taken to have reached the first request's replica. None: not stated (a
    /// measured report reads it from its client command; otherwise no test run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_test_run: Option<bool>,
    /// The OpenAI endpoint the client sends to (`vllm bench serve --backend openai` or
    /// `openai-chat`). A chat request's prompt is wrapped in the model's chat template on the
    /// server, and the client's prompt lengths (and a report's token totals) count only the
    /// message: the engine prefills the template's tokens as well.
    #[serde(default, skip_serializing_if = "Endpoint::is_completions")]
    pub endpoint: Endpoint,
    /// The model's chat template once resolved ([`WorkloadSpec::resolve_for_model`]); none for
    /// completions.
    #[serde(skip)]
    pub chat_template: Option<crate::spec::ChatTemplate>,
    /// TTS: the text length in characters; prompt and output lengths come from the model's text
    /// and speech rates when the scenario is built (overriding `input_len` and `output_len`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_chars: Option<u32>,
    /// TTS: the text length per level, characters (overrides `text_chars` level by level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_chars_per_level: Option<Vec<u32>>,
}

impl WorkloadSpec {
    /// The longest request the workload can send, prompt + output tokens: a trace's longest
    /// recorded request, else the longest prompt plus the longest output any level draws.
    pub fn longest_request_tokens(&self) -> u32 {
        let max_of = |base: &LengthDist, per: &Option<Vec<LengthDist>>| {
            per.iter()
                .flatten()
                .chain(std::iter::once(base))
                .map(|d| d.max_value())
                .max()
                .unwrap_or(0)
        };
        match &self.load {
            LoadSpec::Trace { requests } => requests
                .iter()
                .map(|r| r.input_tokens.saturating_add(r.output_tokens))
                .max()
                .unwrap_or(0),
            _ => max_of(&self.input_len, &self.input_len_per_level)
                .saturating_add(max_of(&self.output_len, &self.output_len_per_level)),
        }
    }

    /// A load with the given lengths at every level: no per-level overrides, prefixes or texts.
    pub fn new(load: LoadSpec, input_len: LengthDist, output_len: LengthDist) -> Self {
        WorkloadSpec {
            load,
            input_len,
            output_len,
            ignore_eos: None,
            input_len_per_level: None,
            output_len_per_level: None,
            busiest_user_ratio_per_level: None,
            prefix_groups: 0,
            shared_prefix_tokens: 0,
            warm_prefix_cache: false,
            initial_test_run: None,
            endpoint: Endpoint::Completions,
            chat_template: None,
            text_chars: None,
            text_chars_per_level: None,
        }
    }

    /// Closed-loop users at each concurrency with the given lengths and no per-level overrides.
    pub fn closed_loop(
        concurrency: Vec<u32>,
        requests_per_user: u32,
        input_len: LengthDist,
        output_len: LengthDist,
    ) -> Self {
        let load = LoadSpec::ClosedLoop {
            concurrency,
            requests_per_user,
            think_time_s: 0.0,
            waves: false,
        };
        WorkloadSpec::new(load, input_len, output_len)
    }

    /// Checks ranges; `origin` names the file or flag set in errors.
    pub fn validate(&self, origin: &str) -> Result<()> {
        for (field, d) in [("input_len", &self.input_len), ("output_len", &self.output_len)] {
            if *d == unset_length() {
                return Err(Error::invalid(
                    origin,
                    field,
                    "is required (only a trace, whose requests carry their own lengths, may leave it out)",
                ));
            }
        }
        self.input_len.validate(origin, "input_len")?;
        self.output_len.validate(origin, "output_len")?;
        if let Some(per_level) = &self.input_len_per_level {
            for (i, d) in per_level.iter().enumerate() {
                d.validate(origin, &format!("input_len_per_level[{i}]"))?;
            }
            if per_level.len() != self.levels().len() {
                return Err(Error::invalid(
                    origin,
                    "input_len_per_level",
                    format!(
                        "has {} entries but the load has {} levels",
                        per_level.len(),
                        self.levels().len()
                    ),
                ));
            }
        }
        if let Some(per_level) = &self.output_len_per_level {
            for (i, d) in per_level.iter().enumerate() {
                d.validate(origin, &format!("output_len_per_level[{i}]"))?;
            }
            if per_level.len() != self.levels().len() {
                return Err(Error::invalid(
                    origin,
                    "output_len_per_level",
                    format!(
                        "has {} entries but the load has {} levels",
                        per_level.len(),
                        self.levels().len()
                    ),
                ));
            }
        }
        if let Some(ratios) = &self.busiest_user_ratio_per_level {
            if ratios.len() != self.levels().len()
                || ratios
                    .iter()
                    .flatten()
                    .any(|r| !(r.is_finite() && *r >= 1.0 && *r <= 10.0))
            {
                return Err(Error::invalid(
                    origin,
                    "busiest_user_ratio_per_level",
                    "needs one ratio per level, each in [1, 10]",
                ));
            }
        }
        match &self.load {
            LoadSpec::ClosedLoop {
                concurrency,
                requests_per_user,
                think_time_s,
                waves: _,
            } => {
                if concurrency.is_empty() || concurrency.contains(&0) {
                    return Err(Error::invalid(
                        origin,
                        "concurrency",
                        "needs one or more levels, each ≥ 1 user",
                    ));
                }
                if *requests_per_user == 0 {
                    return Err(Error::invalid(origin, "requests_per_user", "must be ≥ 1"));
                }
                if !(think_time_s.is_finite() && (0.0..=1e6).contains(think_time_s)) {
                    return Err(Error::invalid(
                        origin,
                        "think_time_s",
                        "must be in [0, 1,000,000] seconds",
                    ));
                }
                if concurrency
                    .iter()
                    .any(|&c| c as u64 * *requests_per_user as u64 > MAX_REQUESTS_PER_RUN)
                {
                    return Err(Error::invalid(
                        origin,
                        "concurrency",
                        "concurrency × requests_per_user must be ≤ 10,000,000",
                    ));
                }
            }
            LoadSpec::Poisson {
                qps,
                num_requests,
                max_concurrency,
                burstiness,
                num_requests_per_level,
                client_draws,
            } => {
                if client_draws.is_some() && *burstiness != 1.0 {
                    return Err(Error::invalid(
                        origin,
                        "client_draws",
                        format!(
                            "reproduces numpy's exponential gaps (burstiness 1) only; with burstiness \
                             {burstiness} leave client_draws (--client-seed) out and servecast draws its own \
                             gamma gaps"
                        ),
                    ));
                }
                if qps.is_empty() || qps.iter().any(|q| q.is_nan() || *q <= 0.0) {
                    return Err(Error::invalid(
                        origin,
                        "qps",
                        "needs one or more request rates, each > 0 req/s (inf: all sent at once)",
                    ));
                }
                if !((0.01..=100.0).contains(burstiness) || *burstiness == f64::INFINITY) {
                    return Err(Error::invalid(
                        origin,
                        "burstiness",
                        format!("{burstiness} is outside [0.01, 100] (1 = Poisson; .inf: evenly spaced)"),
                    ));
                }
                if let Some(per) = num_requests_per_level {
                    if per.len() != qps.len() || per.iter().any(|&n| n == 0 || u64::from(n) > MAX_REQUESTS_PER_RUN) {
                        return Err(Error::invalid(
                            origin,
                            "num_requests_per_level",
                            format!("needs one count per rate ({} rates), each in 1..=10,000,000", qps.len()),
                        ));
                    }
                }
                if *max_concurrency == Some(0) {
                    return Err(Error::invalid(origin, "max_concurrency", "must be ≥ 1"));
                }
                if qps.iter().any(|q| *num_requests as f64 / q > 1e8) {
                    return Err(Error::invalid(
                        origin,
                        "qps",
                        "num_requests ÷ qps must be ≤ 100,000,000 s of simulated time",
                    ));
                }
                if num_requests_per_level.is_none()
                    && (*num_requests == 0 || u64::from(*num_requests) > MAX_REQUESTS_PER_RUN)
                {
                    return Err(Error::invalid(origin, "num_requests", "must be in 1..=10,000,000"));
                }
            }
            LoadSpec::MaxConcurrency { levels } => {
                if levels.is_empty() {
                    return Err(Error::invalid(origin, "levels", "needs one or more levels"));
                }
                for (i, l) in levels.iter().enumerate() {
                    if l.concurrency == 0 || l.num_requests == 0 || u64::from(l.num_requests) > MAX_REQUESTS_PER_RUN {
                        return Err(Error::invalid(
                            origin,
                            format!("levels[{i}]"),
                            "concurrency must be ≥ 1 and num_requests in 1..=10,000,000",
                        ));
                    }
                }
            }
            LoadSpec::Trace { requests } => {
                if requests.is_empty() {
                    return Err(Error::invalid(origin, "requests", "a trace needs at least one request"));
                }
                for (i, r) in requests.iter().enumerate() {
                    if !(r.arrival_s.is_finite() && (0.0..=1e8).contains(&r.arrival_s)) {
                        return Err(Error::invalid(
                            origin,
                            format!("requests[{i}].arrival_s"),
                            "must be in [0, 100,000,000] seconds",
                        ));
                    }
                    if r.input_tokens == 0 || r.output_tokens == 0 {
                        return Err(Error::invalid(
                            origin,
                            format!("requests[{i}]"),
                            "token counts must be ≥ 1",
                        ));
                    }
                }
            }
        }
        self.check_total_requests(origin)
    }

    /// Requests simulated over all levels of one run.
    pub fn total_requests(&self) -> u64 {
        match &self.load {
            LoadSpec::ClosedLoop {
                concurrency,
                requests_per_user,
                ..
            } => concurrency
                .iter()
                .map(|&c| u64::from(c) * u64::from(*requests_per_user))
                .sum(),
            LoadSpec::Poisson {
                qps,
                num_requests,
                num_requests_per_level,
                ..
            } => match num_requests_per_level {
                Some(per) => per.iter().map(|&n| u64::from(n)).sum(),
                None => u64::from(*num_requests) * qps.len() as u64,
            },
            LoadSpec::MaxConcurrency { levels } => levels.iter().map(|l| u64::from(l.num_requests)).sum(),
            LoadSpec::Trace { requests } => requests.len() as u64,
        }
    }

    /// Refuses a run whose levels add up to more than [`MAX_REQUESTS_PER_RUN`] requests, naming
    /// the field that sets the count.
    fn check_total_requests(&self, origin: &str) -> Result<()> {
        let total = self.total_requests();
        if total <= MAX_REQUESTS_PER_RUN {
            return Ok(());
        }
        let field = match &self.load {
            LoadSpec::ClosedLoop { .. } => "concurrency × requests_per_user",
            LoadSpec::Poisson {
                num_requests_per_level: Some(_),
                ..
            } => "num_requests_per_level",
            LoadSpec::Poisson { .. } => "num_requests",
            LoadSpec::MaxConcurrency { .. } => "levels[].num_requests",
            LoadSpec::Trace { .. } => "requests",
        };
        Err(Error::invalid(
            origin,
            field,
            format!(
                "the {} levels add up to {} requests; one run simulates 1..={} requests in total over all its \
                 levels (fewer levels or fewer requests per level)",
                self.levels().len(),
                crate::memory::thousands(total),
                crate::memory::thousands(MAX_REQUESTS_PER_RUN),
            ),
        ))
    }

    /// The levels simulated, in order.
    pub fn levels(&self) -> Vec<Level> {
        match &self.load {
            LoadSpec::ClosedLoop { concurrency, .. } => concurrency.iter().map(|&c| Level::Concurrency(c)).collect(),
            LoadSpec::Poisson { qps, .. } => qps.iter().map(|&q| Level::Qps(q)).collect(),
            LoadSpec::MaxConcurrency { levels } => levels.iter().map(|l| Level::Concurrency(l.concurrency)).collect(),
            LoadSpec::Trace { .. } => vec![Level::Trace],
        }
    }

    /// Forgets the measured deal of requests to users at level `index` (so a held-out level is
    /// predicted from a random deal, not from its own measured total time).
    pub fn forget_user_deal(&mut self, index: usize) {
        if let Some(r) = self
            .busiest_user_ratio_per_level
            .as_mut()
            .and_then(|v| v.get_mut(index))
        {
            *r = None;
        }
    }

    /// Replaces the closed-loop levels, keeping per-level data for levels that stay.
    pub fn set_concurrency(&mut self, levels: Vec<u32>, requests_per_user: Option<u32>) {
        self.input_len_per_level = None;
        if let LoadSpec::MaxConcurrency { levels: old } = &self.load {
            // A shared queue stays a shared queue: N requests per level, N = users × per-user count.
            let per_user = requests_per_user.unwrap_or_else(|| {
                old.last()
                    .map_or(10, |l| (l.num_requests / l.concurrency.max(1)).max(1))
            });
            let old = old.clone();
            if let Some(per_level) = &self.output_len_per_level {
                let kept = levels
                    .iter()
                    .map(|c| {
                        old.iter()
                            .position(|o| o.concurrency == *c)
                            .and_then(|i| per_level.get(i).cloned())
                            .unwrap_or_else(|| self.output_len.clone())
                    })
                    .collect();
                self.output_len_per_level = Some(kept);
            }
            self.busiest_user_ratio_per_level = None;
            self.load = LoadSpec::MaxConcurrency {
                levels: levels
                    .into_iter()
                    .map(|c| ConcurrencyLevel {
                        concurrency: c,
                        num_requests: c.saturating_mul(per_user),
                    })
                    .collect(),
            };
            return;
        }
        let (old_levels, old_rpu, think, waves) = match &self.load {
            LoadSpec::ClosedLoop {
                concurrency,
                requests_per_user,
                think_time_s,
                waves,
            } => (concurrency.clone(), *requests_per_user, *think_time_s, *waves),
            _ => (Vec::new(), 10, 0.0, false),
        };
        let rpu = requests_per_user.unwrap_or(old_rpu);
        let position = |c: &u32| old_levels.iter().position(|o| o == c);
        if let Some(per_level) = &self.output_len_per_level {
            let kept = levels
                .iter()
                .map(|c| {
                    position(c)
                        .and_then(|i| per_level.get(i).cloned())
                        .unwrap_or_else(|| self.output_len.clone())
                })
                .collect();
            self.output_len_per_level = Some(kept);
        }
        // The busiest-user ratios describe the report's deal of requests; they hold only where
        // the level and the requests per user are the report's.
        if let Some(ratios) = &self.busiest_user_ratio_per_level {
            let kept: Vec<Option<f64>> = levels
                .iter()
                .map(|c| {
                    if rpu == old_rpu {
                        position(c).and_then(|i| ratios.get(i).copied().flatten())
                    } else {
                        None
                    }
                })
                .collect();
            self.busiest_user_ratio_per_level = kept.iter().any(Option::is_some).then_some(kept);
        }
        self.load = LoadSpec::ClosedLoop {
            concurrency: levels,
            requests_per_user: rpu,
            think_time_s: think,
            waves,
        };
    }

    /// Replaces the load with a shared queue per level: `num_requests` requests, at most
    /// `concurrency` outstanding (per-level data of the old load is dropped).
    pub fn set_shared_queue(&mut self, levels: Vec<ConcurrencyLevel>) {
        self.input_len_per_level = None;
        self.output_len_per_level = None;
        self.busiest_user_ratio_per_level = None;
        self.load = LoadSpec::MaxConcurrency { levels };
    }

    /// Replaces the load with Poisson arrivals (per-level closed-loop data is dropped).
    pub fn set_poisson(&mut self, qps: Vec<f64>, num_requests: u32, max_concurrency: Option<u32>) {
        self.input_len_per_level = None;
        self.load = LoadSpec::Poisson {
            qps,
            num_requests,
            max_concurrency,
            burstiness: 1.0,
            num_requests_per_level: None,
            client_draws: None,
        };
        self.output_len_per_level = None;
        self.busiest_user_ratio_per_level = None;
    }

    /// Sets prompt and output lengths from a text of `chars` characters for a TTS model.
    pub fn set_text_chars(&mut self, chars: u32, text: &crate::spec::TtsText) {
        let (input, output) = text.tokens_for(chars);
        self.input_len = LengthDist::Fixed { tokens: input };
        self.input_len_per_level = None;
        self.set_output_len(LengthDist::Fixed { tokens: output });
        self.text_chars = None;
        self.text_chars_per_level = None;
    }

    /// The chat template's (prefix, suffix) tokens; (0, 0) for completions.
    pub fn chat_template_tokens(&self) -> (u32, u32) {
        self.chat_template
            .map_or((0, 0), |t| (t.prefix_tokens, t.suffix_tokens))
    }

    /// Whether each request's conversation is rendered by a Jinja chat template in the API
    /// server (a chat request to any model but gpt-oss).
    pub fn renders_jinja_chat(&self) -> bool {
        self.chat_template.is_some_and(|t| t.renderer.is_jinja())
    }

    /// Resolves what depends on the model: a TTS workload's characters into tokens, and a chat
    /// workload's template tokens. A chat workload for a model without a catalogued template is
    /// refused: the template's length is what it would get wrong.
    pub fn resolve_for_model(&mut self, model: &crate::spec::ModelSpec, origin: &str) -> Result<()> {
        self.resolve_text_chars(model.tts_text.as_ref(), origin)?;
        self.chat_template = match (self.endpoint, model.chat_template) {
            (Endpoint::Completions, _) => None,
            (Endpoint::Chat, Some(t)) => Some(t),
            (Endpoint::Chat, None) => {
                return Err(Error::invalid(
                    origin,
                    "workload.endpoint",
                    format!(
                        "is chat, but the catalog has no chat template for {} (a base model, or one read \
                         from config.json alone): give its chat_template {{prefix_tokens, suffix_tokens}} \
                         in the model's entry, or send to completions with the template's tokens in the \
                         prompt lengths",
                        model.id
                    ),
                ))
            }
        };
        Ok(())
    }

    /// Turns `text_chars` / `text_chars_per_level` into token lengths with the model's rates.
    pub fn resolve_text_chars(&mut self, text: Option<&crate::spec::TtsText>, origin: &str) -> Result<()> {
        if self.text_chars.is_none() && self.text_chars_per_level.is_none() {
            return Ok(());
        }
        let Some(text) = text else {
            return Err(Error::invalid(
                origin,
                "workload.text_chars",
                "the model has no text and speech rates (tts_text); give input_len and output_len in tokens",
            ));
        };
        let levels = self.levels().len();
        match self.text_chars_per_level.clone() {
            Some(per) => {
                if per.len() != levels {
                    return Err(Error::invalid(
                        origin,
                        "workload.text_chars_per_level",
                        format!("has {} entries for {levels} levels", per.len()),
                    ));
                }
                if per.contains(&0) {
                    return Err(Error::invalid(
                        origin,
                        "workload.text_chars_per_level",
                        "must be ≥ 1 character",
                    ));
                }
                let lens: Vec<(u32, u32)> = per.iter().map(|&c| text.tokens_for(c)).collect();
                self.input_len_per_level = Some(lens.iter().map(|&(i, _)| LengthDist::Fixed { tokens: i }).collect());
                self.output_len_per_level = Some(lens.iter().map(|&(_, o)| LengthDist::Fixed { tokens: o }).collect());
                self.text_chars_per_level = None;
                self.text_chars = None;
            }
            None => {
                let chars = self.text_chars.unwrap_or(0);
                if chars == 0 {
                    return Err(Error::invalid(origin, "workload.text_chars", "must be ≥ 1 character"));
                }
                self.set_text_chars(chars, text);
            }
        }
        Ok(())
    }

    /// Replaces the output length everywhere (per-level lengths and deals are dropped).
    pub fn set_output_len(&mut self, dist: LengthDist) {
        self.output_len = dist;
        self.output_len_per_level = None;
        self.busiest_user_ratio_per_level = None;
    }

    /// The prompt-length distribution at level `index`.
    pub fn input_len_at(&self, index: usize) -> &LengthDist {
        self.input_len_per_level
            .as_ref()
            .and_then(|v| v.get(index))
            .unwrap_or(&self.input_len)
    }

    /// The output-length distribution at level `index`.
    pub fn output_len_at(&self, index: usize) -> &LengthDist {
        self.output_len_per_level
            .as_ref()
            .and_then(|v| v.get(index))
            .unwrap_or(&self.output_len)
    }

    /// Expands level `index` into requests and client behaviour, deterministically from `seed`.
    ///
    /// Lengths and arrivals use separate random streams (common random numbers): changing the
    /// request rate moves arrival times but not the lengths drawn.
    pub fn generate(&self, index: usize, seed: u64) -> (Vec<RequestSpec>, Clients) {
        let (mut specs, clients) = self.generate_cold(index, seed);
        if self.warm_prefix_cache && index > 0 && !matches!(self.load, LoadSpec::Trace { .. }) {
            let (before, _) = self.generate_cold(index - 1, seed);
            // Walk the level before from its end, so each twin knows what was freed after it.
            let mut later = vec![(0u64, 0u32); before.len()];
            let mut later_tokens = 0u64;
            for (count, (j, b)) in before.iter().enumerate().rev().enumerate() {
                later[j] = (later_tokens, count as u32);
                later_tokens += u64::from(b.input_tokens) + u64::from(b.output_tokens);
            }
            for (i, s) in specs.iter_mut().enumerate() {
                if let Some(twin) = before.get(i).filter(|b| b.input_tokens == s.input_tokens) {
                    s.replayed_prompt_tokens = twin.input_tokens;
                    (s.replay_later_tokens, s.replay_later_requests) = later[i];
                }
            }
        }
        if self.initial_test_run == Some(true) {
            // The test run is the last thing the server saw before the level: nothing was freed
            // after its blocks.
            if let Some(first) = specs.first_mut() {
                first.replayed_prompt_tokens = first.input_tokens;
                first.replay_later_tokens = 0;
                first.replay_later_requests = 0;
            }
        }
        (specs, clients)
    }

    /// [`WorkloadSpec::generate`] for a server that has seen nothing before the level.
    fn generate_cold(&self, index: usize, seed: u64) -> (Vec<RequestSpec>, Clients) {
        let root = SimRng::new(seed);
        let mut input_rng = root.fork(1);
        let mut output_rng = root.fork(2 + index as u64 * 1000);
        let mut arrival_rng = root.fork(3);
        let (template_prefix, template_suffix) = self.chat_template_tokens();
        let make = |inputs: Vec<u32>, outputs: Vec<u32>| -> Vec<RequestSpec> {
            inputs
                .into_iter()
                .zip(outputs)
                .enumerate()
                .map(|(i, (input, output))| RequestSpec {
                    input_tokens: input + template_prefix + template_suffix,
                    output_tokens: output,
                    // The template's prefix is the same in every request: one more shared
                    // prefix (in front of a workload's own, which follows it in every group).
                    prefix_group: if self.prefix_groups > 0 {
                        Some(i as u32 % self.prefix_groups)
                    } else {
                        (template_prefix > 0).then_some(0)
                    },
                    shared_prefix_tokens: template_prefix
                        + if self.prefix_groups > 0 {
                            self.shared_prefix_tokens.min(input)
                        } else {
                            0
                        },
                    replayed_prompt_tokens: 0,
                    replay_later_tokens: 0,
                    replay_later_requests: 0,
                })
                .collect()
        };
        match &self.load {
            LoadSpec::ClosedLoop {
                concurrency,
                requests_per_user,
                think_time_s,
                waves,
            } => {
                let users = concurrency.get(index).copied().unwrap_or(1);
                let n = users as usize * *requests_per_user as usize;
                let (inputs, mut outputs) = self.lengths_at(index, n, &mut input_rng, &mut output_rng, &root);
                if let Some(target) = self
                    .busiest_user_ratio_per_level
                    .as_ref()
                    .and_then(|v| v.get(index).copied().flatten())
                {
                    deal_to_users(
                        &mut outputs,
                        users as usize,
                        *requests_per_user as usize,
                        target,
                        &mut output_rng,
                    );
                }
                (
                    make(inputs, outputs),
                    Clients::Closed {
                        users,
                        requests_per_user: *requests_per_user,
                        think_ns: secs_to_nanos(*think_time_s),
                        waves: *waves,
                    },
                )
            }
            LoadSpec::Poisson {
                qps,
                num_requests,
                max_concurrency,
                burstiness,
                num_requests_per_level,
                client_draws,
            } => {
                let rate = qps.get(index).copied().unwrap_or(1.0);
                let n = num_requests_per_level
                    .as_ref()
                    .and_then(|v| v.get(index).copied())
                    .unwrap_or(*num_requests) as usize;
                let (inputs, outputs) = self.lengths_at(index, n, &mut input_rng, &mut output_rng, &root);
                let send_ns = match client_draws {
                    _ if !rate.is_finite() => vec![0; n],
                    Some(d) => numpy_draws::poisson_send_times_s(n, rate, d.numpy_seed, d.normalized_span)
                        .into_iter()
                        .map(secs_to_nanos)
                        .collect(),
                    None => {
                        let mut t = 0.0;
                        (0..n)
                            .map(|i| {
                                if i > 0 {
                                    t += if *burstiness == 1.0 {
                                        arrival_rng.exponential(rate)
                                    } else if burstiness.is_infinite() {
                                        1.0 / rate
                                    } else {
                                        arrival_rng.gamma(*burstiness, 1.0 / (rate * burstiness))
                                    };
                                }
                                secs_to_nanos(t)
                            })
                            .collect()
                    }
                };
                let clients = match max_concurrency {
                    Some(n) => Clients::Gated {
                        send_ns,
                        max_in_flight: *n,
                    },
                    None => Clients::Open { send_ns },
                };
                (make(inputs, outputs), clients)
            }
            LoadSpec::MaxConcurrency { levels } => {
                let level = levels.get(index).copied().unwrap_or(ConcurrencyLevel {
                    concurrency: 1,
                    num_requests: 1,
                });
                let n = level.num_requests as usize;
                let (inputs, outputs) = self.lengths_at(index, n, &mut input_rng, &mut output_rng, &root);
                (
                    make(inputs, outputs),
                    Clients::Gated {
                        send_ns: vec![0; n],
                        max_in_flight: level.concurrency,
                    },
                )
            }
            LoadSpec::Trace { requests } => {
                let specs = make(
                    requests.iter().map(|r| r.input_tokens).collect(),
                    requests.iter().map(|r| r.output_tokens).collect(),
                );
                let send_ns = requests.iter().map(|r| secs_to_nanos(r.arrival_s)).collect();
                (specs, Clients::Open { send_ns })
            }
        }
    }
}

impl WorkloadSpec {
    /// `n` prompt and output lengths for level `index`. When both sides draw from the same
    /// dataset preset, each request takes one entry's prompt and completion together (from a
    /// stream of its own), so their correlation is the dataset's.
    fn lengths_at(
        &self,
        index: usize,
        n: usize,
        input_rng: &mut SimRng,
        output_rng: &mut SimRng,
        root: &SimRng,
    ) -> (Vec<u32>, Vec<u32>) {
        let (input, output) = (self.input_len_at(index), self.output_len_at(index));
        if let (LengthDist::Dataset { name: a, .. }, LengthDist::Dataset { name: b, .. }) = (input, output) {
            if a.eq_ignore_ascii_case(b) {
                // One sample at every level when the levels replay it (see `warm_prefix_cache`).
                let stream = if self.warm_prefix_cache { 0 } else { index as u64 };
                let mut entries = root.fork(4 + stream * 1000);
                let mut inputs = Vec::with_capacity(n);
                let mut outputs = Vec::with_capacity(n);
                let (in_scale, out_scale) = (
                    input.dataset_scale().unwrap_or(1.0),
                    output.dataset_scale().unwrap_or(1.0),
                );
                for _ in 0..n {
                    let e = entries.uniform();
                    inputs.push(input.dataset_value_scaled(e, in_scale).unwrap_or(1));
                    outputs.push(output.dataset_value_scaled(e, out_scale).unwrap_or(1));
                }
                return (inputs, outputs);
            }
        }
        (input.sample_n(n, input_rng), output.sample_n(n, output_rng))
    }

    /// Names each dataset length's side after its field (`input_len` draws prompts, `output_len`
    /// completions), wherever the file left it out.
    pub fn fill_dataset_parts(&mut self) {
        use super::lengths::DatasetPart;
        if let LoadSpec::Trace { requests } = &self.load {
            let (input, output) = trace_mean_lengths(requests);
            if self.input_len == unset_length() {
                self.input_len = input;
            }
            if self.output_len == unset_length() {
                self.output_len = output;
            }
        }
        let fill = |d: &mut LengthDist, side: DatasetPart| {
            if let LengthDist::Dataset { part, .. } = d {
                part.get_or_insert(side);
            }
        };
        fill(&mut self.input_len, DatasetPart::Input);
        fill(&mut self.output_len, DatasetPart::Output);
        for d in self.input_len_per_level.iter_mut().flatten() {
            fill(d, DatasetPart::Input);
        }
        for d in self.output_len_per_level.iter_mut().flatten() {
            fill(d, DatasetPart::Output);
        }
    }
}

fn one_f64() -> f64 {
    1.0
}

fn is_one_f64(v: &f64) -> bool {
    *v == 1.0
}

/// Deals `outputs` to `users` users (`per_user` each, user u gets indices u·per_user..) so that the
/// busiest user's total ÷ the mean total is as close as possible to `target`, among 256 random
/// deals drawn from `rng` (deterministic).
fn deal_to_users(outputs: &mut [u32], users: usize, per_user: usize, target: f64, rng: &mut SimRng) {
    if users < 2 || outputs.len() < users * per_user || per_user == 0 {
        return;
    }
    let ratio = |v: &[u32]| -> f64 {
        let mut max = 0u64;
        let mut total = 0u64;
        for u in 0..users {
            let s: u64 = v[u * per_user..(u + 1) * per_user].iter().map(|&x| x as u64).sum();
            max = max.max(s);
            total += s;
        }
        max as f64 * users as f64 / total.max(1) as f64
    };
    let mut best = outputs.to_vec();
    let mut best_err = (ratio(&best) - target).abs();
    let mut candidate = outputs.to_vec();
    for _ in 0..256 {
        rng.shuffle(&mut candidate);
        let err = (ratio(&candidate) - target).abs();
        if err < best_err {
            best_err = err;
            best.copy_from_slice(&candidate);
        }
    }
    outputs.copy_from_slice(&best);
}
