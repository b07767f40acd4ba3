//! Text layouts: the seed reports' per-level blocks (markdown or terminal tables) and CSV.

use std::fmt::Write;

use comfy_table::{presets, Table};

use super::compare::LevelComparison;
use crate::cost::ProfileKind;
use crate::metrics::level::LevelResult;
use crate::metrics::summary::Summary;
use crate::scenario::Prediction;
use crate::units::GIB;

fn gib(bytes: u64) -> String {
    format!("{:.2} GiB", bytes as f64 / GIB)
}

/// The header: scenario, profile, and the memory lines vLLM logs.
pub fn header(p: &Prediction) -> String {
    let s = &p.scenario;
    let m = &p.memory;
    let mut out = String::new();
    let _ = writeln!(out, "# servecast prediction");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "- GPU: {} ({}, {} as {} reports it){}",
        s.gpu.name,
        s.gpu.id,
        gib(s.gpu.memory_total_bytes),
        if s.gpu.architecture.is_amd() { "ROCm" } else { "CUDA" },
        if s.engine.tensor_parallel_size > 1 {
            format!(" × {} (tensor parallel)", s.engine.tensor_parallel_size)
        } else {
            String::new()
        }
    );
    if s.replicas > 1 {
        let _ = writeln!(
            out,
            "- Deployment: {} replicas × {} GPU(s) each, router {:?} ({} GPUs in all)",
            s.replicas,
            s.engine.tensor_parallel_size,
            s.router,
            s.replicas * s.engine.tensor_parallel_size
        );
    }
    let _ = writeln!(out, "- Model: {} ({})", s.model.name, s.model.id);
    let e = &s.engine;
    let _ = writeln!(
        out,
        "- Engine: {} (release line {}{}) — gpu_memory_utilization {}, max_num_seqs {}, max_model_len {}, max_num_batched_tokens {}, block_size {}, chunked prefill {}, prefix caching {}, KV cache {}, weights {}",
        e.version,
        e.release_line,
        if e.async_scheduling { ", async scheduling" } else { "" },
        e.gpu_memory_utilization,
        e.max_num_seqs,
        e.max_model_len,
        e.max_num_batched_tokens,
        e.block_size,
        if e.enable_chunked_prefill { "on" } else { "off" },
        if e.enable_prefix_caching { "on" } else { "off" },
        e.kv_cache_dtype.name(),
        e.quantization.map_or(s.model.dtype.name(), |q| q.name()),
    );
    let kind = match s.profile.kind {
        ProfileKind::Fitted => "fitted",
        ProfileKind::Roofline => "the prior, not fitted to this setup",
        ProfileKind::Transferred => "host-side terms fitted on another GPU",
    };
    let _ = writeln!(out, "- Profile: {} ({kind}) — {}", s.profile.id, s.profile.source);
    if let Some(r) = &s.measured_report {
        let _ = writeln!(
            out,
            "- Measured report: {r} (measured figures and errors shown beside predictions)"
        );
    }
    let _ = writeln!(
        out,
        "- Memory: {}; weights {}, activation peak {}, non-torch {}{} → KV cache {} ({})",
        match e.kv_cache_memory_bytes {
            Some(_) => "--kv-cache-memory sets the KV cache (util ignored)".to_string(),
            None => format!(
                "requested {} = {} × {}",
                gib(m.requested_bytes),
                e.gpu_memory_utilization,
                gib(m.total_bytes)
            ),
        },
        gib(m.weights_bytes),
        gib(m.activation_peak_bytes),
        gib(m.non_torch_bytes),
        if m.cuda_graph_in_budget_bytes > 0 {
            format!(
                ", CUDA graphs {} (inside the budget from 0.20)",
                gib(m.cuda_graph_in_budget_bytes)
            )
        } else {
            String::new()
        },
        gib(m.kv_cache_bytes),
        m.source
    );
    let _ = writeln!(
        out,
        "- Card memory once up and idle ({}): {:.0} MiB per GPU",
        if s.gpu.architecture.is_amd() {
            "amd-smi"
        } else {
            "nvidia-smi"
        },
        m.card_used_bytes as f64 / crate::units::MIB
    );
    // The lines as the release prints them (V1: the budget, then the KV size and concurrency,
    // merged into one line from 0.28).
    if s.engine.version == crate::spec::engine::EngineVersion::Vllm010 {
        let _ = writeln!(
            out,
            "- vLLM would log: \"{}\"",
            m.available_kv_cache_line(s.engine.release.as_deref())
        );
    }
    for line in m.kv_cache_lines() {
        let _ = writeln!(out, "- vLLM would log: \"{line}\"");
    }
    out
}

