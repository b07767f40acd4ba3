//! Charts (PNG or SVG, chosen by the file name): predicted vs measured for the measured reports,
//! load curves with prediction bands, throughput–latency from sweeps, memory breakdowns and TTFT
//! distributions. Text is drawn with an embedded font (DejaVu Sans), so charts render the same on
//! a bare machine.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::measured::MeasuredReport;
use crate::memory::MemoryPlan;
use crate::report::compare::compare_level;
use crate::scenario::Scenario;
use crate::uncertainty::{replicate, Interval, UncertaintyOptions};

/// DejaVu Sans (Bitstream Vera licence, assets/fonts/LICENSE_DEJAVU).
static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Registers the embedded font once; every chart calls it.
fn ensure_font() -> Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "charts",
            "font",
            "the embedded DejaVu Sans font did not load",
        ))
    }
}

/// Runs a drawing on a PNG or an SVG canvas, by the file name's extension: `$draw` is called with
/// the root area of either backend (it must be generic over `DrawingBackend`).
macro_rules! render {
    ($path:expr, $size:expr, |$root:ident| $draw:expr) => {{
        let path: &Path = $path;
        ensure_font()?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        if is_svg(path)? {
            let $root = &SVGBackend::new(path, $size).into_drawing_area();
            $draw.map_err(|e| draw_error(path, e))?;
            $root.present().map_err(|e| draw_error(path, e))
        } else {
            let $root = &BitMapBackend::new(path, $size).into_drawing_area();
            $draw.map_err(|e| draw_error(path, e))?;
            $root.present().map_err(|e| draw_error(path, e))
        }
    }};
}

/// Colours of series, in order (Tableau 10).
const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

fn color(i: usize) -> RGBColor {
    COLORS[i % COLORS.len()]
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesStyle {
    /// A line through the points (predictions).
    Line,
    /// Markers only (measurements).
    Points,
}

/// One series of a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// (x, y) points.
    pub points: Vec<(f64, f64)>,
    /// (x, low, high): a shaded band (may be empty).
    pub band: Vec<(f64, f64, f64)>,
    /// Line or markers.
    pub style: SeriesStyle,
    /// Colour index (series of one group share it: measured points and predicted line).
    pub color: usize,
}

/// One chart of a figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Title above the chart.
    pub title: String,
    /// X axis label, with its unit.
    pub x_label: String,
    /// Y axis label, with its unit.
    pub y_label: String,
    /// The series.
    pub series: Vec<Series>,
    /// Log₂ x axis (concurrency ladders 1, 2, 4 …).
    pub log_x: bool,
    /// Category names for the x positions 0, 1, 2 … (a categorical axis), if any.
    pub x_categories: Vec<String>,
}

/// The image format of a path: `.png` or `.svg`.
fn is_svg(path: &Path) -> Result<bool> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => Ok(false),
        Some("svg") => Ok(true),
        _ => Err(Error::invalid(
            "--plot",
            "file",
            format!("{}: a chart is written as .png or .svg", path.display()),
        )),
    }
}

fn draw_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::invalid("charts", "file", format!("{}: cannot draw: {e}", path.display()))
}

/// Nice axis bounds: [0 or a little below the minimum, a little above the maximum].
fn bounds(values: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if from_zero && lo >= 0.0 {
        lo = 0.0;
    }
    let pad = ((hi - lo).abs() * 0.08).max(hi.abs() * 0.02).max(1e-9);
    (if from_zero && lo == 0.0 { 0.0 } else { lo - pad }, hi + pad)
}

fn fmt_tick(v: f64) -> String {
    let a = v.abs();
    if a >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if a >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Draws the series legend of a chart in the shared style.
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> std::result::Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.88))
        .border_style(BLACK.mix(0.3))
        .label_font((FAMILY, 14))
        .draw()
        .map_err(|e| e.to_string())
}

