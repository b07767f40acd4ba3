//! `simulate`: one deployment under its load levels, with measured figures beside the predicted
//! ones when a measured report backs the scenario.

use std::path::PathBuf;

use super::{deployment_title, resolve, DeploymentOptions, Outcome};
use crate::charts;
use crate::error::{Error, Result};
use crate::measured::builtin_reports;
use crate::report::per_request::PerRequestWriter;
use crate::report::{compare, render, Format};
use crate::scenario::{Prediction, Scenario};

/// How `simulate` reports: format, replications, charts.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulateOptions {
    /// Output format.
    pub format: Format,
    /// Replications over seeds (and the fitted parameters' covariance) for 90% intervals; 1: one run.
    pub replications: u32,
    /// Load curves chart (.png / .svg).
    pub plot: Option<PathBuf>,
    /// Memory breakdown chart.
    pub plot_memory: Option<PathBuf>,
    /// TTFT distribution at the highest load level.
    pub plot_ttft: Option<PathBuf>,
    /// Every request's record, written as it finishes (.jsonl / .ndjson / .csv).
    pub per_request: Option<PathBuf>,
}

impl Default for SimulateOptions {
    fn default() -> Self {
        SimulateOptions {
            format: Format::Table,
            replications: 1,
            plot: None,
            plot_memory: None,
            plot_ttft: None,
            per_request: None,
        }
    }
}

/// Simulates the deployment and renders the prediction (beside the measured report's figures
/// when the scenario comes from one).
pub fn simulate(d: &DeploymentOptions, o: &SimulateOptions) -> Result<Outcome> {
    let mut notes = Vec::new();
    if o.replications == 0 || o.replications > 10_000 {
        return Err(Error::invalid(
            "--replications",
            "replications",
            "must be in 1..=10000 (1: a single run)",
        ));
    }
    if o.per_request.is_some() && o.replications > 1 {
        return Err(Error::invalid(
            "--per-request",
            "per_request",
            "records one run; it cannot be combined with --replications above 1",
        ));
    }
    let resolved = resolve(d, &mut notes)?;
    let mut scenario = resolved.builder.build().map_err(super::at_flags)?;
    if let Some(r) = &resolved.replayed {
        scenario.measured_report = Some(r.id.clone());
    }
    let report = match (resolved.replayed, &scenario.measured_report) {
        (Some(r), _) => Some(r),
        (None, Some(id)) => builtin_reports()?.into_iter().find(|r| &r.id == id),
        (None, None) => None,
    };
    let mut text = run_one(&scenario, report.as_ref(), o, true, &mut notes)?;
    for (builder, r) in resolved.more_replays {
        let mut s = builder.build().map_err(super::at_flags)?;
        s.measured_report = Some(r.id.clone());
        let more = run_one(&s, Some(&r), o, false, &mut notes)?;
        text.push_str(if o.format == Format::Json || o.format == Format::Csv {
            "\n"
        } else {
            "\n\n"
        });
        text.push_str(&more);
    }
    Ok(Outcome { text, notes })
}

/// Simulates one scenario and renders it beside `report` (charts only for the first).
fn run_one(
    scenario: &Scenario,
    report: Option<&crate::measured::MeasuredReport>,
    o: &SimulateOptions,
    charts: bool,
    notes: &mut Vec<String>,
) -> Result<String> {
    let prediction = if o.replications > 1 {
        crate::uncertainty::predict_with_intervals(
            scenario,
            &crate::uncertainty::UncertaintyOptions {
                replications: o.replications,
                ..Default::default()
            },
        )?
    } else if let Some(path) = o.per_request.as_ref().filter(|_| charts) {
        // The first scenario's requests (a replay of several runs records the first).
        let mut writer = PerRequestWriter::create(path)?;
        let prediction = scenario.run_recording(&mut writer)?;
        let rows = writer.finish()?;
        notes.push(format!("{rows} request records written to {}", path.display()));
        prediction
    } else {
        scenario.run()?
    };
    if charts {
        draw_charts(o, scenario, &prediction, notes)?;
    }
    notes.extend(level_warnings(&prediction));
    let comparison = report.map(|r| compare(r, &prediction.levels));
    render(
        &prediction,
        report.zip(comparison.as_deref()).map(|(r, c)| (r.id.as_str(), c)),
        o.format,
    )
}

/// Draws the charts `o` asks for.
pub fn draw_charts(
    o: &SimulateOptions,
    scenario: &Scenario,
    prediction: &Prediction,
    notes: &mut Vec<String>,
) -> Result<()> {
    let title = deployment_title(scenario);
    if let Some(path) = &o.plot {
        let band = if prediction.intervals.is_empty() {
            ""
        } else {
            ", 90% band"
        };
        charts::draw_panels(
            &format!("{title}: predicted{band}"),
            &charts::prediction_panels(prediction),
            path,
            (1800, 620),
        )?;
        notes.push(format!("chart written to {}", path.display()));
    }
    if let Some(path) = &o.plot_memory {
        charts::memory_breakdown(
            &format!("Memory of {title}"),
            &[(scenario.gpu.id.clone(), prediction.memory.clone())],
            path,
            (1400, 320),
        )?;
        notes.push(format!("chart written to {}", path.display()));
    }
    if let Some(path) = &o.plot_ttft {
        let Some(last) = scenario.workload.levels().len().checked_sub(1) else {
            return Err(Error::invalid("--plot-ttft", "workload", "has no load level"));
        };
        let out = scenario.simulate_level(last, &prediction.memory, &scenario.cost_model());
        let ttfts: Vec<f64> = out
            .records
            .iter()
            .filter(|r| !r.failed)
            .map(|r| r.first_token_ns.saturating_sub(r.send_ns) as f64 / 1e6)
            .collect();
        let level = &prediction.levels[last];
        let load = match (level.concurrency, level.qps) {
            (Some(c), _) => format!("{c} users"),
            (None, Some(q)) => format!("{q} req/s"),
            _ => "the trace".into(),
        };
        charts::ttft_distribution(&format!("TTFT at {load}: {title}"), &ttfts, path, (1300, 650))?;
        notes.push(format!("chart written to {}", path.display()));
    }
    Ok(())
}

/// Warnings a user must not miss, one per level: failed requests (with the reason) and
/// open-loop levels the server cannot keep up with.
pub fn level_warnings(prediction: &Prediction) -> Vec<String> {
    use crate::report::text::{failure_reason, offered_vs_served, rate_text};
    let mut out = Vec::new();
    for l in &prediction.levels {
        let level = match (l.concurrency, l.qps) {
            (Some(c), _) => format!("concurrency {c}"),
            (None, Some(q)) => format!("{} req/s", rate_text(q)),
            _ => "the trace".into(),
        };
        if let Some(reason) = failure_reason(prediction, l) {
            out.push(format!("warning: {level}: {reason}"));
        }
        if let Some((q, served, true)) = offered_vs_served(l) {
            out.push(format!(
                "warning: {level}: overloaded — offered {q} req/s, served {served:.2} req/s (mean TTFT {:.1} s); \
                 the queue grows for the whole run",
                l.ttft_ms.mean / 1000.0
            ));
        }
    }
    out
}
