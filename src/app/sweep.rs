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
    check_sweep_size, csv_header, csv_row, rank, run_configs_indexed, shard_configs, Axis, RankMetric, SweepDesign,
    SweepRow, SweepRunOptions, SweepSpec,
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
    /// Run only shard `i` of `n` (`(i, n)`, 0 ≤ i < n): the configurations whose index is i
    /// modulo n; their rows go to `output` (a .jsonl file, with a header line naming the shard)
    /// for [`merge`].
    pub shard: Option<(usize, usize)>,
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
            shard: None,
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
    if let Some(line) = d.client.as_deref() {
        if crate::workload::client_command::ClientCommand::parse(line)?.levels_depend_on_the_server() {
            return Err(Error::invalid(
                "--client",
                "load",
                "its levels come from each server's own simulated rates (GuideLLM's sweep, or a run bounded by \
                 --max-seconds at a concurrency), so every configuration of the sweep would offer other load: \
                 give the rates or counts (--rate-type constant --rate R, --max-requests N), or simulate each \
                 configuration on its own",
            ));
        }
    }
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
    let header = match a.shard {
        None => None,
        Some((i, n)) => {
            if kind != Some(RowFileKind::JsonLines) {
                return Err(Error::invalid(
                    "--shard",
                    "output",
                    "a shard writes its rows for sweep-merge: give -o FILE.jsonl",
                ));
            }
            Some(ShardHeader {
                shard: i,
                shards: n,
                configs: configs.len(),
                sweep: sweep_fingerprint(d, a),
            })
        }
    };
    let file = match (&a.output, kind) {
        (Some(path), Some(kind)) => Some(RowFile::create(path, kind, &params, header.as_ref())?),
        _ => None,
    };
    let selected: Vec<(usize, crate::sweep::Settings)> = match a.shard {
        Some((i, n)) => shard_configs(&configs, i, n),
        None => configs.iter().cloned().enumerate().collect(),
    };
    let sink = |rows: &[SweepRow]| file.as_ref().map_or(Ok(()), |f| f.append(rows));
    let options = SweepRunOptions {
        progress: a.progress,
        config_timeout: (a.config_timeout_s > 0.0).then(|| Duration::from_secs_f64(a.config_timeout_s)),
        on_config_done: Some(&sink),
        test_hook: a.test_hook,
    };
    let started = std::time::Instant::now();
    let mut rows = run_configs_indexed(&base, &selected, &options)?;
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
    /// A shard's header line (first line of its .jsonl file).
    header: Option<String>,
    path: PathBuf,
    /// Where rows stream: `path`, or the `.partial.jsonl` file beside a `.json` one.
    stream_path: PathBuf,
    stream: File,
    kind: RowFileKind,
}