/// Draws one panel into an area.
fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Panel) -> std::result::Result<(), String> {
    let tx = |x: f64| if p.log_x { x.max(1e-9).log2() } else { x };
    let xs = p
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|q| q.0).chain(s.band.iter().map(|b| b.0)));
    let (x0, x1) = if p.x_categories.is_empty() {
        let (a, b) = bounds(xs.map(tx), false);
        (a, b)
    } else {
        (-0.5, p.x_categories.len() as f64 - 0.5)
    };
    let ys = p.series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|q| q.1)
            .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
    });
    let (y0, y1) = bounds(ys, true);
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, (FAMILY, 22))
        .margin(14)
        .x_label_area_size(52)
        .y_label_area_size(78)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?;
    let categories = p.x_categories.clone();
    let log_x = p.log_x;
    let x_fmt = move |v: &f64| -> String {
        if !categories.is_empty() {
            let i = v.round();
            if (v - i).abs() < 0.01 && i >= 0.0 && (i as usize) < categories.len() {
                return categories[i as usize].clone();
            }
            return String::new();
        }
        if log_x {
            fmt_tick(2f64.powf(*v))
        } else {
            fmt_tick(*v)
        }
    };
    let y_fmt = |v: &f64| fmt_tick(*v);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(p.x_label.as_str())
        .y_desc(p.y_label.as_str())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style((FAMILY, 15))
        .axis_desc_style((FAMILY, 17))
        .light_line_style(RGBColor(246, 246, 246));
    if !p.x_categories.is_empty() {
        mesh.x_labels(p.x_categories.len() * 2 + 1);
    } else if p.log_x {
        mesh.x_labels(((x1 - x0).ceil() as usize + 1).clamp(2, 12));
    }
    mesh.draw().map_err(|e| e.to_string())?;
    for s in &p.series {
        let c = color(s.color);
        if s.band.len() >= 2 {
            let mut poly: Vec<(f64, f64)> = s.band.iter().map(|b| (tx(b.0), b.2)).collect();
            poly.extend(s.band.iter().rev().map(|b| (tx(b.0), b.1)));
            chart
                .draw_series(std::iter::once(Polygon::new(poly, c.mix(0.18).filled())))
                .map_err(|e| e.to_string())?;
        } else if s.band.len() == 1 {
            let b = s.band[0];
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(tx(b.0), b.1), (tx(b.0), b.2)],
                    c.mix(0.5).stroke_width(6),
                )))
                .map_err(|e| e.to_string())?;
        }
        let pts: Vec<(f64, f64)> = s.points.iter().map(|q| (tx(q.0), q.1)).collect();
        match s.style {
            SeriesStyle::Line => {
                chart
                    .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                    .map_err(|e| e.to_string())?
                    .label(s.name.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(2)));
                chart
                    .draw_series(pts.iter().map(|&q| Circle::new(q, 2, c.filled())))
                    .map_err(|e| e.to_string())?;
            }
            SeriesStyle::Points => {
                chart
                    .draw_series(pts.iter().map(|&q| TriangleMarker::new(q, 7, c.filled())))
                    .map_err(|e| e.to_string())?
                    .label(s.name.as_str())
                    .legend(move |(x, y)| TriangleMarker::new((x + 11, y), 7, c.filled()));
            }
        }
    }
    if p.series.iter().any(|s| !s.name.is_empty()) {
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    }
    Ok(())
}

/// Draws panels in a grid (up to 3 columns) under a title, as PNG or SVG by `path`'s extension.
pub fn draw_panels(title: &str, panels: &[Panel], path: &Path, size: (u32, u32)) -> Result<()> {
    if panels.is_empty() {
        return Err(Error::invalid("charts", "panels", "nothing to draw"));
    }
    render!(path, size, |root| panels_on(root, title, panels))
}

fn panels_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    panels: &[Panel],
) -> std::result::Result<(), String> {
    let cols = if panels.len() == 4 { 2 } else { panels.len().min(3) };
    let rows = panels.len().div_ceil(cols);
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let body = root.titled(title, (FAMILY, 26)).map_err(|e| e.to_string())?;
    let areas = body.split_evenly((rows, cols));
    for (area, p) in areas.iter().zip(panels) {
        draw_panel(area, p)?;
    }
    Ok(())
}

