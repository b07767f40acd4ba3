//! `sweep`: many configurations simulated in parallel, ranked.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{scenario_builder, DeploymentOptions, Outcome};
use crate::error::{Error, Result};
use crate::report::sweep::render_sweep;
use crate::report::Format;
use crate::sweep::{
    check_sweep_size, csv_header, csv_row, rank, run_configs, Axis, RankMetric, SweepDesign, SweepRow, SweepRunOptions,
    SweepSpec,
};

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
    /// Also write every row here (.csv, .json or .jsonl), each as its configuration finishes
    /// (a .json file's rows stream to NAME.partial.jsonl beside it), all of them ranked once the
    /// sweep ends.
    pub output: Option<PathBuf>,
    /// Stop a configuration after this many seconds (checked between its levels); 0: no limit.
    pub config_timeout_s: f64,
    /// Show a progress bar.
    pub progress: bool,
    /// Output format.
    pub format: Format,
    /// Throughput–latency chart.
    pub plot: Option<PathBuf>,
    /// Memory breakdown of the best configurations.
    pub plot_memory: Option<PathBuf>,
    /// Test hook, passed to [`SweepRunOptions`]: called with each configuration's index on its
    /// worker thread before the configuration is built.
    #[doc(hidden)]
    pub test_hook: Option<crate::sweep::TestHook>,
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
            config_timeout_s: 600.0,
            progress: false,
            format: Format::Table,
            plot: None,
            plot_memory: None,
            test_hook: None,
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
    if !(a.config_timeout_s.is_finite() && (0.0..=1e6).contains(&a.config_timeout_s)) {
        return Err(Error::invalid(
            "--config-timeout",
            "config_timeout",
            format!("{} is outside [0, 1,000,000] seconds (0: no limit)", a.config_timeout_s),
        ));
    }
    let spec = SweepSpec { axes, design };
    let kind = a.output.as_deref().map(RowFileKind::of).transpose()?;
    let base = scenario_builder(d, &mut notes)?;
    // Fail fast on a base that does not build at all (unknown model, bad workload).
    if let Err(e) = base.clone().without_report().build() {
        if !matches!(e, Error::EngineRefused { .. }) {
            return Err(super::at_flags(e));
        }
    }
    let configs = spec.configs()?;
    if let SweepDesign::Random { samples, .. } = spec.design {
        if configs.len() < samples as usize {
            notes.push(format!(
                "note: the space has only {k} distinct configurations; running all {k}",
                k = configs.len()
            ));
        }
    }
    check_sweep_size(&base, &spec, &configs)?;
    let params: Vec<_> = spec.axes.iter().map(|a| a.param).collect();
    let file = match (&a.output, kind) {
        (Some(path), Some(kind)) => Some(RowFile::create(path, kind, &params)?),
        _ => None,
    };
    let sink = |rows: &[SweepRow]| file.as_ref().map_or(Ok(()), |f| f.append(rows));
    let options = SweepRunOptions {
        progress: a.progress,
        config_timeout: (a.config_timeout_s > 0.0).then(|| Duration::from_secs_f64(a.config_timeout_s)),
        on_config_done: Some(&sink),
        test_hook: a.test_hook,
    };
    let started = std::time::Instant::now();
    let mut rows = run_configs(&base, &configs, &options)?;
    let elapsed = started.elapsed().as_secs_f64();
    rank(&mut rows, metric);
    if let Some(file) = file {
        file.finish(&rows, metric)?;
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

/// The kinds of row file `-o` writes, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowFileKind {
    Csv,
    Json,
    JsonLines,
}

impl RowFileKind {
    fn of(path: &Path) -> Result<RowFileKind> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => Ok(RowFileKind::Csv),
            Some("json") => Ok(RowFileKind::Json),
            Some("jsonl") => Ok(RowFileKind::JsonLines),
            _ => Err(Error::invalid(
                "-o",
                "output",
                format!("{}: the file name must end in .csv, .json or .jsonl", path.display()),
            )),
        }
    }
}

/// The row file of `-o`, written as the sweep runs so an interrupted sweep keeps the rows of the
/// configurations that finished.
///
/// A `.csv` or `.jsonl` file gets each row as its configuration finishes (completion order, each
/// row with its `config` index; a CSV's header first). A `.json` file is one array, which cannot
/// grow row by row: the rows stream to `NAME.partial.jsonl` beside it, and `NAME.json` (emptied
/// when the sweep starts) is written when the sweep ends. At the end every kind holds every row,
/// ranked as the table, replaced in one rename (the `.partial.jsonl` file is removed).
struct RowFile {
    path: PathBuf,
    /// Where rows stream: `path`, or the `.partial.jsonl` file beside a `.json` one.
    stream_path: PathBuf,
    stream: File,
    kind: RowFileKind,
}

impl RowFile {
    fn create(path: &Path, kind: RowFileKind, params: &[crate::sweep::SweepParam]) -> Result<RowFile> {
        let io = |p: &Path| {
            let p = p.display().to_string();
            move |source| Error::Io { path: p, source }
        };
        let stream_path = match kind {
            RowFileKind::Json => {
                // Empty the old array now, so it is never mistaken for this sweep's rows.
                File::create(path).map_err(io(path))?;
                path.with_extension("partial.jsonl")
            }
            RowFileKind::Csv | RowFileKind::JsonLines => path.to_path_buf(),
        };
        let mut stream = File::create(&stream_path).map_err(io(&stream_path))?;
        if kind == RowFileKind::Csv {
            stream
                .write_all(csv_header(params).as_bytes())
                .map_err(io(&stream_path))?;
        }
        Ok(RowFile {
            path: path.to_path_buf(),
            stream_path,
            stream,
            kind,
        })
    }

    /// Appends a finished configuration's rows, one write per row (a File is unbuffered: each
    /// row is with the OS when this returns).
    fn append(&self, rows: &[SweepRow]) -> Result<()> {
        for row in rows {
            let line = match self.kind {
                RowFileKind::Csv => csv_row(row),
                RowFileKind::Json | RowFileKind::JsonLines => json_line(row)?,
            };
            (&self.stream).write_all(line.as_bytes()).map_err(|source| Error::Io {
                path: self.stream_path.display().to_string(),
                source,
            })?;
        }
        Ok(())
    }

    /// Replaces the file with every row, ranked (through a temporary file and a rename).
    fn finish(self, rows: &[SweepRow], metric: RankMetric) -> Result<()> {
        let text = match self.kind {
            RowFileKind::Csv => render_sweep(rows, metric, usize::MAX, Format::Csv)?,
            RowFileKind::Json => render_sweep(rows, metric, usize::MAX, Format::Json)?,
            RowFileKind::JsonLines => rows.iter().map(json_line).collect::<Result<String>>()?,
        };
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".tmp");
        let tmp = self.path.with_file_name(name);
        let io = |p: &Path| {
            let p = p.display().to_string();
            move |source| Error::Io { path: p, source }
        };
        std::fs::write(&tmp, text).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &self.path).map_err(io(&self.path))?;
        if self.kind == RowFileKind::Json {
            drop(self.stream);
            std::fs::remove_file(&self.stream_path).map_err(io(&self.stream_path))?;
        }
        Ok(())
    }
}

fn json_line(row: &SweepRow) -> Result<String> {
    let mut line = serde_json::to_string(row).map_err(|e| Error::invalid("-o", "output", e.to_string()))?;
    line.push('\n');
    Ok(line)
}
