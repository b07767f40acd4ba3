//! Text layouts: the seed reports' per-level blocks (markdown or terminal tables) and CSV.

use std::fmt::Write;

use comfy_table::{presets, Table};

use super::compare::LevelComparison;
use crate::cost::ProfileKind;
use crate::metrics::level::LevelResult;
use crate::metrics::summary::Summary;
use crate::scenario::Prediction;
use crate::units::GIB;

/// `v` with a negative zero made positive (so nothing prints as `-0.00`).
fn z(v: f64) -> f64 {
    v + 0.0
}

/// A figure with `digits` decimals, or `–` when the level has no successful request to measure.
fn fig(v: f64, digits: usize, measured: bool) -> String {
    if measured && v.is_finite() {
        format!("{:.digits$}", z(v))
    } else {
        "–".to_string()
    }
}

/// How a load is described in headers: kind, levels, and requests per level.
pub fn describe_load(load: &crate::workload::arrivals::LoadSpec) -> String {
    use crate::workload::arrivals::LoadSpec;
    let list = |v: Vec<String>| v.join(", ");
    match load {
        LoadSpec::ClosedLoop {
            concurrency,
            requests_per_user,
            think_time_s,
            waves,
        } => format!(
            "closed loop of {} users, {requests_per_user} requests each{}{}",
            list(concurrency.iter().map(|c| c.to_string()).collect()),
            if *think_time_s > 0.0 {
                format!(", {think_time_s} s think time")
            } else {
                String::new()
            },
            if *waves {
                ", in waves (every user's next request waits for all users' last)"
            } else {
                ""
            }
        ),
        LoadSpec::Poisson {
            qps,
            num_requests,
            max_concurrency,
            burstiness,
            num_requests_per_level,
            client_draws,
        } => format!(
            "{} at {} req/s, {} requests per rate{}{}",
            if (burstiness - 1.0).abs() < 1e-9 {
                "Poisson arrivals".to_string()
            } else if burstiness.is_infinite() {
                "evenly spaced arrivals".to_string()
            } else {
                format!("gamma arrivals (burstiness {burstiness})")
            },
            list(qps.iter().map(|q| rate_text(*q)).collect()),
            match num_requests_per_level {
                Some(per) => list(per.iter().map(|n| n.to_string()).collect()),
                None => num_requests.to_string(),
            },
            max_concurrency.map_or(String::new(), |c| format!(", at most {c} in flight")),
            client_draws.map_or(String::new(), |d| format!(
                ", gaps as vLLM's client draws them (numpy seed {}{})",
                d.numpy_seed,
                if d.normalized_span {
                    ", span rescaled to N ÷ rate"
                } else {
                    ""
                }
            ))
        ),
        LoadSpec::MaxConcurrency { levels } => format!(
            "a queue with at most {} in flight ({} requests)",
            list(levels.iter().map(|l| l.concurrency.to_string()).collect()),
            list(levels.iter().map(|l| l.num_requests.to_string()).collect())
        ),
        LoadSpec::Trace { requests } => format!(
            "a trace of {} requests over {:.1} s, replayed once",
            requests.len(),
            requests.last().map_or(0.0, |r| r.arrival_s)
        ),
    }
}

/// A request rate as vLLM's client prints it (`inf` for everything at once).
pub fn rate_text(q: f64) -> String {
    if q.is_infinite() {
        "inf".into()
    } else {
        format!("{q}")
    }
}

/// A length distribution in a few words.
pub fn describe_length(d: &crate::workload::lengths::LengthDist) -> String {
    use crate::workload::lengths::LengthDist;
    match d {
        LengthDist::Fixed { tokens } => format!("{tokens} tokens"),
        LengthDist::Uniform { min, max } => format!("uniform {min}–{max} tokens"),
        LengthDist::Normal { mean, sd, .. } => format!("normal, mean {mean:.0} sd {sd:.0} tokens"),
        LengthDist::LogNormal { median, sigma, .. } => format!("log-normal, median {median:.0} tokens, σ {sigma}"),
        LengthDist::Cycle { values } => format!(
            "{} recorded lengths in order, mean {:.1} tokens",
            values.len(),
            d.mean()
        ),
        LengthDist::Empirical { values } => format!(
            "drawn from {} recorded lengths, mean {:.1} tokens",
            values.len(),
            d.mean()
        ),
        LengthDist::Dataset { name, .. } => format!("mean {:.1} tokens (dataset {name})", d.mean()),
        other => format!(
            "mean {:.1} tokens ({})",
            other.mean(),
            serde_json::to_value(other)
                .ok()
                .and_then(|v| v.get("kind").and_then(|k| k.as_str().map(String::from)))
                .unwrap_or_default()
        ),
    }
}