impl RowFile {
    fn create(
        path: &Path,
        kind: RowFileKind,
        params: &[crate::sweep::SweepParam],
        header: Option<&ShardHeader>,
    ) -> Result<RowFile> {
        let header = header.map(ShardHeader::line).transpose()?;
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
        if let Some(line) = &header {
            stream.write_all(line.as_bytes()).map_err(io(&stream_path))?;
        }
        Ok(RowFile {
            header,
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
            RowFileKind::JsonLines => {
                let body = rows.iter().map(json_line).collect::<Result<String>>()?;
                format!("{}{body}", self.header.as_deref().unwrap_or(""))
            }
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

/// The first line of a shard's row file: which shard of which sweep it holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct ShardHeader {
    /// This shard's index, 0-based.
    shard: usize,
    /// Shards of the sweep.
    shards: usize,
    /// Configurations of the whole sweep.
    configs: usize,
    /// A fingerprint of the sweep's deployment, axes and design (shards of different sweeps do
    /// not merge).
    sweep: String,
}

impl ShardHeader {
    fn line(&self) -> Result<String> {
        let mut line = serde_json::to_string(&serde_json::json!({ "servecast_sweep_shard": self }))
            .map_err(|e| Error::invalid("--shard", "output", e.to_string()))?;
        line.push('\n');
        Ok(line)
    }
}

/// A fingerprint of everything that decides a sweep's configurations and rows (FNV-1a of their
/// description; the same binary gives the same text).
fn sweep_fingerprint(d: &DeploymentOptions, a: &SweepCommand) -> String {
    let text = format!(
        "{d:?}|{:?}|{:?}|{}|{}",
        a.axes,
        a.samples,
        a.sample_seed,
        env!("CARGO_PKG_VERSION")
    );
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Parses `--shard I/N` (0 ≤ I < N ≤ 100,000).
pub fn parse_shard(text: &str) -> Result<(usize, usize)> {
    let bad = || {
        Error::invalid(
            "--shard",
            "shard",
            format!("'{text}' is not I/N with 0 ≤ I < N ≤ 100,000 (e.g. 0/4 … 3/4)"),
        )
    };
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let i: usize = i.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || n > 100_000 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// What `sweep-merge` is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeCommand {
    /// The shards' .jsonl files (every shard of one sweep, once each).
    pub shards: Vec<PathBuf>,
    /// Rank by this metric (see [`RankMetric::parse`]).
    pub rank_by: String,
    /// Rows shown.
    pub top: usize,
    /// Output format.
    pub format: Format,
    /// Also write every row here (.csv, .json or .jsonl), ranked.
    pub output: Option<PathBuf>,
}

/// Combines the shards of one sweep into the ranked table (and row file) the unsharded sweep
/// gives: every shard 0..N once, every configuration exactly once.
pub fn merge(m: &MergeCommand) -> Result<Outcome> {
    let metric = RankMetric::parse(&m.rank_by, "--rank-by")?;
    if m.shards.is_empty() {
        return Err(Error::invalid("sweep-merge", "shards", "give the shards' .jsonl files"));
    }
    let mut first: Option<ShardHeader> = None;
    let mut seen_shards: Vec<bool> = Vec::new();
    let mut rows: Vec<SweepRow> = Vec::new();
    for path in &m.shards {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: origin.clone(),
            source,
        })?;
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let header: ShardHeader = lines
            .next()
            .and_then(|(_, l)| serde_json::from_str::<serde_json::Value>(l).ok())
            .and_then(|v| v.get("servecast_sweep_shard").cloned())
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or_else(|| {
                Error::invalid(
                    &origin,
                    "servecast_sweep_shard",
                    "the first line is not a shard header: write shards with sweep --shard I/N -o FILE.jsonl",
                )
            })?;
        match &first {
            None => {
                seen_shards = vec![false; header.shards];
                first = Some(header.clone());
            }
            Some(f) if f.sweep != header.sweep || f.shards != header.shards || f.configs != header.configs => {
                return Err(Error::invalid(
                    &origin,
                    "servecast_sweep_shard",
                    format!(
                        "shard {}/{} of sweep {} does not belong with shard {}/{} of sweep {} (another deployment, axes or design)",
                        header.shard, header.shards, header.sweep, f.shard, f.shards, f.sweep
                    ),
                ));
            }
            Some(_) => {}
        }
        if header.shard >= seen_shards.len() || std::mem::replace(&mut seen_shards[header.shard], true) {
            return Err(Error::invalid(
                &origin,
                "shard",
                format!(
                    "shard {}/{} is given twice (or is out of range)",
                    header.shard, header.shards
                ),
            ));
        }
        for (k, line) in lines {
            let row: SweepRow = serde_json::from_str(line)
                .map_err(|e| Error::invalid(format!("{origin}:{}", k + 1), "row", e.to_string()))?;
            if row.config % header.shards != header.shard || row.config >= header.configs {
                return Err(Error::invalid(
                    format!("{origin}:{}", k + 1),
                    "config",
                    format!(
                        "configuration {} is not one of shard {}/{}",
                        row.config, header.shard, header.shards
                    ),
                ));
            }
            rows.push(row);
        }
    }
    let header = first.ok_or_else(|| Error::invalid("sweep-merge", "shards", "no shard read"))?;
    if let Some(missing) = seen_shards.iter().position(|s| !s) {
        return Err(Error::invalid(
            "sweep-merge",
            "shards",
            format!("shard {missing}/{} is missing", header.shards),
        ));
    }
    let mut covered = vec![false; header.configs];
    for r in &rows {
        covered[r.config] = true;
    }
    if let Some(missing) = covered.iter().position(|c| !c) {
        return Err(Error::invalid(
            "sweep-merge",
            "shards",
            format!(
                "configuration {missing} has no row (its shard {}/{} stopped early?)",
                missing % header.shards,
                header.shards
            ),
        ));
    }
    rank(&mut rows, metric);
    if let Some(path) = &m.output {
        let kind = RowFileKind::of(path)?;
        let params: Vec<_> = rows
            .first()
            .map(|r| r.settings.iter().map(|(p, _)| *p).collect())
            .unwrap_or_default();
        RowFile::create(path, kind, &params, None)?.finish(&rows, metric)?;
    }
    let text = render_sweep(&rows, metric, m.top, m.format)?;
    Ok(Outcome {
        text,
        notes: vec![format!(
            "merged {} shards: {} configurations, {} rows",
            header.shards,
            header.configs,
            rows.len()
        )],
    })
}