/// Stacked bars of each configuration's memory on one GPU: weights, activation peak, non-torch,
/// KV cache and what `gpu_memory_utilization` leaves unused, in GiB.
pub fn memory_breakdown(title: &str, configs: &[(String, MemoryPlan)], path: &Path, size: (u32, u32)) -> Result<()> {
    if configs.is_empty() {
        return Err(Error::invalid("charts", "configs", "nothing to draw"));
    }
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    // Room on the right for the legend.
    let max = configs
        .iter()
        .map(|(_, m)| m.total_bytes as f64 / GIB)
        .fold(0.0, f64::max)
        * 1.42;
    let names: Vec<String> = configs.iter().map(|(n, _)| n.clone()).collect();
    let label_width = names.iter().map(|s| s.chars().count()).max().unwrap_or(4) as u32 * 9 + 20;
    render!(path, size, |root| memory_on(
        root,
        title,
        configs,
        &names,
        max,
        label_width.min(size.0 / 2)
    ))
}

fn memory_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    configs: &[(String, MemoryPlan)],
    names: &[String],
    max: f64,
    label_width: u32,
) -> std::result::Result<(), String> {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    let n = configs.len();
    let parts = |m: &MemoryPlan| -> [(f64, &'static str); 5] {
        [
            (m.weights_bytes as f64 / GIB, "weights"),
            (m.activation_peak_bytes as f64 / GIB, "activation peak"),
            (m.non_torch_bytes as f64 / GIB, "non-torch (CUDA context, graphs)"),
            (m.kv_cache_bytes as f64 / GIB, "KV cache"),
            (
                m.total_bytes.saturating_sub(m.requested_bytes) as f64 / GIB,
                "left by gpu_memory_utilization",
            ),
        ]
    };
    {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FAMILY, 24))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0.0..max, -0.5..(n as f64 - 0.5))
            .map_err(|e| e.to_string())?;
        let names = names.to_vec();
        let y_fmt = move |v: &f64| {
            let i = v.round();
            if (v - i).abs() < 0.01 && i >= 0.0 && (i as usize) < names.len() {
                names[i as usize].clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_desc("GPU memory (GiB, as CUDA reports it)")
            .y_labels(n * 2 + 1)
            .y_label_formatter(&y_fmt)
            .x_label_formatter(&|v| fmt_tick(*v))
            .label_style((FAMILY, 15))
            .axis_desc_style((FAMILY, 17))
            .light_line_style(RGBColor(246, 246, 246))
            .draw()
            .map_err(|e| e.to_string())?;
        for k in 0..5 {
            let c = if k == 4 { RGBColor(200, 200, 200) } else { color(k) };
            let bars: Vec<Rectangle<(f64, f64)>> = configs
                .iter()
                .enumerate()
                .map(|(i, (_, m))| {
                    let p = parts(m);
                    let start: f64 = p[..k].iter().map(|q| q.0).sum();
                    let y = i as f64;
                    Rectangle::new([(start, y - 0.35), (start + p[k].0, y + 0.35)], c.filled())
                })
                .collect();
            let name = parts(&configs[0].1)[k].1;
            chart
                .draw_series(bars)
                .map_err(|e| e.to_string())?
                .label(name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], c.filled()));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    }
}

/// A histogram of TTFTs with the P50, P95 and P99 marked.
pub fn ttft_distribution(title: &str, ttfts_ms: &[f64], path: &Path, size: (u32, u32)) -> Result<()> {
    let mut v: Vec<f64> = ttfts_ms.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return Err(Error::invalid("charts", "ttft", "no requests to draw"));
    }
    v.sort_by(f64::total_cmp);
    let pct = |q: f64| crate::metrics::percentile_linear(&v, q);
    let (p50, p95, p99) = (pct(50.0), pct(95.0), pct(99.0));
    let hi = (v[v.len() - 1]).max(p99 * 1.05).max(1e-3);
    let bins = 40usize;
    let w = hi / bins as f64;
    let mut counts = vec![0u32; bins];
    for x in &v {
        counts[((x / w) as usize).min(bins - 1)] += 1;
    }
    let top = *counts.iter().max().unwrap_or(&1) as f64 * 1.15;
    render!(path, size, |root| ttft_on(
        root,
        title,
        &counts,
        w,
        hi,
        top,
        [p50, p95, p99]
    ))
}

