//! Validation: how well each measured report is reproduced when fitted, and when a level is held
//! out of the fit (leave-one-level-out cross-validation).

use rayon::prelude::*;
use serde::Serialize;

use super::{fit_report, FitOptions};
use crate::error::Result;
use crate::measured::MeasuredReport;
use crate::report::compare::{FigureComparison, LevelComparison};
use crate::scenario::Scenario;

/// The three headline figures of a level: throughput, latency and TTFT (whichever the report has;
/// for TTS reports × real time or audio seconds, RTF, and TTFB).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Headline {
    /// Output tokens/s, else requests/s, else total time.
    pub throughput: Option<FigureComparison>,
    /// Mean E2E latency, else its median.
    pub e2e_latency: Option<FigureComparison>,
    /// Mean TTFT, else its median.
    pub ttft: Option<FigureComparison>,
}

impl Headline {
    /// Picks the headline figures out of a level comparison.
    pub fn of(c: &LevelComparison) -> Headline {
        let pick = |names: &[&str]| names.iter().find_map(|n| c.figure(n)).cloned();
        Headline {
            throughput: pick(&[
                "output_throughput_tok_s",
                "request_throughput_req_s",
                "total_token_throughput_tok_s",
                "audio_throughput_x_realtime",
                "total_time_s",
                "audio_s",
            ]),
            e2e_latency: pick(&["e2e_latency_ms.mean", "e2e_latency_ms.p50", "rtf.mean"]),
            ttft: pick(&["ttft_ms.mean", "ttft_ms.p50", "ttfb_ms.mean"]),
        }
    }

    /// [`Headline::of`] for scoring `level`: without its TTFT when the file marks it
    /// `ttft_excluded`.
    pub fn scored(level: &crate::measured::MeasuredLevel, c: &LevelComparison) -> Headline {
        let mut h = Headline::of(c);
        if level.ttft_excluded.is_some() {
            h.ttft = None;
        }
        h
    }
}

/// One level's validation.
#[derive(Debug, Clone, Serialize)]
pub struct LevelValidation {
    /// The setup the level belongs to, when a validation spans several setups of one file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup: Option<String>,
    /// Concurrency of the level, if closed-loop or gated.
    pub concurrency: Option<u32>,
    /// Requests in the level.
    pub requests: u32,
    /// A cold-start level: shown, never fitted or scored.
    pub cold_start: bool,
    /// Errors with every level in the fit.
    pub fitted: Headline,
    /// Errors when this level is left out of the fit (None for cold-start levels, and for a
    /// report with a single scored level).
    pub held_out: Option<Headline>,
}

/// A report's validation.
#[derive(Debug, Clone, Serialize)]
pub struct ReportValidation {
    /// Report id.
    pub report: String,
    /// Per level.
    pub levels: Vec<LevelValidation>,
    /// Simulations run in all the fits.
    pub simulations: usize,
}

/// Median and largest absolute error of a set of figures, in percent.
pub fn median_and_worst(errors: &[f64]) -> Option<(f64, f64)> {
    if errors.is_empty() {
        return None;
    }
    let mut abs: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
    abs.sort_by(f64::total_cmp);
    let n = abs.len();
    let median = if n % 2 == 1 {
        abs[n / 2]
    } else {
        (abs[n / 2 - 1] + abs[n / 2]) / 2.0
    };
    Some((median, abs[n - 1]))
}

impl ReportValidation {
    /// Errors (percent) of one headline metric over the scored levels, fitted or held out.
    pub fn errors(&self, metric: fn(&Headline) -> &Option<FigureComparison>, held_out: bool) -> Vec<f64> {
        self.levels
            .iter()
            .filter(|l| !l.cold_start)
            .filter_map(|l| if held_out { l.held_out.as_ref() } else { Some(&l.fitted) })
            .filter_map(|h| metric(h).as_ref().map(|f| f.error_pct))
            .collect()
    }
}

/// Fits `report` on all its levels, then once per level with that level held out.
pub fn validate_report(report: &MeasuredReport, seed: u64) -> Result<ReportValidation> {
    validate_report_with(report, seed, &FitOptions::default())
}

