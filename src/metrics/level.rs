//! Per-level results computed as `vllm bench serve` and the seed reports do.

use serde::Serialize;

use super::stream::{ValueStream, WeightedStream};
use super::summary::Summary;
use crate::engine::{EngineStats, RecordSink, RequestRecord, SimOutput};
use crate::units::{nanos_to_s, Nanos, NANOS_PER_MS};
use crate::workload::arrivals::Level;

/// Everything measured at one load level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelResult {
    /// Closed-loop users, when the level is a concurrency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Request rate, req/s, when the level is an open-loop rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qps: Option<f64>,
    /// Requests completed.
    pub requests: u32,
    /// Requests rejected (prompt + output over max_model_len, or larger than the KV cache).
    pub failed: u32,
    /// From the first send to the last response, seconds.
    pub duration_s: f64,
    /// Completed requests per second.
    pub request_throughput_req_s: f64,
    /// Generated tokens per second.
    pub output_throughput_tok_s: f64,
    /// Prompt + generated tokens per second, the prompt counted as the client counts it (a chat
    /// endpoint's template tokens left out, as `vllm bench serve`'s "Total Token throughput").
    pub total_throughput_tok_s: f64,
    /// Time to first token, ms.
    pub ttft_ms: Summary,
    /// Time per output token after the first, ms (requests with ≥ 2 tokens).
    pub tpot_ms: Summary,
    /// Inter-token latency pooled over all tokens, ms.
    pub itl_ms: Summary,
    /// End-to-end latency, ms.
    pub e2e_latency_ms: Summary,
    /// Time in the engine queue before first being scheduled, ms.
    pub queue_ms: Summary,
    /// Generated tokens per request.
    pub output_tokens: Summary,
    /// Prompt tokens per request as the engine prefills them: a chat endpoint's template
    /// tokens included (a chat client's own counts leave them out).
    pub input_tokens: Summary,
    /// Each request's generated tokens ÷ its E2E latency, tokens/s.
    pub request_output_rate_tok_s: Summary,
    /// Engine counters (steps, preemptions, peak KV blocks; summed or maximised over replicas).
    pub engine: EngineStats,
    /// Audio figures, when the model is a text-to-speech model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tts: Option<TtsResult>,
    /// Per replica, when there is more than one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_replica: Vec<ReplicaResult>,
}

/// Audio-side figures of a text-to-speech level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TtsResult {
    /// Audio generated in the level, seconds.
    pub audio_s: f64,
    /// Audio seconds generated per wall-clock second (× real time).
    pub throughput_x_realtime: f64,
    /// Per request: generation time (E2E) ÷ its audio duration (real-time factor; < 1 is faster
    /// than real time).
    pub rtf: Summary,
    /// Time to the first audio chunk, ms.
    pub ttfb_ms: Summary,
    /// Mean of the lowest quarter of the TTFBs, ms (the earliest-served requests).
    pub ttfb_lowest_quarter_mean_ms: f64,
    /// Mean of the highest quarter of the TTFBs, ms (the last-served requests).
    pub ttfb_highest_quarter_mean_ms: f64,
}

/// What one replica of a data-parallel deployment served.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicaResult {
    /// Replica index.
    pub replica: u32,
    /// Requests it completed.
    pub requests: u32,
    /// Generated tokens per second over the level's duration.
    pub output_throughput_tok_s: f64,
    /// Mean time to first token, ms.
    pub ttft_ms_mean: f64,
    /// Mean E2E latency, ms.
    pub e2e_latency_ms_mean: f64,
}

fn summary_or_zero(values: &mut ValueStream) -> Summary {
    values.summary().unwrap_or(ZERO_SUMMARY)
}

/// The summary of an empty metric (every field 0).
const ZERO_SUMMARY: Summary = Summary {
    min: 0.0,
    max: 0.0,
    mean: 0.0,
    p50: 0.0,
    p90: 0.0,
    p95: 0.0,
    p99: 0.0,
};

/// A record sink that is told which load level the records that follow belong to (e.g. the
/// `--per-request` file).
pub trait LevelRecorder: RecordSink {
    /// The records that follow belong to level `index` of the workload.
    fn begin_level(&mut self, index: usize, level: Level);
}

/// What one replica's requests add up to while the level runs.
#[derive(Debug, Clone, Default)]
struct ReplicaSums {
    requests: u32,
    output_tokens: u64,
    /// Sums in integer nanoseconds, so the means do not depend on the order requests finish in.
    ttft_ns: u128,
    e2e_latency_ns: u128,
}