fn ttft_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    counts: &[u32],
    w: f64,
    hi: f64,
    top: f64,
    [p50, p95, p99]: [f64; 3],
) -> std::result::Result<(), String> {
    {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FAMILY, 24))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..hi, 0.0..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("time to first token (ms)")
            .y_desc("requests")
            .x_label_formatter(&|v| fmt_tick(*v))
            .y_label_formatter(&|v| fmt_tick(*v))
            .label_style((FAMILY, 15))
            .axis_desc_style((FAMILY, 17))
            .light_line_style(RGBColor(246, 246, 246))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(counts.iter().enumerate().map(|(i, &c)| {
                Rectangle::new(
                    [(i as f64 * w, 0.0), ((i + 1) as f64 * w, c as f64)],
                    color(0).mix(0.75).filled(),
                )
            }))
            .map_err(|e| e.to_string())?;
        for (k, (q, name)) in [(p50, "P50"), (p95, "P95"), (p99, "P99")].into_iter().enumerate() {
            let c = color(k + 1);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(q, 0.0), (q, top)],
                    c.stroke_width(2),
                )))
                .map_err(|e| e.to_string())?
                .label(format!("{name} {q:.1} ms"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(2)));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    }
}

/// A metric the predicted-vs-measured charts can show: (figure name, panel title, y label).
const REPORT_METRICS: [(&str, &str, &str); 9] = [
    (
        "output_throughput_tok_s",
        "Output throughput",
        "output tokens per second (tok/s)",
    ),
    (
        "request_throughput_req_s",
        "Request throughput",
        "requests per second (req/s)",
    ),
    (
        "audio_throughput_x_realtime",
        "Audio throughput",
        "audio seconds per second (× real time)",
    ),
    ("e2e_latency_ms.mean", "Mean end-to-end latency", "latency (ms)"),
    ("e2e_latency_ms.p50", "Median end-to-end latency", "latency (ms)"),
    ("ttft_ms.mean", "Mean time to first token", "TTFT (ms)"),
    ("ttft_ms.p50", "Median time to first token", "TTFT (ms)"),
    ("ttfb_ms.mean", "Mean time to first audio", "TTFB (ms)"),
    ("total_time_s", "Wall time of the run", "time (s)"),
];

