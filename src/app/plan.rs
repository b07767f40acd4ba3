//! `plan`: capacity planning against an SLO, as text or JSON.

use std::fmt::Write;
use std::path::PathBuf;

use super::{deployment_title, scenario_builder, DeploymentOptions, Outcome};
use crate::error::{Error, Result};
use crate::plan::{cheapest, knee, max_load, DeploymentSpace, LoadKind, PlanOptions, Slo};
use crate::report::Format;
use crate::scenario::Scenario;

/// What `plan` is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanCommand {
    /// The SLO: `ttft_p95_ms=500,tpot_p95_ms=50`, `goodput_pct=N`.
    pub slo: String,
    /// Load to vary: `qps` or `concurrency`.
    pub load: String,
    /// Find the cheapest deployment for this request rate (req/s) instead of the most load.
    pub target_qps: Option<f64>,
    /// GPU types for `target_qps` (default: the deployment's).
    pub gpus: Vec<String>,
    /// Tensor-parallel sizes for `target_qps`.
    pub tp_options: Vec<u32>,
    /// gpu_memory_utilization values for `target_qps` (default: the deployment's).
    pub util_options: Vec<f64>,
    /// max_num_seqs values for `target_qps` (default: the deployment's).
    pub seqs_options: Vec<u32>,
    /// Most replicas per deployment for `target_qps`.
    pub max_replicas: u32,
    /// Simulated seconds of arrivals per evaluation (open loop), s.
    pub duration_s: f64,
    /// Output format (table or json).
    pub format: Format,
    /// The scanned load curve chart.
    pub plot: Option<PathBuf>,
}

impl Default for PlanCommand {
    fn default() -> Self {
        PlanCommand {
            slo: String::new(),
            load: "qps".into(),
            target_qps: None,
            gpus: Vec::new(),
            tp_options: vec![1, 2, 4],
            util_options: Vec::new(),
            seqs_options: Vec::new(),
            max_replicas: 16,
            duration_s: PlanOptions::default().duration_s,
            format: Format::Table,
            plot: None,
        }
    }
}