/// Builds a [`LevelResult`] from request records as they finish, in bounded memory: each metric
/// is a [`ValueStream`] (exact up to [`super::stream::EXACT_LIMIT`] values, sketched within 0.5%
/// beyond), so a level of any size summarises in a few tens of MiB.
#[derive(Debug, Clone)]
pub struct LevelAccumulator {
    audio_tokens_per_s: Option<f64>,
    total: u64,
    ok: u64,
    start_ns: Option<Nanos>,
    end_ns: Option<Nanos>,
    max_replica: u32,
    output_token_sum: u64,
    input_token_sum: u64,
    template_tokens: u32,
    ttft: ValueStream,
    e2e: ValueStream,
    queue: ValueStream,
    tpot: ValueStream,
    outputs: ValueStream,
    inputs: ValueStream,
    rates: ValueStream,
    rtf: ValueStream,
    ttfb: ValueStream,
    itl: WeightedStream,
    replicas: Vec<ReplicaSums>,
}

impl LevelAccumulator {
    /// An empty accumulator; `audio_tokens_per_s` (a TTS model's token rate) adds the audio figures.
    pub fn new(audio_tokens_per_s: Option<f64>) -> LevelAccumulator {
        LevelAccumulator::with_exact_limit(audio_tokens_per_s, super::stream::EXACT_LIMIT)
    }

    /// The same, keeping up to `limit` values of each metric exactly (tests use small limits to
    /// compare the sketched summaries with the exact ones).
    pub fn with_exact_limit(audio_tokens_per_s: Option<f64>, limit: usize) -> LevelAccumulator {
        let audio_tokens_per_s = audio_tokens_per_s.filter(|r| *r > 0.0);
        LevelAccumulator {
            audio_tokens_per_s,
            total: 0,
            ok: 0,
            start_ns: None,
            end_ns: None,
            max_replica: 0,
            output_token_sum: 0,
            input_token_sum: 0,
            template_tokens: 0,
            ttft: ValueStream::with_exact_limit(limit),
            e2e: ValueStream::with_exact_limit(limit),
            queue: ValueStream::with_exact_limit(limit),
            tpot: ValueStream::with_exact_limit(limit),
            outputs: ValueStream::with_exact_limit(limit),
            inputs: ValueStream::with_exact_limit(limit),
            rates: ValueStream::with_exact_limit(limit),
            rtf: ValueStream::with_exact_limit(limit),
            ttfb: ValueStream::with_exact_limit(limit),
            itl: WeightedStream::with_exact_limit(limit),
            replicas: Vec::new(),
        }
    }

    /// Counts each request's prompt as a chat client does: without the `tokens` a chat template
    /// adds on the server (prefix + suffix). `vllm bench serve` and `benchmark_serving.py` sum
    /// their dataset prompts' own lengths into "Total input tokens", so their "Total Token
    /// throughput" leaves the template out, and so does [`LevelResult::total_throughput_tok_s`].
    pub fn with_chat_template_tokens(mut self, tokens: u32) -> LevelAccumulator {
        self.template_tokens = tokens;
        self
    }

    /// Requests recorded so far.
    pub fn requests(&self) -> u64 {
        self.total
    }

    /// Whether any metric moved from exact values to the sketch.
    pub fn is_sketched(&self) -> bool {
        self.ttft.is_sketched() || self.itl.is_sketched()
    }

    /// Adds one finished (or rejected) request.
    pub fn add(&mut self, r: &RequestRecord) {
        self.total += 1;
        self.start_ns = Some(self.start_ns.map_or(r.send_ns, |s| s.min(r.send_ns)));
        if r.finish_ns != u64::MAX {
            self.end_ns = Some(self.end_ns.map_or(r.finish_ns, |e| e.max(r.finish_ns)));
        }
        self.max_replica = self.max_replica.max(r.replica);
        if r.failed {
            return;
        }
        self.ok += 1;
        let ms = |ns: u64| ns as f64 / NANOS_PER_MS;
        let ttft_ms = ms(r.ttft_ns());
        let e2e_ms = ms(r.e2e_ns());
        self.ttft.push(ttft_ms);
        self.e2e.push(e2e_ms);
        self.queue.push(ms(r.queue_ns()));
        if let Some(t) = r.tpot_ns() {
            self.tpot.push(t / NANOS_PER_MS);
        }
        self.outputs.push(f64::from(r.output_tokens));
        self.inputs.push(f64::from(r.input_tokens));
        self.output_token_sum += u64::from(r.output_tokens);
        self.input_token_sum += u64::from(r.input_tokens.saturating_sub(self.template_tokens));
        if r.e2e_ns() > 0 {
            self.rates.push(f64::from(r.output_tokens) / nanos_to_s(r.e2e_ns()));
        }
        if let Some(rate) = self.audio_tokens_per_s {
            if r.output_tokens > 0 {
                self.rtf
                    .push(nanos_to_s(r.e2e_ns()) / (f64::from(r.output_tokens) / rate));
            }
            self.ttfb.push(ms(r.first_chunk_ns.saturating_sub(r.send_ns)));
        }
        let k = r.replica as usize;
        if self.replicas.len() <= k {
            self.replicas.resize(k + 1, ReplicaSums::default());
        }
        let rep = &mut self.replicas[k];
        rep.requests += 1;
        rep.output_tokens += u64::from(r.output_tokens);
        rep.ttft_ns += u128::from(r.ttft_ns());
        rep.e2e_latency_ns += u128::from(r.e2e_ns());
    }

