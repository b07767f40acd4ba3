//! `sweep`: many configurations simulated in parallel, ranked.

use std::path::PathBuf;

use super::{scenario_builder, write_file, DeploymentOptions, Outcome};
use crate::error::{Error, Result};
use crate::report::sweep::render_sweep;
use crate::report::Format;
use crate::sweep::{rank, run_sweep, Axis, RankMetric, SweepDesign, SweepSpec};

/// What `sweep` is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepCommand {
    /// Swept parameters, `name=values` each (see [`Axis::parse`]).
    pub axes: Vec<String>,
    /// Draw this many random configurations instead of the full grid.
    pub samples: Option<u32>,
    /// Seed of the random configurations.
    pub sample_seed: u64,
    /// Rank by this metric (see [`RankMetric::parse`]).
    pub rank_by: String,
    /// Rows shown.
    pub top: usize,
    /// Also write every row here (.csv or .json).
    pub output: Option<PathBuf>,
    /// Show a progress bar.
    pub progress: bool,
    /// Output format.
    pub format: Format,
    /// Throughput–latency chart.
    pub plot: Option<PathBuf>,
    /// Memory breakdown of the best configurations.
    pub plot_memory: Option<PathBuf>,
}

impl Default for SweepCommand {
    fn default() -> Self {
        SweepCommand {
            axes: Vec::new(),
            samples: None,
            sample_seed: 0,
            rank_by: "request_throughput_req_s".into(),
            top: 20,
            output: None,
            progress: false,
            format: Format::Table,
            plot: None,
            plot_memory: None,
        }
    }
}

/// Simulates every configuration of the sweep, ranks them and renders the top rows (every row
/// to `output` when given).
pub fn sweep(d: &DeploymentOptions, a: &SweepCommand) -> Result<Outcome> {
    let mut notes = Vec::new();
    let format = a.format;
    let metric = RankMetric::parse(&a.rank_by, "--rank-by")?;
    let axes = a
        .axes
        .iter()
        .map(|t| Axis::parse(t, "--axis"))
        .collect::<Result<Vec<_>>>()?;
    for (i, axis) in axes.iter().enumerate() {
        if axes[..i].iter().any(|other| other.param == axis.param) {
            return Err(Error::invalid(
                "--axis",
                axis.param.name(),
                "is swept twice; give all its values in one --axis (name=v1,v2,…)",
            ));
        }
    }
    let design = match a.samples {
        Some(0) => return Err(Error::invalid("--samples", "samples", "must be ≥ 1")),
        Some(n) => SweepDesign::Random {
            samples: n,
            seed: a.sample_seed,
        },
        None => SweepDesign::Grid,
    };
    let spec = SweepSpec { axes, design };
    let base = scenario_builder(d, &mut notes)?;
    // Fail fast on a base that does not build at all (unknown model, bad workload).
    if let Err(e) = base.clone().without_report().build() {
        if !matches!(e, Error::EngineRefused { .. }) {
            return Err(super::at_flags(e));
        }
    }
    let started = std::time::Instant::now();
    let mut rows = run_sweep(&base, &spec, a.progress)?;
    let elapsed = started.elapsed().as_secs_f64();
    rank(&mut rows, metric);
    if let Some(path) = &a.output {
        let text = match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => render_sweep(&rows, metric, usize::MAX, Format::Csv)?,
            Some("json") => render_sweep(&rows, metric, usize::MAX, Format::Json)?,
            _ => {
                return Err(Error::invalid(
                    "-o",
                    "output",
                    format!("{}: the file name must end in .csv or .json", path.display()),
                ))
            }
        };
        write_file(path, &text)?;
    }
    if let Some(path) = &a.plot {
        crate::charts::draw_panels(
            &format!("Sweep of {} configurations", rows.len()),
            &crate::charts::sweep_panels(&rows),
            path,
            (1700, 700),
        )?;
        notes.push(format!("chart written to {}", path.display()));
    }
    if let Some(path) = &a.plot_memory {
        let mut configs = Vec::new();
        for r in rows.iter().filter(|r| r.metrics().is_some()).take(a.top.min(12)) {
            let s = crate::sweep::apply_settings(&base, &r.settings)
                .without_report()
                .build()?;
            let label = r
                .settings
                .iter()
                .map(|(p, v)| format!("{}={v}", p.short()))
                .collect::<Vec<_>>()
                .join(" ");
            configs.push((label, s.memory()?));
        }
        crate::charts::memory_breakdown(
            "Memory of the best configurations",
            &configs,
            path,
            (1500, 120 + 60 * configs.len() as u32),
        )?;
        notes.push(format!("chart written to {}", path.display()));
    }
    let text = render_sweep(&rows, metric, a.top, format)?;
    if matches!(format, Format::Table | Format::Markdown) {
        notes.push(format!("swept in {elapsed:.2} s"));
    }
    Ok(Outcome { text, notes })
}