/// Plans capacity: the most load within the SLO and the knee, or (with `target_qps`) the
/// cheapest deployments for a rate.
pub fn plan(d: &DeploymentOptions, c: &PlanCommand) -> Result<Outcome> {
    let mut notes = Vec::new();
    let a = c;
    let format = c.format;
    let slo = Slo::parse(&a.slo, "--slo")?;
    let kind = LoadKind::parse(&a.load, "--load")?;
    if !(a.duration_s > 0.0 && a.duration_s.is_finite()) {
        return Err(Error::invalid("--duration-s", "duration_s", "must be > 0 seconds"));
    }
    let opts = PlanOptions {
        duration_s: a.duration_s,
        ..PlanOptions::default()
    };
    let builder = scenario_builder(d, &mut notes)?;
    let base = builder.clone().without_report().build().map_err(super::at_flags)?;
    let mut t = String::new();
    let blocks = base.memory().map(|m| m.num_gpu_blocks).unwrap_or(0);
    let describe = |t: &mut String, check: &crate::plan::SloCheck, level: &crate::metrics::level::LevelResult| {
        if let Some(reason) = crate::report::text::failure_reason_for(&base, blocks, level) {
            let _ = writeln!(t, "    {reason}");
        }
        for r in &check.targets {
            let value = if level.requests == 0 {
                "–".to_string()
            } else {
                format!("{:.2}", r.value + 0.0)
            };
            let _ = writeln!(
                t,
                "    {:<14} {:>10}  (bound {:.2}, {} {:+.1}%)",
                r.target,
                value,
                r.bound,
                if r.met { "met, margin" } else { "BROKEN by" },
                r.margin().abs() * 100.0 * if r.met { 1.0 } else { -1.0 }
            );
        }
    };
    if let Some(target) = a.target_qps {
        let space = DeploymentSpace {
            gpus: if a.gpus.is_empty() {
                vec![base.gpu.id.clone()]
            } else {
                a.gpus.clone()
            },
            tensor_parallel_sizes: a.tp_options.clone(),
            utils: if a.util_options.is_empty() {
                vec![base.engine.gpu_memory_utilization]
            } else {
                a.util_options.clone()
            },
            max_num_seqs: if a.seqs_options.is_empty() {
                vec![base.engine.max_num_seqs]
            } else {
                a.seqs_options.clone()
            },
            max_replicas: a.max_replicas.clamp(1, 64),
        };
        let started = std::time::Instant::now();
        let answer = cheapest(&builder, &slo, target, &space, &opts)?;
        if format == Format::Json {
            let text =
                serde_json::to_string_pretty(&answer).map_err(|e| Error::invalid("--format", "json", e.to_string()))?;
            return Ok(Outcome { text, notes });
        }
        let _ = writeln!(
            t,
            "Cheapest deployments of {} for {target} req/s within {} ({} simulations, {:.1} s):\n",
            base.model.id,
            a.slo,
            answer.evaluations,
            started.elapsed().as_secs_f64()
        );
        for (i, c) in answer.candidates.iter().take(10).enumerate() {
            let _ = writeln!(
                t,
                "{:>2}. {} × {} (TP {} × {} replicas), util {}, max_num_seqs {}: ${:.2}/h  [profile {}]",
                i + 1,
                c.gpus,
                c.gpu,
                c.tensor_parallel_size,
                c.replicas,
                c.gpu_memory_utilization,
                c.max_num_seqs,
                c.price_usd_per_hour,
                c.profile
            );
            if i == 0 {
                let _ = writeln!(t, "    price: {}", c.price_source);
                let _ = writeln!(
                    t,
                    "    re-simulated at {target} req/s: {:.1} req/s served, {:.0} tok/s, TTFT P95 {:.0} ms, TPOT P95 {:.1} ms",
                    c.level.request_throughput_req_s,
                    c.level.output_throughput_tok_s,
                    c.level.ttft_ms.p95,
                    c.level.tpot_ms.p95
                );
                describe(&mut t, &c.check, &c.level);
            }
        }
        if answer.candidates.is_empty() {
            let _ = writeln!(t, "No deployment in the space meets the SLO.");
        }
        if !answer.rejected.is_empty() {
            let _ = writeln!(t, "\nCannot meet it ({}):", answer.rejected.len());
            for r in answer.rejected.iter().take(12) {
                let _ = writeln!(
                    t,
                    "  {} TP {} util {} seqs {}: {}",
                    r.gpu, r.tensor_parallel_size, r.gpu_memory_utilization, r.max_num_seqs, r.reason
                );
            }
        }
        return Ok(Outcome { text: t, notes });
    }
    let answer = max_load(&base, &slo, kind, &opts)?;
    let light = match kind {
        LoadKind::RequestRate => 0.25,
        LoadKind::Concurrency => 1.0,
    };
    let top = answer.max_load.map_or(light * 64.0, |m| (m * 3.0).max(light * 4.0));
    let knee = knee(&base, kind, light, top, 12, &opts)?;
    if let Some(path) = &c.plot {
        let curve = match &knee {
            Some(k) => k.curve.clone(),
            None => scan_curve(&base, kind, light, top, &opts)?,
        };
        crate::charts::draw_panels(
            &format!("{}: {}", deployment_title(&base), slo),
            &crate::charts::plan_panels(&curve, kind.unit(), answer.max_load, knee.as_ref().map(|k| k.load)),
            path,
            (1600, 650),
        )?;
        notes.push(format!("chart written to {}", path.display()));
    }
    if format == Format::Json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            slo: &'a Slo,
            answer: &'a crate::plan::MaxLoad,
            knee: &'a Option<crate::plan::Knee>,
        }
        let out = Out {
            slo: &slo,
            answer: &answer,
            knee: &knee,
        };
        let text = serde_json::to_string_pretty(&out).map_err(|e| Error::invalid("--format", "json", e.to_string()))?;
        return Ok(Outcome { text, notes });
    }
    let unit = kind.unit();
    let _ = writeln!(
        t,
        "{} on {} × {} (TP {}, {} replica(s), util {}, max_num_seqs {}), SLO {}:",
        base.model.id,
        base.engine.tensor_parallel_size * base.replicas,
        base.gpu.id,
        base.engine.tensor_parallel_size,
        base.replicas,
        base.engine.gpu_memory_utilization,
        base.engine.max_num_seqs,
        a.slo
    );
    match (answer.max_load, answer.unbroken_up_to) {
        (Some(m), Some(ceiling)) => {
            let _ = writeln!(
                t,
                "\nThe SLO is not broken up to {ceiling:.0} {unit}, the search's ceiling ({} simulations): no capacity \
                 limit was found (check that the SLO's bounds are the ones meant)",
                answer.evaluations
            );
            let l = &answer.at_max.level;
            let _ = writeln!(
                t,
                "  at {m:.2} {unit}: {:.2} req/s served, TTFT mean/P95 {:.0}/{:.0} ms",
                l.request_throughput_req_s, l.ttft_ms.mean, l.ttft_ms.p95
            );
            describe(&mut t, &answer.at_max.check, &answer.at_max.level);
        }
        (Some(m), None) => {
            let _ = writeln!(
                t,
                "\nHighest load within the SLO: {m:.2} {unit} ({} simulations)",
                answer.evaluations
            );
            let l = &answer.at_max.level;
            let _ = writeln!(
                t,
                "  re-simulated there: {:.2} req/s, {:.0} out tok/s, TTFT mean/P95 {:.0}/{:.0} ms, TPOT P95 {:.1} ms, E2E P95 {:.0} ms",
                l.request_throughput_req_s, l.output_throughput_tok_s, l.ttft_ms.mean, l.ttft_ms.p95, l.tpot_ms.p95, l.e2e_latency_ms.p95
            );
            describe(&mut t, &answer.at_max.check, &answer.at_max.level);
            if let Some(above) = &answer.above {
                let _ = writeln!(t, "  at {:.2} {unit} (+10%) the SLO breaks:", above.load);
                describe(&mut t, &above.check, &above.level);
            }
            let _ = writeln!(t, "  what limits it there: {}", answer.at_max.bottleneck);
        }
        (None, _) => {
            let _ = writeln!(
                t,
                "\nNo load meets the SLO: even {:.2} {unit} breaks it:",
                answer.at_max.load
            );
            describe(&mut t, &answer.at_max.check, &answer.at_max.level);
        }
    }
    match &knee {
        Some(k) => {
            let _ = writeln!(
                t,
                "\nKnee: mean TTFT doubles from {:.0} ms (light load) to {:.0} ms at {:.2} {unit}: {}",
                k.light_load_ttft_ms, k.ttft_ms, k.load, k.reason
            );
        }
        None => {
            let _ = writeln!(t, "\nKnee: mean TTFT does not double up to {top:.2} {unit}");
        }
    }
    Ok(Outcome { text: t, notes })
}

/// The load curve without a knee: (load, mean TTFT ms, output tok/s) at 12 loads.
pub fn scan_curve(
    base: &Scenario,
    kind: LoadKind,
    from: f64,
    to: f64,
    opts: &PlanOptions,
) -> Result<Vec<(f64, f64, f64)>> {
    let slo = crate::plan::Slo::parse("ttft_mean_ms=1e300", "plan")?;
    let ratio = (to / from).max(1.0).powf(1.0 / 11.0);
    (0..12)
        .map(|i| {
            let p = crate::plan::evaluate(base, &slo, kind, from * ratio.powi(i), opts)?;
            Ok((p.load, p.level.ttft_ms.mean, p.level.output_throughput_tok_s))
        })
        .collect()
}