/// Why a level's failed requests failed, in vLLM's words where it has them.
pub fn failure_reason(p: &Prediction, l: &LevelResult) -> Option<String> {
    failure_reason_for(&p.scenario, p.memory.num_gpu_blocks, l)
}

/// [`failure_reason`] for a scenario whose KV cache holds `num_gpu_blocks` blocks.
pub fn failure_reason_for(s: &crate::scenario::Scenario, num_gpu_blocks: u64, l: &LevelResult) -> Option<String> {
    if l.failed == 0 {
        return None;
    }
    let longest = s.workload.longest_request_tokens();
    let of = l.requests + l.failed;
    let why = if longest > s.engine.max_model_len {
        let answer = if s.engine.version == crate::spec::engine::EngineVersion::NanoVllm {
            "the server rejects it".to_string()
        } else if s.engine.usage_context == crate::spec::engine::UsageContext::LlmClass {
            // Offline on V0 (V1's benchmarks refuse the run: Scenario::build): the scheduler
            // logs it and finishes the request ignored.
            format!(
                "vLLM's V0 scheduler ignores it: \"Input prompt (… tokens) is too long and exceeds limit of {}\"",
                s.engine.max_model_len
            )
        } else {
            format!(
                "vLLM answers HTTP 400: \"This model's maximum context length is {} tokens. However, you requested more tokens …\"",
                s.engine.max_model_len
            )
        };
        format!(
            "prompt + output exceeds max_model_len {} ({answer}); raise --max-model-len or shorten the requests",
            s.engine.max_model_len
        )
    } else {
        format!(
            "the request needs more KV blocks than the cache holds ({} blocks of {} tokens); vLLM never schedules it",
            num_gpu_blocks, s.engine.block_size
        )
    };
    Some(format!("{} of {of} requests failed: {why}", l.failed))
}

