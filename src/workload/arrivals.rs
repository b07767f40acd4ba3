//! Workload specifications (who sends what, when) and their expansion into concrete requests.

use serde::{Deserialize, Serialize};

use super::lengths::LengthDist;
use super::rng::SimRng;
use crate::engine::{Clients, RequestSpec};
use crate::error::{Error, Result};
use crate::units::secs_to_nanos;

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
    },
    /// Open loop: Poisson arrivals at each request rate.
    Poisson {
        /// Request rates, requests per second, one simulation each.
        qps: Vec<f64>,
        /// Requests sent per level.
        num_requests: u32,
    },
    /// A recorded trace, replayed once.
    Trace {
        /// The requests in send order.
        requests: Vec<TraceRequest>,
    },
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

/// A workload: load levels and the token lengths of prompts and outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// How requests are sent.
    pub load: LoadSpec,
    /// Prompt length in tokens.
    pub input_len: LengthDist,
    /// Output length in tokens (benchmarks set ignore_eos, so generation stops exactly there).
    pub output_len: LengthDist,
    /// Per-level output lengths (e.g. a report's recorded statistics per concurrency), overriding
    /// `output_len` level by level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_len_per_level: Option<Vec<LengthDist>>,
    /// Number of distinct shared prompt prefixes (0: none; prefix caching has nothing to reuse).
    #[serde(default)]
    pub prefix_groups: u32,
    /// Tokens of each request's prompt shared within its group.
    #[serde(default)]
    pub shared_prefix_tokens: u32,
}

impl WorkloadSpec {
    /// Checks ranges; `origin` names the file or flag set in errors.
    pub fn validate(&self, origin: &str) -> Result<()> {
        self.input_len.validate(origin, "input_len")?;
        self.output_len.validate(origin, "output_len")?;
        if let Some(per_level) = &self.output_len_per_level {
            for (i, d) in per_level.iter().enumerate() {
                d.validate(origin, &format!("output_len_per_level[{i}]"))?;
            }
            if per_level.len() != self.levels().len() {
                return Err(Error::invalid(
                    origin,
                    "output_len_per_level",
                    format!("has {} entries but the load has {} levels", per_level.len(), self.levels().len()),
                ));
            }
        }
        match &self.load {
            LoadSpec::ClosedLoop {
                concurrency,
                requests_per_user,
                think_time_s,
            } => {
                if concurrency.is_empty() || concurrency.contains(&0) {
                    return Err(Error::invalid(origin, "concurrency", "needs one or more levels, each ≥ 1 user"));
                }
                if *requests_per_user == 0 {
                    return Err(Error::invalid(origin, "requests_per_user", "must be ≥ 1"));
                }
                if !(think_time_s.is_finite() && *think_time_s >= 0.0) {
                    return Err(Error::invalid(origin, "think_time_s", "must be ≥ 0 seconds"));
                }
                if concurrency.iter().any(|&c| c as u64 * *requests_per_user as u64 > 10_000_000) {
                    return Err(Error::invalid(origin, "concurrency", "concurrency × requests_per_user must be ≤ 10,000,000"));
                }
            }
            LoadSpec::Poisson { qps, num_requests } => {
                if qps.is_empty() || qps.iter().any(|q| !(q.is_finite() && *q > 0.0)) {
                    return Err(Error::invalid(origin, "qps", "needs one or more request rates, each > 0 req/s"));
                }
                if *num_requests == 0 || *num_requests > 10_000_000 {
                    return Err(Error::invalid(origin, "num_requests", "must be in 1..=10,000,000"));
                }
            }
            LoadSpec::Trace { requests } => {
                if requests.is_empty() {
                    return Err(Error::invalid(origin, "requests", "a trace needs at least one request"));
                }
                for (i, r) in requests.iter().enumerate() {
                    if !(r.arrival_s.is_finite() && r.arrival_s >= 0.0) {
                        return Err(Error::invalid(origin, format!("requests[{i}].arrival_s"), "must be ≥ 0 seconds"));
                    }
                    if r.input_tokens == 0 || r.output_tokens == 0 {
                        return Err(Error::invalid(origin, format!("requests[{i}]"), "token counts must be ≥ 1"));
                    }
                }
            }
        }
        Ok(())
    }

    /// The levels simulated, in order.
    pub fn levels(&self) -> Vec<Level> {
        match &self.load {
            LoadSpec::ClosedLoop { concurrency, .. } => concurrency.iter().map(|&c| Level::Concurrency(c)).collect(),
            LoadSpec::Poisson { qps, .. } => qps.iter().map(|&q| Level::Qps(q)).collect(),
            LoadSpec::Trace { .. } => vec![Level::Trace],
        }
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
        let root = SimRng::new(seed);
        let mut input_rng = root.fork(1);
        let mut output_rng = root.fork(2 + index as u64 * 1000);
        let mut arrival_rng = root.fork(3);
        let make = |inputs: Vec<u32>, outputs: Vec<u32>| -> Vec<RequestSpec> {
            inputs
                .into_iter()
                .zip(outputs)
                .enumerate()
                .map(|(i, (input, output))| RequestSpec {
                    input_tokens: input,
                    output_tokens: output,
                    prefix_group: (self.prefix_groups > 0).then(|| i as u32 % self.prefix_groups),
                    shared_prefix_tokens: self.shared_prefix_tokens.min(input),
                })
                .collect()
        };
        match &self.load {
            LoadSpec::ClosedLoop {
                concurrency,
                requests_per_user,
                think_time_s,
            } => {
                let users = concurrency.get(index).copied().unwrap_or(1);
                let n = users as usize * *requests_per_user as usize;
                let inputs = self.input_len.sample_n(n, &mut input_rng);
                let outputs = self.output_len_at(index).sample_n(n, &mut output_rng);
                (
                    make(inputs, outputs),
                    Clients::Closed {
                        users,
                        requests_per_user: *requests_per_user,
                        think_ns: secs_to_nanos(*think_time_s),
                    },
                )
            }
            LoadSpec::Poisson { qps, num_requests } => {
                let rate = qps.get(index).copied().unwrap_or(1.0);
                let n = *num_requests as usize;
                let inputs = self.input_len.sample_n(n, &mut input_rng);
                let outputs = self.output_len_at(index).sample_n(n, &mut output_rng);
                let mut t = 0.0;
                let send_ns = (0..n)
                    .map(|i| {
                        if i > 0 {
                            t += arrival_rng.exponential(rate);
                        }
                        secs_to_nanos(t)
                    })
                    .collect();
                (make(inputs, outputs), Clients::Open { send_ns })
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