    /// Adds `count` inter-token gaps of `ns` nanoseconds.
    pub fn add_itl(&mut self, ns: f64, count: u64) {
        self.itl.push(ns, count);
    }

    /// The level's result, with the engine counters of the run.
    pub fn finish(mut self, level: Level, engine: EngineStats) -> LevelResult {
        let start = self.start_ns.unwrap_or(0);
        let end = self.end_ns.unwrap_or(start);
        let duration_s = nanos_to_s(end.saturating_sub(start)).max(1e-12);
        let out_tokens = self.output_token_sum as f64;
        let in_tokens = self.input_token_sum as f64;
        let itl_ms = self
            .itl
            .summary()
            .map(|s| s.scaled(1.0 / NANOS_PER_MS))
            .unwrap_or(ZERO_SUMMARY);
        let tts = self.audio_tokens_per_s.map(|rate| {
            let (low, high) = self.ttfb.quarter_means();
            TtsResult {
                audio_s: out_tokens / rate,
                throughput_x_realtime: out_tokens / rate / duration_s,
                rtf: summary_or_zero(&mut self.rtf),
                ttfb_ms: summary_or_zero(&mut self.ttfb),
                ttfb_lowest_quarter_mean_ms: low,
                ttfb_highest_quarter_mean_ms: high,
            }
        });
        let replicas = self.max_replica + 1;
        let per_replica = if replicas > 1 {
            (0..replicas)
                .map(|k| {
                    let sums = self.replicas.get(k as usize).cloned().unwrap_or_default();
                    let n = f64::from(sums.requests.max(1));
                    ReplicaResult {
                        replica: k,
                        requests: sums.requests,
                        output_throughput_tok_s: sums.output_tokens as f64 / duration_s,
                        ttft_ms_mean: sums.ttft_ns as f64 / NANOS_PER_MS / n,
                        e2e_latency_ms_mean: sums.e2e_latency_ns as f64 / NANOS_PER_MS / n,
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let (concurrency, qps) = match level {
            Level::Concurrency(c) => (Some(c), None),
            Level::Qps(q) => (None, Some(q)),
            Level::Trace => (None, None),
        };
        let ok = u32::try_from(self.ok).unwrap_or(u32::MAX);
        LevelResult {
            concurrency,
            qps,
            requests: ok,
            failed: u32::try_from(self.total - self.ok).unwrap_or(u32::MAX),
            duration_s,
            request_throughput_req_s: self.ok as f64 / duration_s,
            output_throughput_tok_s: out_tokens / duration_s,
            total_throughput_tok_s: (out_tokens + in_tokens) / duration_s,
            ttft_ms: summary_or_zero(&mut self.ttft),
            tpot_ms: summary_or_zero(&mut self.tpot),
            itl_ms,
            e2e_latency_ms: summary_or_zero(&mut self.e2e),
            queue_ms: summary_or_zero(&mut self.queue),
            output_tokens: summary_or_zero(&mut self.outputs),
            input_tokens: summary_or_zero(&mut self.inputs),
            request_output_rate_tok_s: summary_or_zero(&mut self.rates),
            engine,
            tts,
            per_replica,
        }
    }
}

impl RecordSink for LevelAccumulator {
    fn record(&mut self, r: &RequestRecord) {
        self.add(r);
    }

    fn itl(&mut self, ns: f64, count: u64) {
        self.add_itl(ns, count);
    }
}

impl LevelResult {
    /// Summarises one simulation of `level` into `acc`, an empty accumulator made for its
    /// scenario ([`crate::scenario::Scenario::level_accumulator`]: a TTS model's audio figures, a
    /// chat template's tokens left out of the total throughput).
    pub fn from_output(level: Level, out: SimOutput, mut acc: LevelAccumulator) -> LevelResult {
        for r in &out.records {
            acc.add(r);
        }
        for &(ns, count) in &out.itl_ns {
            acc.add_itl(ns, count);
        }
        acc.finish(level, out.stats)
    }
}