/// The offered and served request rates of an open-loop level, and whether the server kept up:
/// `Some((offered, served, overloaded))`, rates in req/s.
///
/// Overloaded: the server serves under 90% of the offered rate *and* the level lasts longer than
/// the arrivals plus one median request by more than a quarter of the arrival window — the queue
/// grew while requests arrived. (A short level always serves below its offered rate, because its
/// duration includes the last request's latency; that alone is not overload.)
pub fn offered_vs_served(l: &LevelResult) -> Option<(f64, f64, bool)> {
    let q = l.qps.filter(|q| q.is_finite() && *q > 0.0)?;
    let served = l.request_throughput_req_s;
    let sent = f64::from(l.requests + l.failed);
    let window_s = sent / q;
    let backlog_s = l.duration_s - window_s - l.e2e_latency_ms.p50 / 1000.0;
    let overloaded = l.requests > 0 && served < 0.9 * q && backlog_s > 0.25 * window_s;
    Some((q, served, overloaded))
}

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
    match &s.model.resolved_from {
        Some(how) => {
            let _ = writeln!(out, "- Model: {} ({}; {how})", s.model.name, s.model.id);
        }
        None => {
            let _ = writeln!(out, "- Model: {} ({})", s.model.name, s.model.id);
        }
    }
    let e = &s.engine;
    let _ = writeln!(
        out,
        "- Engine: {}{} (release line {}{}) — gpu_memory_utilization {}, max_num_seqs {}, max_model_len {}, max_num_batched_tokens {}, block_size {}, chunked prefill {}, prefix caching {}, KV cache {}, weights {}",
        e.version,
        match e.release.as_deref() {
            Some(r) if e.version.is_v0() && crate::spec::engine::v0_fallback(crate::spec::engine::EngineVersion::Vllm010, &s.gpu, Some(r)) != crate::spec::engine::EngineVersion::Vllm010 =>
                format!(", the V0 engine vLLM {r} falls back to on {} (\"Compute Capability < 8.0 is not supported by the V1 Engine\")", s.gpu.id),
            _ => String::new(),
        },
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
        e.quantization.map_or(e.dtype.name(), |q| q.name()),
    );
    if let Some(sd) = &e.speculative {
        let positions: Vec<String> = sd.per_position.iter().map(|p| format!("{p:.2}")).collect();
        let _ = writeln!(
            out,
            "- Speculative decoding: {}, {} draft tokens per step, per-position acceptance [{}] (mean acceptance length {:.2}; {})",
            sd.method.name(),
            sd.num_speculative_tokens,
            positions.join(", "),
            sd.mean_acceptance_length(),
            sd.acceptance_source
        );
    }
    let kind = match s.profile.kind {
        ProfileKind::Fitted => "fitted",
        ProfileKind::Roofline => "the prior, not fitted to this setup",
        ProfileKind::Transferred => "host-side terms fitted on another GPU",
        ProfileKind::Ideal => "a bound, not a prediction: no run of this setup can beat it",
    };
    let _ = writeln!(out, "- Profile: {} ({kind}) — {}", s.profile.id, s.profile.source);
    if s.profile.kind == ProfileKind::Roofline {
        if let Some(band) = unmeasured_band_line() {
            let _ = writeln!(out, "- {band}");
        }
    }
    let w = &s.workload;
    let load = match &w.load {
        crate::workload::arrivals::LoadSpec::Poisson { qps, num_requests, .. }
            if s.engine.usage_context == crate::spec::engine::UsageContext::LlmClass
                && qps.iter().all(|q| q.is_infinite()) =>
        {
            format!("{num_requests} prompts to one LLM.generate call (vLLM's offline LLM class: no API server)")
        }
        other => describe_load(other),
    };
    let _ = writeln!(
        out,
        "- Workload: {}; prompts {}, outputs {}{}",
        load,
        if matches!(w.load, crate::workload::arrivals::LoadSpec::Trace { .. }) {
            "as recorded".to_string()
        } else if w.input_len_per_level.is_some() {
            "set per level (as recorded)".to_string()
        } else {
            describe_length(&w.input_len)
        },
        if matches!(w.load, crate::workload::arrivals::LoadSpec::Trace { .. }) {
            "as recorded".to_string()
        } else if w.output_len_per_level.is_some() {
            "set per level (as recorded)".to_string()
        } else {
            describe_length(&w.output_len)
        },
        {
            let mut extra = String::new();
            if w.prefix_groups > 0 {
                extra += &if w.prefix_groups == 1 {
                    format!(
                        ", one prefix of {} tokens shared by every prompt",
                        w.shared_prefix_tokens
                    )
                } else {
                    format!(
                        ", {} shared prefixes of {} tokens",
                        w.prefix_groups, w.shared_prefix_tokens
                    )
                };
            }
            if w.endpoint == crate::workload::arrivals::Endpoint::Chat {
                let (prefix, suffix) = w.chat_template_tokens();
                extra += &format!(
                    "; chat endpoint: the chat template adds {} tokens to each prompt ({prefix} before \
                     it, the same in every request, and {suffix} after), prefilled by the engine but, \
                     as vllm bench counts, not in the total token throughput",
                    prefix + suffix
                );
                let parse_s = s.chat_template_parse_s();
                if parse_s > 0.0 {
                    extra += &format!(
                        ", and vLLM 0.11.0's API server parses the template again for each request \
                         ({:.1} ms, cached from 0.11.1)",
                        parse_s * 1e3
                    );
                }
            }
            if w.initial_test_run == Some(true) && e.enable_prefix_caching {
                extra += "; the client's test run of the first prompt before each level leaves it in the prefix \
                          cache, so the first request's prefill is a cache hit";
            }
            extra
        }
    );
    if let Some(r) = &s.measured_report {
        let _ = writeln!(
            out,
            "- Measured report: {r} (measured figures beside predictions; error = (predicted − measured) ÷ measured, so +10% means servecast predicts 10% more: longer latency or higher throughput)"
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
    for line in &m.hybrid_lines {
        let _ = writeln!(out, "- vLLM would log: \"{line}\"");
    }
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
    out += &step_time_table(p);
    out
}

/// Where one engine step's time goes under the scenario's profile ([`super::step_time_rows`]),
/// as a markdown table in milliseconds per part. Columns that are zero in every row (experts on a
/// dense model, all-reduces at TP 1) are left out.
pub fn step_time_table(p: &Prediction) -> String {
    use crate::cost::StepTime;
    let rows = super::step_time_rows(p);
    let Some(context) = rows.first().map(|r| r.context_tokens_per_seq) else {
        return String::new();
    };
    type Part = (&'static str, fn(&StepTime) -> f64);
    let parts: [Part; 8] = [
        ("dense layers + LM head", |t| t.dense_s),
        ("experts read", |t| t.experts_read_s),
        ("experts compute", |t| t.experts_compute_s),
        ("MoE floor", |t| t.moe_floor_s),
        ("attention", |t| t.attention_s),
        ("all-reduce", |t| t.allreduce_s),
        ("draft, heads, vocoder", |t| t.draft_s + t.head_s + t.vocoder_s),
        ("host", |t| t.host_s),
    ];
    let shown: Vec<&Part> = parts
        .iter()
        .filter(|(_, f)| rows.iter().any(|r| f(&r.time) > 0.0))
        .collect();
    let ms = |v: f64| format!("{:.3}", v * 1e3);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "- Where a step's time goes (ms, this profile; context {context} tokens per decoding sequence: the mean prompt plus half the mean output; {}):",
        if rows.iter().any(|r| r.time.overlap_host) {
            "async scheduling: the host's part runs during the GPU's, and a step takes the longer of the two"
        } else {
            "the host's part adds to the GPU's"
        }
    );
    let _ = writeln!(out);
    let header: Vec<&str> = std::iter::once("step")
        .chain(shown.iter().map(|(name, _)| *name))
        .chain(std::iter::once("step time"))
        .collect();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for r in &rows {
        let cells: Vec<String> = std::iter::once(r.step.clone())
            .chain(shown.iter().map(|(_, f)| ms(f(&r.time))))
            .chain(std::iter::once(ms(r.step_s)))
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

fn stat_row(name: &str, s: &Summary, measured: bool) -> Vec<String> {
    vec![
        name.to_string(),
        fig(s.min, 2, measured),
        fig(s.max, 2, measured),
        fig(s.mean, 2, measured),
        fig(s.p50, 2, measured),
        fig(s.p95, 2, measured),
        fig(s.p99, 2, measured),
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
                measured.push(format!("{:.2}", z(f.measured)));
                error.push(format!("{:+.1}%", z(f.error_pct)));
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
        format!(" (measured {:.2} {unit}, error {:+.1}%)", z(f.measured), z(f.error_pct))
    });
    format!("*   **{label}:** {value} {unit}{measured}\n")
}

fn level_block(p: &Prediction, l: &LevelResult, c: Option<&LevelComparison>, terminal: bool) -> String {
    let mut out = String::new();
    let ok = l.requests > 0;
    let offline = p.scenario.engine.usage_context == crate::spec::engine::UsageContext::LlmClass;
    let title = match (l.concurrency, l.qps) {
        (None, Some(q)) if offline && q.is_infinite() => {
            format!("## Offline: {} prompts to one LLM.generate call", l.requests + l.failed)
        }
        (Some(n), _) => format!("## Concurrency Level: {n}"),
        (None, Some(q)) => format!("## Request Rate: {} req/s", rate_text(q)),
        _ => "## Trace replay".to_string(),
    };
    let _ = writeln!(out, "{title}\n");
    let _ = writeln!(
        out,
        "*   **Successful requests:** {}{}",
        l.requests,
        if l.failed > 0 {
            format!(" ({} failed)", l.failed)
        } else {
            String::new()
        }
    );
    if let Some(reason) = failure_reason(p, l) {
        let _ = writeln!(out, "*   **Failed:** {reason}");
    }
    out.push_str(&scalar_line(
        "Total Time",
        format!("{:.2}", z(l.duration_s)),
        "s",
        c,
        "total_time_s",
    ));
    out.push_str(&scalar_line(
        "Output token throughput",
        fig(l.output_throughput_tok_s, 2, ok),
        "tok/s",
        c,
        "output_throughput_tok_s",
    ));
    out.push_str(&scalar_line(
        "Total token throughput",
        fig(l.total_throughput_tok_s, 2, ok),
        "tok/s (prompt + output)",
        c,
        "total_token_throughput_tok_s",
    ));
    let offered = match offered_vs_served(l) {
        Some((q, served, overloaded)) => format!(
            " (offered {q} req/s{})",
            if overloaded {
                format!(
                    "; OVERLOADED: the server serves {:.0}% of it, so the queue grows for the whole run and \
                     latencies depend on how long the run lasts",
                    100.0 * served / q
                )
            } else {
                String::new()
            }
        ),
        None => String::new(),
    };
    out.push_str(&format!(
        "*   **Request throughput:** {} req/s{offered}; preemptions: {}; peak KV blocks: {} of {}\n\n",
        fig(l.request_throughput_req_s, 3, ok),
        l.engine.preemptions,
        l.engine.peak_blocks_used,
        l.engine.capacity_blocks
    ));
    if offline && ok && l.duration_s > 0.0 {
        // vLLM's offline benchmarks print these over the generate call's wall time.
        let _ = writeln!(
            out,
            "*   **vLLM's offline benchmarks would print:** `Throughput: {:.2} requests/s, {:.2} total tokens/s, \
             {:.2} output tokens/s` (vllm bench throughput), `Avg latency: {:.4} seconds` (vllm bench latency)\n",
            z(l.request_throughput_req_s),
            z(l.total_throughput_tok_s),
            z(l.output_throughput_tok_s),
            z(l.duration_s)
        );
    }
    if let (Some(t), true) = (&l.tts, ok) {
        let _ = writeln!(
            out,
            "*   **Audio:** {:.1} s generated, {:.1}× real time; RTF mean {:.3} (P95 {:.3}); TTFB mean {:.1} ms (P95 {:.1} ms)",
            z(t.audio_s), z(t.throughput_x_realtime), z(t.rtf.mean), z(t.rtf.p95), z(t.ttfb_ms.mean), z(t.ttfb_ms.p95)
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
        rows.push(stat_row(name, s, ok));
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
        out.push_str(&level_block(p, l, comparison.and_then(|c| c.get(i)), terminal));
    }
    out
}

/// One CSV row per level with the headline figures; a level whose requests all failed has empty
/// figure cells. `total_token_throughput_tok_s` counts prompt + output tokens (vLLM's "Total
/// token throughput": prompts as the client counts them, a chat template's tokens left out).
pub fn csv(p: &Prediction) -> String {
    let mut out = String::from(
        "gpu,model,engine,tensor_parallel_size,replicas,concurrency,qps,requests,failed,duration_s,request_throughput_req_s,\
output_throughput_tok_s,total_token_throughput_tok_s,ttft_ms_mean,ttft_ms_p50,ttft_ms_p95,ttft_ms_p99,tpot_ms_mean,\
tpot_ms_p50,tpot_ms_p95,tpot_ms_p99,itl_ms_mean,itl_ms_p95,itl_ms_p99,e2e_latency_ms_mean,e2e_latency_ms_p50,\
e2e_latency_ms_p95,e2e_latency_ms_p99,queue_ms_mean,preemptions\n",
    );
    let s = &p.scenario;
    for l in &p.levels {
        let ok = l.requests > 0;
        let c = |v: f64, d: usize| {
            if ok && v.is_finite() {
                format!("{:.d$}", z(v))
            } else {
                String::new()
            }
        };
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{:.4},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            s.gpu.id,
            s.model.id,
            s.engine.version,
            s.engine.tensor_parallel_size,
            s.replicas,
            l.concurrency.map_or(String::new(), |c| c.to_string()),
            l.qps.map_or(String::new(), rate_text),
            l.requests,
            l.failed,
            z(l.duration_s),
            c(l.request_throughput_req_s, 4),
            c(l.output_throughput_tok_s, 3),
            c(l.total_throughput_tok_s, 3),
            c(l.ttft_ms.mean, 3),
            c(l.ttft_ms.p50, 3),
            c(l.ttft_ms.p95, 3),
            c(l.ttft_ms.p99, 3),
            c(l.tpot_ms.mean, 4),
            c(l.tpot_ms.p50, 4),
            c(l.tpot_ms.p95, 4),
            c(l.tpot_ms.p99, 4),
            c(l.itl_ms.mean, 4),
            c(l.itl_ms.p95, 4),
            c(l.itl_ms.p99, 4),
            c(l.e2e_latency_ms.mean, 3),
            c(l.e2e_latency_ms.p50, 3),
            c(l.e2e_latency_ms.p95, 3),
            c(l.e2e_latency_ms.p99, 3),
            c(l.queue_ms.mean, 3),
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

/// How far measurements fell from unfitted predictions in the corpus (the embedded calibration,
/// data/calibration.yaml), as one sentence; None if it does not load.
pub fn unmeasured_band_line() -> Option<String> {
    let c = crate::fit::classes::builtin_calibration().ok()?;
    let range = |b: &crate::fit::classes::ErrorBand| {
        let (lo, hi) = b.measured_range_pct();
        format!("{lo:+.0}…{hi:+.0}% ({} levels)", b.levels)
    };
    Some(format!(
        "Where nobody measured: on the corpus's sources, each predicted by the prior learned without it, 90% of measurements fell within {} of the predicted throughput, {} of the mean E2E latency and {} of the mean TTFT (data/calibration.yaml, `servecast validate --calibration`)",
        range(&c.throughput),
        range(&c.e2e_latency),
        range(&c.ttft),
    ))
}