/// [`validate_report`] with `base` options for every fit (e.g. another learned prior).
pub fn validate_report_with(report: &MeasuredReport, seed: u64, base: &FitOptions) -> Result<ReportValidation> {
    let scenario = Scenario::builder().from_report(report).seed(seed).build()?;
    let all = fit_report(report, &scenario, base)?;
    let mut simulations = all.evaluations;
    let scored = report.levels.iter().filter(|l| !l.cold_start).count();
    // The held-out fits are independent: run side by side (each fit is parallel inside as well).
    let held: Vec<Option<(Headline, usize)>> = (0..report.levels.len())
        .into_par_iter()
        .map(|i| {
            // A level can be held out only if another one is left to fit.
            if report.levels[i].cold_start || scored < 2 {
                return Ok(None);
            }
            let fit = fit_report(
                report,
                &scenario,
                &FitOptions {
                    exclude_levels: vec![i],
                    ..base.clone()
                },
            )?;
            Ok(Some((Headline::of(&fit.levels[i].comparison), fit.evaluations)))
        })
        .collect::<Result<_>>()?;
    let mut levels = Vec::with_capacity(report.levels.len());
    for (i, (m, h)) in report.levels.iter().zip(held).enumerate() {
        let held_out = h.map(|(headline, evaluations)| {
            simulations += evaluations;
            headline
        });
        levels.push(LevelValidation {
            setup: None,
            concurrency: m.concurrency,
            requests: m.requests,
            cold_start: m.cold_start,
            fitted: Headline::of(&all.levels[i].comparison),
            held_out,
        });
    }
    Ok(ReportValidation {
        report: report.id.clone(),
        levels,
        simulations,
    })
}

fn cell(f: &Option<FigureComparison>) -> String {
    f.as_ref().map_or("–".into(), |f| format!("{:+.1}%", f.error_pct))
}

/// Renders validations as markdown: one table per report and a summary.
pub fn to_markdown(validations: &[ReportValidation], command: &str) -> String {
    let mut out = String::from("# servecast validation\n\n");
    out.push_str(&format!(
        "Made by `{command}`. Errors are predicted ÷ measured − 1. *Fitted*: the profile fitted on every \
         level; *held out*: the level's error when the fit did not see it (leave one level out). \
         Cold-start levels are shown but neither fitted nor scored.\n\n"
    ));
    out.push_str("## Summary (|error|, median / worst over scored levels)\n\n");
    out.push_str("| report | throughput fitted | throughput held out | E2E fitted | E2E held out | TTFT fitted | TTFT held out |\n|---|---|---|---|---|---|---|\n");
    for v in validations {
        let mw = |metric: fn(&Headline) -> &Option<FigureComparison>, held: bool| {
            median_and_worst(&v.errors(metric, held)).map_or("–".into(), |(m, w)| format!("{m:.1}% / {w:.1}%"))
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            v.report,
            mw(|h| &h.throughput, false),
            mw(|h| &h.throughput, true),
            mw(|h| &h.e2e_latency, false),
            mw(|h| &h.e2e_latency, true),
            mw(|h| &h.ttft, false),
            mw(|h| &h.ttft, true),
        ));
    }
    for v in validations {
        out.push_str(&format!("\n## {}\n\n", v.report));
        out.push_str("| concurrency | requests | throughput fitted | held out | E2E fitted | held out | TTFT fitted | held out | figures |\n|---|---|---|---|---|---|---|---|---|\n");
        for l in &v.levels {
            let names = [&l.fitted.throughput, &l.fitted.e2e_latency, &l.fitted.ttft]
                .iter()
                .filter_map(|f| f.as_ref().map(|f| f.name.clone()))
                .collect::<Vec<_>>()
                .join(", ");
            let h = l.held_out.clone().unwrap_or_default();
            out.push_str(&format!(
                "| {}{}{} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                l.setup.as_deref().map_or(String::new(), |s| format!("{s} · ")),
                l.concurrency.map_or("–".into(), |c| c.to_string()),
                if l.cold_start { " (cold start)" } else { "" },
                l.requests,
                cell(&l.fitted.throughput),
                cell(&h.throughput),
                cell(&l.fitted.e2e_latency),
                cell(&h.e2e_latency),
                cell(&l.fitted.ttft),
                cell(&h.ttft),
                names
            ));
        }
        out.push_str(&format!("\n{} simulations.\n", v.simulations));
    }
    out
}

