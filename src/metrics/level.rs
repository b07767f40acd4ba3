//! Per-level results computed as `vllm bench serve` and the seed reports do.

use serde::Serialize;

use super::summary::Summary;
use crate::engine::{EngineStats, SimOutput};
use crate::units::{nanos_to_s, NANOS_PER_MS};
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
    /// Prompt + generated tokens per second.
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
    /// Prompt tokens per request.
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

/// Means of the lowest and highest quarter (at least one value each) of `values`.
fn quarter_means(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let k = (v.len() / 4).max(1);
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    (mean(&v[..k]), mean(&v[v.len() - k..]))
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

fn summary_or_zero(values: &mut Vec<f64>) -> Summary {
    Summary::from_values(values).unwrap_or(Summary {
        min: 0.0,
        max: 0.0,
        mean: 0.0,
        p50: 0.0,
        p90: 0.0,
        p95: 0.0,
        p99: 0.0,
    })
}

impl LevelResult {
    /// Summarises one simulation of `level`.
    ///
    /// `audio_tokens_per_s` (a TTS model's token rate) adds the audio figures.
    pub fn from_output(level: Level, out: SimOutput, audio_tokens_per_s: Option<f64>) -> LevelResult {
        let ok: Vec<_> = out.records.iter().filter(|r| !r.failed).collect();
        let start = out.records.iter().map(|r| r.send_ns).min().unwrap_or(0);
        let end = out
            .records
            .iter()
            .map(|r| r.finish_ns)
            .filter(|&t| t != u64::MAX)
            .max()
            .unwrap_or(start);
        let duration_s = nanos_to_s(end.saturating_sub(start)).max(1e-12);
        let ms = |ns: u64| ns as f64 / NANOS_PER_MS;
        let mut ttft: Vec<f64> = ok.iter().map(|r| ms(r.ttft_ns())).collect();
        let mut e2e: Vec<f64> = ok.iter().map(|r| ms(r.e2e_ns())).collect();
        let mut queue: Vec<f64> = ok.iter().map(|r| ms(r.queue_ns())).collect();
        let mut tpot: Vec<f64> = ok
            .iter()
            .filter_map(|r| r.tpot_ns())
            .map(|t| t / NANOS_PER_MS)
            .collect();
        let mut outputs: Vec<f64> = ok.iter().map(|r| r.output_tokens as f64).collect();
        let mut inputs: Vec<f64> = ok.iter().map(|r| r.input_tokens as f64).collect();
        let mut rates: Vec<f64> = ok
            .iter()
            .filter(|r| r.e2e_ns() > 0)
            .map(|r| r.output_tokens as f64 / nanos_to_s(r.e2e_ns()))
            .collect();
        let out_tokens: f64 = outputs.iter().sum();
        let in_tokens: f64 = inputs.iter().sum();
        let mut itl = out.itl_ns;
        let itl_ms = Summary::from_weighted(&mut itl)
            .map(|s| s.scaled(1.0 / NANOS_PER_MS))
            .unwrap_or_else(|| summary_or_zero(&mut Vec::new()));
        let tts = audio_tokens_per_s.filter(|r| *r > 0.0).map(|rate| {
            let mut rtf: Vec<f64> = ok
                .iter()
                .filter(|r| r.output_tokens > 0)
                .map(|r| nanos_to_s(r.e2e_ns()) / (r.output_tokens as f64 / rate))
                .collect();
            let mut ttfb: Vec<f64> = ok
                .iter()
                .map(|r| ms(r.first_chunk_ns.saturating_sub(r.send_ns)))
                .collect();
            let (low, high) = quarter_means(&ttfb);
            TtsResult {
                audio_s: out_tokens / rate,
                throughput_x_realtime: out_tokens / rate / duration_s,
                rtf: summary_or_zero(&mut rtf),
                ttfb_ms: summary_or_zero(&mut ttfb),
                ttfb_lowest_quarter_mean_ms: low,
                ttfb_highest_quarter_mean_ms: high,
            }
        });
        let replicas = out.records.iter().map(|r| r.replica).max().map_or(1, |m| m + 1);
        let per_replica = if replicas > 1 {
            (0..replicas)
                .map(|k| {
                    let mine: Vec<_> = ok.iter().filter(|r| r.replica == k).collect();
                    let n = mine.len().max(1) as f64;
                    ReplicaResult {
                        replica: k,
                        requests: mine.len() as u32,
                        output_throughput_tok_s: mine.iter().map(|r| r.output_tokens as f64).sum::<f64>() / duration_s,
                        ttft_ms_mean: mine.iter().map(|r| ms(r.ttft_ns())).sum::<f64>() / n,
                        e2e_latency_ms_mean: mine.iter().map(|r| ms(r.e2e_ns())).sum::<f64>() / n,
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
        LevelResult {
            concurrency,
            qps,
            requests: ok.len() as u32,
            failed: (out.records.len() - ok.len()) as u32,
            duration_s,
            request_throughput_req_s: ok.len() as f64 / duration_s,
            output_throughput_tok_s: out_tokens / duration_s,
            total_throughput_tok_s: (out_tokens + in_tokens) / duration_s,
            ttft_ms: summary_or_zero(&mut ttft),
            tpot_ms: summary_or_zero(&mut tpot),
            itl_ms,
            e2e_latency_ms: summary_or_zero(&mut e2e),
            queue_ms: summary_or_zero(&mut queue),
            output_tokens: summary_or_zero(&mut outputs),
            input_tokens: summary_or_zero(&mut inputs),
            request_output_rate_tok_s: summary_or_zero(&mut rates),
            engine: out.stats,
            tts,
            per_replica,
        }
    }
}