fn stat_row(name: &str, s: &Summary) -> Vec<String> {
    vec![
        name.to_string(),
        format!("{:.2}", s.min),
        format!("{:.2}", s.max),
        format!("{:.2}", s.mean),
        format!("{:.2}", s.p50),
        format!("{:.2}", s.p95),
        format!("{:.2}", s.p99),
    ]
}

fn measured_rows(name: &str, metric: &str, c: &LevelComparison) -> Vec<Vec<String>> {
    let stats = ["min", "max", "mean", "p50", "p95", "p99"];
    let figs: Vec<_> = stats.iter().map(|s| c.figure(&format!("{metric}.{s}"))).collect();
    if figs.iter().all(|f| f.is_none()) {
        return Vec::new();
    }
    let mut measured = vec![format!("  measured {name}")];
    let mut error = vec!["  error".to_string()];
    for f in figs {
        match f {
            Some(f) => {
                measured.push(format!("{:.2}", f.measured));
                error.push(format!("{:+.1}%", f.error_pct));
            }
            None => {
                measured.push("–".into());
                error.push("–".into());
            }
        }
    }
    vec![measured, error]
}

fn scalar_line(label: &str, value: String, unit: &str, c: Option<&LevelComparison>, name: &str) -> String {
    let measured = c.and_then(|c| c.figure(name)).map_or(String::new(), |f| {
        format!(" (measured {:.2} {unit}, error {:+.1}%)", f.measured, f.error_pct)
    });
    format!("*   **{label}:** {value} {unit}{measured}\n")
}

fn level_block(l: &LevelResult, c: Option<&LevelComparison>, terminal: bool) -> String {
    let mut out = String::new();
    let title = match (l.concurrency, l.qps) {
        (Some(n), _) => format!("## Concurrency Level: {n}"),
        (None, Some(q)) => format!("## Request Rate: {q} req/s"),
        _ => "## Trace replay".to_string(),
    };
    let _ = writeln!(out, "{title}\n");
    let _ = writeln!(
        out,
        "*   **Total Requests:** {}{}",
        l.requests,
        if l.failed > 0 {
            format!(" ({} failed)", l.failed)
        } else {
            String::new()
        }
    );
    out.push_str(&scalar_line(
        "Total Time",
        format!("{:.2}", l.duration_s),
        "s",
        c,
        "total_time_s",
    ));
    out.push_str(&scalar_line(
        "Total Throughput",
        format!("{:.2}", l.output_throughput_tok_s),
        "tokens/s",
        c,
        "output_throughput_tok_s",
    ));
    out.push_str(&format!(
        "*   **Request Throughput:** {:.3} req/s; prompt + output: {:.2} tokens/s; preemptions: {}; peak KV blocks: {} of {}\n\n",
        l.request_throughput_req_s, l.total_throughput_tok_s, l.engine.preemptions, l.engine.peak_blocks_used, l.engine.capacity_blocks
    ));
    if let Some(t) = &l.tts {
        let _ = writeln!(
            out,
            "*   **Audio:** {:.1} s generated, {:.1}× real time; RTF mean {:.3} (P95 {:.3}); TTFB mean {:.1} ms (P95 {:.1} ms)",
            t.audio_s, t.throughput_x_realtime, t.rtf.mean, t.rtf.p95, t.ttfb_ms.mean, t.ttfb_ms.p95
        );
    }
    for r in &l.per_replica {
        let _ = writeln!(
            out,
            "*   Replica {}: {} requests, {:.2} tokens/s, mean TTFT {:.2} ms, mean latency {:.2} ms",
            r.replica, r.requests, r.output_throughput_tok_s, r.ttft_ms_mean, r.e2e_latency_ms_mean
        );
    }
    if !l.per_replica.is_empty() {
        out.push('\n');
    }
    let header = ["Metric", "Min", "Max", "Mean", "P50", "P95", "P99"];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (name, metric, s) in [
        ("TTFT (ms)", "ttft_ms", &l.ttft_ms),
        ("Latency (ms)", "e2e_latency_ms", &l.e2e_latency_ms),
        ("TPOT (ms)", "tpot_ms", &l.tpot_ms),
        ("ITL (ms)", "itl_ms", &l.itl_ms),
        ("Queue (ms)", "queue_ms", &l.queue_ms),
        ("Num Generated Tokens", "output_tokens", &l.output_tokens),
    ] {
        rows.push(stat_row(name, s));
        if let Some(c) = c {
            rows.extend(measured_rows(name, metric, c));
        }
    }
    if terminal {
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED);
        t.set_header(header.to_vec());
        for r in rows {
            t.add_row(r);
        }
        let _ = writeln!(out, "{t}");
    } else {
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(out, "|{}|", header.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
        for r in rows {
            let _ = writeln!(out, "| {} |", r.join(" | "));
        }
    }
    let _ = writeln!(out, "\n----------------------------------------\n");
    out
}