/// Validates several single-setup reports of one GPU, model and engine together (e.g. one run
/// per flag set): one joint fit, then each report predicted by a fit on the others
/// (leave one workload out).
pub fn validate_group(reports: &[MeasuredReport], seed: u64) -> Result<ReportValidation> {
    validate_group_with(reports, seed, &FitOptions::default())
}

/// [`validate_group`] with `base` options for every fit.
pub fn validate_group_with(reports: &[MeasuredReport], seed: u64, base: &FitOptions) -> Result<ReportValidation> {
    let scenarios: Vec<Scenario> = reports
        .iter()
        .map(|r| Scenario::builder().from_report(r).seed(seed).build())
        .collect::<Result<_>>()?;
    let all_inputs: Vec<(&MeasuredReport, &Scenario)> = reports.iter().zip(&scenarios).collect();
    let all = super::fit_reports(&all_inputs, base)?;
    let mut simulations = all.evaluations;
    // Each report's fit on the others is independent: run side by side.
    let held_all: Vec<(Option<Vec<Headline>>, usize)> = (0..reports.len())
        .into_par_iter()
        .map(|k| {
            let r = &reports[k];
            let others: Vec<(&MeasuredReport, &Scenario)> = all_inputs
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .map(|(_, x)| *x)
                .collect();
            // Predict report k with the profile fitted on the others.
            if others.is_empty() {
                return Ok((None, 0));
            }
            let fit = super::fit_reports(&others, base)?;
            let mut s = scenarios[k].clone();
            s.profile = fit.profile;
            let memory = s.memory()?;
            let cost = s.cost_model();
            let h = (0..r.levels.len())
                .map(|i| {
                    let c = crate::report::compare::compare_level(&r.levels[i], &s.run_level_with(i, &memory, &cost));
                    Headline::of(&c)
                })
                .collect::<Vec<_>>();
            Ok((Some(h), fit.evaluations))
        })
        .collect::<Result<_>>()?;
    let mut levels = Vec::new();
    let mut offset = 0;
    for (r, (held, evaluations)) in reports.iter().zip(held_all) {
        simulations += evaluations;
        for (i, m) in r.levels.iter().enumerate() {
            levels.push(LevelValidation {
                setup: None,
                concurrency: m.concurrency,
                requests: m.requests,
                cold_start: m.cold_start,
                fitted: Headline::of(&all.levels[offset + i].comparison),
                held_out: held.as_ref().and_then(|h| h.get(i).cloned()).filter(|_| !m.cold_start),
            });
        }
        offset += r.levels.len();
    }
    Ok(ReportValidation {
        report: format!(
            "{} (joint; held out = leave one report out)",
            reports.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(" + ")
        ),
        levels,
        simulations,
    })
}

/// Validates a set of reports: reports with a single scored level that share GPU, model and
/// engine are validated as a group ([`validate_group`]), the others one by one.
pub fn validate_all(reports: &[MeasuredReport], seed: u64) -> Result<Vec<ReportValidation>> {
    validate_all_with(reports, seed, &FitOptions::default())
}

/// [`validate_all`] with `base` options for every fit (e.g. a learned prior without these reports).
pub fn validate_all_with(reports: &[MeasuredReport], seed: u64, base: &FitOptions) -> Result<Vec<ReportValidation>> {
    let mut out = Vec::new();
    let mut grouped: Vec<Vec<MeasuredReport>> = Vec::new();
    // Files of many setups with their own tables (seed 003): validated section by section.
    let sectioned: Vec<&str> = reports
        .iter()
        .filter(|r| r.replicas > 1)
        .map(|r| r.provenance.file.as_str())
        .collect();
    let mut section_files: Vec<&str> = Vec::new();
    for r in reports {
        if sectioned.contains(&r.provenance.file.as_str()) {
            if !section_files.contains(&r.provenance.file.as_str()) {
                section_files.push(r.provenance.file.as_str());
            }
            continue;
        }
        if r.levels.is_empty() {
            continue;
        }
        let single = r.levels.iter().filter(|l| !l.cold_start).count() == 1;
        if !single {
            out.push(validate_report_with(r, seed, base)?);
            continue;
        }
        match grouped
            .iter_mut()
            .find(|g| g[0].gpu == r.gpu && g[0].model == r.model && g[0].engine == r.engine)
        {
            Some(g) => g.push(r.clone()),
            None => grouped.push(vec![r.clone()]),
        }
    }
    for g in grouped {
        out.push(if g.len() > 1 {
            validate_group_with(&g, seed, base)?
        } else {
            validate_report_with(&g[0], seed, base)?
        });
    }
    for file in section_files {
        let setups: Vec<MeasuredReport> = reports.iter().filter(|r| r.provenance.file == file).cloned().collect();
        out.push(validate_sections_with(&setups, seed, base)?);
    }
    Ok(out)
}