/// The group of a setup within its file: the report section's number (seed 003's tables), else
/// the setup id.
fn group_of(r: &MeasuredReport) -> String {
    if r.replicas <= 1 {
        return r.id.clone();
    }
    // "## 5.2 util = 0.5, seqs 8" → "§5.2 util = 0.5"; text the embedded font lacks is dropped.
    let section = r.provenance.section.trim_start_matches('#').trim();
    let head = section.split([',', '(', '（']).next().unwrap_or(section);
    let ascii: String = head.chars().filter(|c| c.is_ascii()).collect();
    format!("§{}", ascii.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Panels comparing measured figures with predictions (median of `replications` runs over seeds
/// and the fit's parameter covariance, with a 90% band) for the setups of one measured file.
pub fn measured_panels(setups: &[MeasuredReport], replications: u32) -> Result<Vec<Panel>> {
    // (group, x, figure name) → (measured, replicated predictions)
    struct Point {
        group: String,
        x: f64,
        name: &'static str,
        measured: f64,
        predicted: Vec<f64>,
    }
    let mut points: Vec<Point> = Vec::new();
    let categorical = setups.len() > 1
        && setups.iter().all(|r| r.levels.len() <= 1)
        && setups
            .iter()
            .filter_map(|r| r.levels.first().and_then(|l| l.concurrency))
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            == 1;
    let mut categories = Vec::new();
    for r in setups.iter().filter(|r| !r.levels.is_empty() && !r.refused_to_start()) {
        let scenario = Scenario::builder().from_report(r).build()?;
        let runs = replicate(
            &scenario,
            &UncertaintyOptions {
                replications: replications.max(1),
                ..UncertaintyOptions::default()
            },
        )?;
        if categorical {
            categories.push(r.id.clone());
        }
        for (i, m) in r.levels.iter().enumerate() {
            if m.cold_start {
                continue;
            }
            let x = if categorical {
                (categories.len() - 1) as f64
            } else {
                m.concurrency.map(f64::from).or(m.qps).unwrap_or(i as f64 + 1.0)
            };
            let comparisons: Vec<_> = runs.iter().map(|p| compare_level(m, &p.levels[i])).collect();
            for (name, _, _) in REPORT_METRICS {
                let Some(first) = comparisons[0].figure(name) else {
                    continue;
                };
                points.push(Point {
                    group: if categorical { "setups".into() } else { group_of(r) },
                    x,
                    name,
                    measured: first.measured,
                    predicted: comparisons
                        .iter()
                        .filter_map(|c| c.figure(name))
                        .map(|f| f.predicted)
                        .collect(),
                });
            }
        }
    }
    // Pick the panels: the first of each family the file measured (throughput, latency, TTFT/TTFB, time).
    let families: [&[&str]; 4] = [
        &[
            "output_throughput_tok_s",
            "request_throughput_req_s",
            "audio_throughput_x_realtime",
        ],
        &["e2e_latency_ms.mean", "e2e_latency_ms.p50"],
        &["ttft_ms.mean", "ttft_ms.p50", "ttfb_ms.mean"],
        &["total_time_s"],
    ];
    let mut groups: Vec<String> = Vec::new();
    for p in &points {
        if !groups.contains(&p.group) {
            groups.push(p.group.clone());
        }
    }
    // Wall time repeats what throughput shows, unless a setup measured nothing else.
    let throughput_names = families[0];
    let wall_time_adds = points.iter().filter(|p| p.name == "total_time_s").any(|w| {
        !points
            .iter()
            .any(|p| p.group == w.group && p.x == w.x && throughput_names.contains(&p.name))
    });
    let mut panels = Vec::new();
    for family in families {
        let Some(&name) = family.iter().find(|n| points.iter().any(|p| p.name == **n)) else {
            continue;
        };
        if name == "total_time_s" && !wall_time_adds {
            continue;
        }
        let Some(&(_, title, y_label)) = REPORT_METRICS.iter().find(|m| m.0 == name) else {
            continue;
        };
        let mut series = Vec::new();
        for (gi, g) in groups.iter().enumerate() {
            let mut pts: Vec<&Point> = points.iter().filter(|p| p.name == name && &p.group == g).collect();
            if pts.is_empty() {
                continue;
            }
            pts.sort_by(|a, b| a.x.total_cmp(&b.x));
            let label = if groups.len() > 1 {
                format!(" ({g})")
            } else {
                String::new()
            };
            let bands: Vec<(f64, Interval)> = pts.iter().map(|p| (p.x, Interval::of(&p.predicted, 0.9))).collect();
            series.push(Series {
                name: format!("measured{label}"),
                points: pts.iter().map(|p| (p.x, p.measured)).collect(),
                band: Vec::new(),
                style: SeriesStyle::Points,
                color: gi,
            });
            series.push(Series {
                name: format!("predicted{label}"),
                points: bands.iter().map(|(x, i)| (*x, i.median)).collect(),
                band: bands.iter().map(|(x, i)| (*x, i.low, i.high)).collect(),
                style: SeriesStyle::Line,
                color: gi,
            });
        }
        let xs: Vec<f64> = points.iter().map(|p| p.x).collect();
        let log_x = !categorical && xs.iter().all(|&x| x >= 1.0) && {
            let (lo, hi) = bounds(xs.iter().copied(), false);
            hi / lo.max(1.0) > 6.0
        };
        panels.push(Panel {
            title: title.to_string(),
            x_label: if categorical {
                "measured configuration".into()
            } else {
                "concurrency (users or requests in flight)".into()
            },
            y_label: y_label.to_string(),
            series,
            log_x,
            x_categories: if categorical {
                short_names(&categories)
            } else {
                Vec::new()
            },
        });
    }
    Ok(panels)
}

/// Drops the longest common prefix of the names (on `-` boundaries), for axis labels.
fn short_names(names: &[String]) -> Vec<String> {
    let Some(first) = names.first() else { return Vec::new() };
    let mut prefix = first.len();
    for n in names {
        prefix = prefix.min(first.bytes().zip(n.bytes()).take_while(|(a, b)| a == b).count());
    }
    let cut = first[..prefix].rfind('-').map_or(0, |i| i + 1);
    names.iter().map(|n| n[cut..].to_string()).collect()
}

/// Draws the predicted-vs-measured chart of one measured file's setups.
pub fn predicted_vs_measured(
    title: &str,
    setups: &[MeasuredReport],
    replications: u32,
    path: &Path,
    size: (u32, u32),
) -> Result<()> {
    let panels = measured_panels(setups, replications)?;
    draw_panels(title, &panels, path, size)
}

/// Writes the predicted-vs-measured chart of every built-in measured file into `out_dir`, as
/// `measured-<file stem>.<format>` for each of `formats` (`png`, `svg`); returns the paths.
pub fn plot_all_measured(out_dir: &Path, replications: u32, formats: &[&str]) -> Result<Vec<PathBuf>> {
    let reports = crate::measured::builtin_reports()?;
    let mut files: Vec<String> = Vec::new();
    for r in &reports {
        if !files.contains(&r.provenance.file) {
            files.push(r.provenance.file.clone());
        }
    }
    let bar = indicatif::ProgressBar::new((files.len() * formats.len()) as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} charts {bar:30} {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    let mut written = Vec::new();
    for file in &files {
        let setups: Vec<MeasuredReport> = reports
            .iter()
            .filter(|r| &r.provenance.file == file && !r.levels.is_empty())
            .cloned()
            .collect();
        if setups.is_empty() {
            continue;
        }
        let first = &setups[0];
        let stem = if setups.len() == 1 {
            first.id.clone()
        } else {
            short_stem(&setups)
        };
        let title = format!(
            "{} — {} on {} ({}): measured vs predicted, 90% band",
            file.rsplit('/').next().unwrap_or(file),
            first.model,
            if first.replicas > 1 {
                format!("{} × {}", first.replicas, first.gpu)
            } else {
                first.gpu.clone()
            },
            first.engine
        );
        let panels = measured_panels(&setups, replications)?;
        let size = match panels.len() {
            1 => (900, 600),
            2 => (1500, 600),
            _ => (1800, if panels.len() > 3 { 1150 } else { 620 }),
        };
        for fmt in formats {
            let path = out_dir.join(format!("measured-{stem}.{fmt}"));
            bar.set_message(path.display().to_string());
            draw_panels(&title, &panels, &path, size)?;
            written.push(path);
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    Ok(written)
}

/// A file name for several setups: their common id prefix.
fn short_stem(setups: &[MeasuredReport]) -> String {
    let first = &setups[0].id;
    let mut prefix = first.len();
    for s in setups {
        prefix = prefix.min(first.bytes().zip(s.id.bytes()).take_while(|(a, b)| a == b).count());
    }
    // Cut at the last `-` inside the common part ("voxcpm-u0." → "voxcpm").
    let common = &first[..prefix];
    let stem = match common.rfind('-') {
        Some(i) if prefix < first.len() => &common[..i],
        _ => common,
    };
    if stem.is_empty() {
        first.clone()
    } else {
        stem.to_string()
    }
}

/// The x of a predicted level: its concurrency or request rate, and the axis label.
fn level_x(l: &crate::metrics::level::LevelResult, i: usize) -> f64 {
    l.concurrency.map(f64::from).or(l.qps).unwrap_or(i as f64 + 1.0)
}

/// Load curves of a prediction: throughput, TTFT (mean and P95) and E2E latency against the
/// load, with the 90% bands when the prediction carries intervals (`--replications`).
pub fn prediction_panels(p: &crate::scenario::Prediction) -> Vec<Panel> {
    let closed = p.levels.iter().any(|l| l.concurrency.is_some());
    let x_label = if closed {
        "concurrency (users or requests in flight)"
    } else {
        "request rate (req/s)"
    };
    let xs: Vec<f64> = p.levels.iter().enumerate().map(|(i, l)| level_x(l, i)).collect();
    let log_x = xs.iter().all(|&x| x >= 1.0)
        && xs.iter().copied().fold(0.0, f64::max) / xs.iter().copied().fold(f64::INFINITY, f64::min) > 6.0;
    let band = |f: &dyn Fn(&crate::uncertainty::LevelIntervals) -> Interval| -> Vec<(f64, f64, f64)> {
        p.intervals
            .iter()
            .zip(&xs)
            .map(|(iv, &x)| {
                let i = f(iv);
                (x, i.low, i.high)
            })
            .collect()
    };
    let line = |name: &str, ys: Vec<f64>, band: Vec<(f64, f64, f64)>, color: usize| Series {
        name: name.to_string(),
        points: xs.iter().copied().zip(ys).collect(),
        band,
        style: SeriesStyle::Line,
        color,
    };
    let tts = p.levels.iter().any(|l| l.tts.is_some());
    let mut panels = vec![Panel {
        title: if tts {
            "Audio throughput".into()
        } else {
            "Output throughput".into()
        },
        x_label: x_label.into(),
        y_label: if tts {
            "audio seconds per second (× real time)".into()
        } else {
            "output tokens per second (tok/s)".into()
        },
        series: vec![if tts {
            line(
                "predicted",
                p.levels
                    .iter()
                    .map(|l| l.tts.as_ref().map_or(0.0, |t| t.throughput_x_realtime))
                    .collect(),
                band(&|i| i.x_realtime.unwrap_or(i.output_throughput_tok_s)),
                0,
            )
        } else {
            line(
                "predicted",
                p.levels.iter().map(|l| l.output_throughput_tok_s).collect(),
                band(&|i| i.output_throughput_tok_s),
                0,
            )
        }],
        log_x,
        x_categories: Vec::new(),
    }];
    type Stat = fn(&crate::metrics::level::LevelResult) -> f64;
    type Band = fn(&crate::uncertainty::LevelIntervals) -> Interval;
    let mean_and_p95 = |title: &str, y_label: &str, mean: (Stat, Band, usize), p95: (Stat, Band, usize)| Panel {
        title: title.into(),
        x_label: x_label.into(),
        y_label: y_label.into(),
        series: [("mean", mean), ("P95", p95)]
            .into_iter()
            .map(|(name, (stat, b, color))| line(name, p.levels.iter().map(stat).collect(), band(&b), color))
            .collect(),
        log_x,
        x_categories: Vec::new(),
    };
    panels.push(mean_and_p95(
        "Time to first token",
        "TTFT (ms)",
        (|l| l.ttft_ms.mean, |i| i.ttft_ms_mean, 1),
        (|l| l.ttft_ms.p95, |i| i.ttft_ms_p95, 3),
    ));
    panels.push(mean_and_p95(
        "End-to-end latency",
        "E2E latency (ms)",
        (|l| l.e2e_latency_ms.mean, |i| i.e2e_latency_ms_mean, 2),
        (|l| l.e2e_latency_ms.p95, |i| i.e2e_latency_ms_p95, 4),
    ));
    panels
}

/// Throughput–latency of a sweep's simulated rows: each configuration a point, per load level a
/// series (x: output tok/s; y: P95 E2E latency and P95 TTFT).
pub fn sweep_panels(rows: &[crate::sweep::SweepRow]) -> Vec<Panel> {
    let mut levels: Vec<String> = Vec::new();
    for r in rows {
        if let Some(m) = r.metrics() {
            if !levels.contains(&m.level) {
                levels.push(m.level.clone());
            }
        }
    }
    let series = |y: fn(&crate::sweep::SweepMetrics) -> f64| -> Vec<Series> {
        levels
            .iter()
            .enumerate()
            .map(|(i, level)| {
                let mut points: Vec<(f64, f64)> = rows
                    .iter()
                    .filter_map(|r| r.metrics())
                    .filter(|m| &m.level == level)
                    .map(|m| (m.output_throughput_tok_s, y(m)))
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                Series {
                    name: if levels.len() > 1 {
                        level.clone()
                    } else {
                        "configurations".into()
                    },
                    points,
                    band: Vec::new(),
                    style: SeriesStyle::Points,
                    color: i,
                }
            })
            .collect()
    };
    vec![
        Panel {
            title: "Throughput vs tail latency".into(),
            x_label: "output throughput (tok/s)".into(),
            y_label: "P95 end-to-end latency (ms)".into(),
            series: series(|m| m.e2e_ms_p95),
            log_x: false,
            x_categories: Vec::new(),
        },
        Panel {
            title: "Throughput vs time to first token".into(),
            x_label: "output throughput (tok/s)".into(),
            y_label: "P95 TTFT (ms)".into(),
            series: series(|m| m.ttft_ms_p95),
            log_x: false,
            x_categories: Vec::new(),
        },
    ]
}

/// The load curve a plan scanned: mean TTFT and output throughput against the load, with the
/// answered load and the knee marked as vertical lines.
pub fn plan_panels(curve: &[(f64, f64, f64)], unit: &str, max_load: Option<f64>, knee: Option<f64>) -> Vec<Panel> {
    let x_label = format!("offered load ({unit})");
    let marks = |lo: f64, hi: f64| -> Vec<Series> {
        let mut v = Vec::new();
        if let Some(m) = max_load {
            v.push(Series {
                name: format!("most load within the SLO: {m:.2} {unit}"),
                points: vec![(m, lo), (m, hi)],
                band: Vec::new(),
                style: SeriesStyle::Line,
                color: 3,
            });
        }
        if let Some(k) = knee {
            v.push(Series {
                name: format!("knee: {k:.2} {unit}"),
                points: vec![(k, lo), (k, hi)],
                band: Vec::new(),
                style: SeriesStyle::Line,
                color: 4,
            });
        }
        v
    };
    let max_of = |f: fn(&(f64, f64, f64)) -> f64| curve.iter().map(f).fold(0.0, f64::max);
    let log_x = curve.first().is_some_and(|c| c.0 > 0.0)
        && curve.last().zip(curve.first()).is_some_and(|(l, f)| l.0 / f.0 > 6.0);
    let mut ttft = vec![Series {
        name: "mean TTFT".into(),
        points: curve.iter().map(|c| (c.0, c.1)).collect(),
        band: Vec::new(),
        style: SeriesStyle::Line,
        color: 0,
    }];
    ttft.extend(marks(0.0, max_of(|c| c.1)));
    let mut tput = vec![Series {
        name: "output throughput".into(),
        points: curve.iter().map(|c| (c.0, c.2)).collect(),
        band: Vec::new(),
        style: SeriesStyle::Line,
        color: 2,
    }];
    tput.extend(marks(0.0, max_of(|c| c.2)));
    vec![
        Panel {
            title: "Time to first token vs load".into(),
            x_label: x_label.clone(),
            y_label: "mean TTFT (ms)".into(),
            series: ttft,
            log_x,
            x_categories: Vec::new(),
        },
        Panel {
            title: "Throughput vs load".into(),
            x_label,
            y_label: "output throughput (tok/s)".into(),
            series: tput,
            log_x,
            x_categories: Vec::new(),
        },
    ]
}

/// The validation classes as cumulative distributions of |error|: for each headline metric, the
/// share of levels (y, %) predicted within x% — one line per class (the fitted setups first,
/// then what the prediction had not seen). |errors| above 100% sit at 100%.
pub fn validation_panels(reports: &[&crate::fit::classes::ClassReport]) -> Vec<Panel> {
    type Pick = fn(&crate::fit::validate::Headline) -> &Option<crate::report::FigureComparison>;
    let metrics: [(Pick, &str); 3] = [
        (|h| &h.throughput, "Output throughput"),
        (|h| &h.e2e_latency, "Mean end-to-end latency"),
        (|h| &h.ttft, "Mean time to first token"),
    ];
    metrics
        .iter()
        .map(|(pick, title)| Panel {
            title: title.to_string(),
            x_label: "|predicted ÷ measured − 1| (%)".into(),
            y_label: "levels within it (%)".into(),
            series: reports
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    let mut e: Vec<f64> = r.errors(*pick).iter().map(|x| x.abs().min(100.0)).collect();
                    if e.is_empty() {
                        return None;
                    }
                    e.sort_by(f64::total_cmp);
                    let n = e.len() as f64;
                    let mut points = vec![(0.0, 0.0)];
                    points.extend(e.iter().enumerate().map(|(k, &x)| (x, (k + 1) as f64 / n * 100.0)));
                    Some(Series {
                        name: r.class.short_name().to_string(),
                        points,
                        band: Vec::new(),
                        style: SeriesStyle::Line,
                        color: i,
                    })
                })
                .collect(),
            log_x: false,
            x_categories: Vec::new(),
        })
        .collect()
}