/// The seed reports' layout: header, then one block per level (markdown or terminal tables).
pub fn seed_layout(p: &Prediction, comparison: Option<&[LevelComparison]>, terminal: bool) -> String {
    let mut out = header(p);
    out.push('\n');
    for (i, l) in p.levels.iter().enumerate() {
        out.push_str(&level_block(l, comparison.and_then(|c| c.get(i)), terminal));
    }
    out
}

/// One CSV row per level with the headline figures.
pub fn csv(p: &Prediction) -> String {
    let mut out = String::from(
        "concurrency,qps,requests,failed,duration_s,request_throughput_req_s,output_throughput_tok_s,total_throughput_tok_s,\
ttft_ms_mean,ttft_ms_p50,ttft_ms_p95,ttft_ms_p99,tpot_ms_mean,tpot_ms_p50,tpot_ms_p99,itl_ms_mean,itl_ms_p99,\
e2e_latency_ms_mean,e2e_latency_ms_p50,e2e_latency_ms_p95,e2e_latency_ms_p99,queue_ms_mean,preemptions\n",
    );
    for l in &p.levels {
        let _ = writeln!(
            out,
            "{},{},{},{},{:.4},{:.4},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.4},{:.4},{:.4},{:.4},{:.4},{:.3},{:.3},{:.3},{:.3},{:.3},{}",
            l.concurrency.map_or(String::new(), |c| c.to_string()),
            l.qps.map_or(String::new(), |q| q.to_string()),
            l.requests,
            l.failed,
            l.duration_s,
            l.request_throughput_req_s,
            l.output_throughput_tok_s,
            l.total_throughput_tok_s,
            l.ttft_ms.mean,
            l.ttft_ms.p50,
            l.ttft_ms.p95,
            l.ttft_ms.p99,
            l.tpot_ms.mean,
            l.tpot_ms.p50,
            l.tpot_ms.p99,
            l.itl_ms.mean,
            l.itl_ms.p99,
            l.e2e_latency_ms.mean,
            l.e2e_latency_ms.p50,
            l.e2e_latency_ms.p95,
            l.e2e_latency_ms.p99,
            l.queue_ms.mean,
            l.engine.preemptions
        );
    }
    out
}

/// The intervals of a replicated prediction as a markdown table (empty when there are none).
pub fn intervals_table(intervals: &[crate::uncertainty::LevelIntervals]) -> String {
    if intervals.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\nPrediction intervals (90% of replications over seeds and the fit's parameter covariance; median [low – high]):\n\n",
    );
    let tts = intervals.iter().any(|i| i.x_realtime.is_some());
    let _ = writeln!(
        out,
        "| level | output tok/s | mean TTFT (ms) | P95 TTFT (ms) | mean TPOT (ms) | mean E2E (ms) |{}",
        if tts { " × real time | mean TTFB (ms) |" } else { "" }
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|{}", if tts { "---|---|" } else { "" });
    let f = |i: &crate::uncertainty::Interval, d: usize| format!("{:.d$} [{:.d$} – {:.d$}]", i.median, i.low, i.high);
    for l in intervals {
        let level = match (l.concurrency, l.qps) {
            (Some(c), _) => format!("c={c}"),
            (None, Some(q)) => format!("qps={q}"),
            _ => "trace".into(),
        };
        let _ = write!(
            out,
            "| {level} | {} | {} | {} | {} | {} |",
            f(&l.output_throughput_tok_s, 0),
            f(&l.ttft_ms_mean, 1),
            f(&l.ttft_ms_p95, 1),
            f(&l.tpot_ms_mean, 2),
            f(&l.e2e_latency_ms_mean, 0)
        );
        if let (Some(x), Some(t)) = (&l.x_realtime, &l.ttfb_ms_mean) {
            let _ = write!(out, " {} | {} |", f(x, 1), f(t, 0));
        }
        out.push('\n');
    }
    out
}