/// The table a setup comes from: the report section's number (`## 5.2 util = 0.5` → `5.2`).
pub fn section_key(section: &str) -> String {
    section
        .trim_start_matches('#')
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}

/// Validates the setups of one file with several tables (seed 003): one joint fit of every setup,
/// then each section's setups predicted by a fit on the other sections (leave one table out).
/// Setups with no levels (start-up outcomes, card memory) stay in every fit.
pub fn validate_sections(reports: &[MeasuredReport], seed: u64) -> Result<ReportValidation> {
    validate_sections_with(reports, seed, &FitOptions::default())
}

/// [`validate_sections`] with `base` options for every fit.
pub fn validate_sections_with(reports: &[MeasuredReport], seed: u64, base: &FitOptions) -> Result<ReportValidation> {
    let scenarios: Vec<Scenario> = reports
        .iter()
        .map(|r| Scenario::builder().from_report(r).seed(seed).build())
        .collect::<Result<_>>()?;
    let inputs: Vec<(&MeasuredReport, &Scenario)> = reports.iter().zip(&scenarios).collect();
    let all = super::fit_reports(&inputs, base)?;
    let mut simulations = all.evaluations;
    let key = |r: &MeasuredReport| section_key(&r.provenance.section);
    let mut sections: Vec<String> = Vec::new();
    for r in reports.iter().filter(|r| !r.levels.is_empty()) {
        if !sections.contains(&key(r)) {
            sections.push(key(r));
        }
    }
    // Each section's fit on the others is independent: run side by side.
    type Held = Vec<(usize, Vec<Headline>)>;
    let per_section: Vec<(Held, usize)> = sections
        .par_iter()
        .map(|section| {
            let train: Vec<(&MeasuredReport, &Scenario)> = inputs
                .iter()
                .filter(|(r, _)| r.levels.is_empty() || key(r) != *section)
                .copied()
                .collect();
            if train.iter().all(|(r, _)| r.levels.is_empty()) {
                return Ok((Vec::new(), 0));
            }
            let fit = super::fit_reports(&train, base)?;
            let mut out = Vec::new();
            for (k, r) in reports.iter().enumerate() {
                if r.levels.is_empty() || key(r) != *section {
                    continue;
                }
                let mut s = scenarios[k].clone();
                s.profile = fit.profile.clone();
                let memory = s.memory()?;
                let cost = s.cost_model();
                out.push((
                    k,
                    (0..r.levels.len())
                        .map(|i| {
                            let c = crate::report::compare::compare_level(
                                &r.levels[i],
                                &s.run_level_with(i, &memory, &cost),
                            );
                            Headline::of(&c)
                        })
                        .collect(),
                ));
            }
            Ok((out, fit.evaluations))
        })
        .collect::<Result<_>>()?;
    let mut held: Vec<Option<Vec<Headline>>> = vec![None; reports.len()];
    for (out, evaluations) in per_section {
        simulations += evaluations;
        for (k, h) in out {
            held[k] = Some(h);
        }
    }
    let mut levels = Vec::new();
    let mut offset = 0;
    for (k, r) in reports.iter().enumerate() {
        if r.levels.is_empty() {
            continue;
        }
        for (i, m) in r.levels.iter().enumerate() {
            levels.push(LevelValidation {
                setup: Some(r.id.clone()),
                concurrency: m.concurrency,
                requests: m.requests,
                cold_start: m.cold_start,
                fitted: Headline::of(&all.levels[offset + i].comparison),
                held_out: held[k]
                    .as_ref()
                    .and_then(|h| h.get(i).cloned())
                    .filter(|_| !m.cold_start),
            });
        }
        offset += r.levels.len();
    }
    let file = reports.first().map_or("", |r| r.provenance.file.as_str());
    Ok(ReportValidation {
        report: format!(
            "{file}: {} setups (sections; held out = leave one section out)",
            reports.len()
        ),
        levels,
        simulations,
    })
}
