//! `validate` and `priors`: the whole measured corpus at once.

use std::io::Write;
use std::path::Path;

use super::{write_file, Outcome};
use crate::error::{Error, Result};

/// Progress of a long corpus command on stderr: a bar on a terminal; on a pipe or a CI log
/// (where a bar would be invisible), one line per stage and per quarter of it.
struct StageProgress {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    last: std::sync::Mutex<(String, usize)>,
    started: std::time::Instant,
}

impl StageProgress {
    fn new(visible: bool) -> Self {
        use std::io::IsTerminal;
        let terminal = std::io::stderr().is_terminal();
        let bar = (visible && terminal).then(|| {
            let bar = indicatif::ProgressBar::new(1);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        StageProgress {
            bar,
            lines: visible && !terminal,
            last: std::sync::Mutex::new((String::new(), usize::MAX)),
            started: std::time::Instant::now(),
        }
    }

    /// Moves to `done` of `total` in `stage`.
    fn show(&self, stage: &str, done: usize, total: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(stage.to_string());
        }
        if self.lines {
            let quarter = (4 * done).checked_div(total).unwrap_or(4);
            let Ok(mut last) = self.last.lock() else {
                return;
            };
            if last.0 != stage || last.1 != quarter {
                // A closed stderr (`2>&1 | head`) must not stop the fit: the line is dropped.
                let _ = writeln!(
                    std::io::stderr(),
                    "[{:>6.1} s] {stage}: {done}/{total}",
                    self.started.elapsed().as_secs_f64()
                );
                *last = (stage.to_string(), quarter);
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

/// Fitted and cross-validated error of every measured report of the corpus, as markdown (also
/// written to `output`), with each class's error distribution drawn to `plot` and the unseen-source
/// class's signed-error bands written to `calibration` (YAML; data/calibration.yaml is the one
/// servecast embeds and prints beside unfitted predictions).
pub fn validate(
    corpus: &Path,
    output: Option<&Path>,
    plot: Option<&Path>,
    calibration: Option<&Path>,
    progress: bool,
) -> Result<Outcome> {
    let mut notes = Vec::new();
    for (flag, path) in [("--output", output), ("--plot", plot), ("--calibration", calibration)] {
        if let Some(p) = path {
            super::check_output_dir(flag, p)?;
        }
    }
    use crate::fit::classes::validate_corpus;
    use crate::fit::hierarchy::HierarchyOptions;
    let reports = crate::measured::corpus_reports(corpus)?;
    let bar = StageProgress::new(progress);
    let progress = |stage: &str, done: usize, total: usize| bar.show(stage, done, total);
    let v = validate_corpus(&reports, &HierarchyOptions::default(), &progress)?;
    bar.finish();
    let mut command = String::from("servecast validate");
    if let Some(p) = output {
        command.push_str(&format!(" -o {}", p.display()));
    }
    let breaches = crate::fit::floor::corpus_floor_breaches(&reports);
    let md = v.to_markdown(&command) + &crate::fit::floor::to_markdown(&breaches, reports.len());
    if !breaches.is_empty() {
        notes.push(format!(
            "{} measured figure(s) lie beyond what an ideal GPU reaches (listed at the end of the report)",
            breaches.len()
        ));
    }
    if let Some(path) = output {
        write_file(path, &md)?;
    }
    if let Some(path) = calibration {
        let mut cmd = String::from("servecast validate");
        cmd.push_str(&format!(" --calibration {}", path.display()));
        let c = v
            .calibration(&cmd)
            .ok_or_else(|| Error::Fit("the unseen-source class has a metric with no level".into()))?;
        let yaml = format!(
            "# Written by: cargo run --release -- {}\n# Do not edit by hand: signed errors (predicted ÷ measured − 1, percent) of the unseen-source\n# class; tests/it/validation.rs checks them against a fresh validation.\n{}",
            cmd.trim_start_matches("servecast "),
            serde_saphyr::to_string(&c).map_err(|e| Error::Fit(format!("cannot write the calibration as YAML: {e}")))?
        );
        write_file(path, &yaml)?;
        notes.push(format!("calibration written to {}", path.display()));
    }
    if let Some(path) = plot {
        let mut classes = vec![&v.fitted];
        classes.extend(v.classes.iter());
        crate::charts::draw_panels(
            &format!(
                "servecast on {} measured vLLM setups: share of levels predicted within an error",
                v.hierarchy.setups.len()
            ),
            &crate::charts::validation_panels(&classes),
            path,
            (1800, 620),
        )?;
        notes.push(format!("chart written to {}", path.display()));
    }
    Ok(Outcome { text: md, notes })
}

/// The learned prior from a pooled fit of the corpus, as YAML (written to `output`, else the
/// outcome's text).
pub fn priors(corpus: &Path, output: Option<&Path>, progress: bool) -> Result<Outcome> {
    let mut notes = Vec::new();
    if let Some(p) = output {
        super::check_output_dir("--output", p)?;
    }
    use crate::fit::hierarchy::{Hierarchy, HierarchyOptions};
    let reports = crate::measured::corpus_reports(corpus)?;
    let bar = StageProgress::new(progress);
    let progress = |stage: &str, done: usize, total: usize| bar.show(stage, done, total);
    let started = std::time::Instant::now();
    let h = Hierarchy::fit(&reports, &HierarchyOptions::default(), &progress)?;
    bar.finish();
    let command = match output {
        Some(p) => format!("servecast priors -o {}", p.display()),
        None => "servecast priors".to_string(),
    };
    let learned = h.learned_priors(&format!(
        "pooled fit of {} measured setups ({} simulations, {} steps on {} linearisations, {}, last step {}) by `{command}`",
        h.setups.len(),
        h.simulations,
        h.iterations,
        h.linearisations,
        if h.converged {
            "converged"
        } else {
            "iteration budget spent"
        },
        match h.final_step {
            crate::fit::hierarchy::FinalStep::Undamped => "undamped",
            crate::fit::hierarchy::FinalStep::Damped => "damped",
            crate::fit::hierarchy::FinalStep::Kept => "refused (best point kept)",
        }
    ));
    let yaml = format!(
        "# Written by: cargo run --release -- {}\n# Do not edit by hand: the learned prior of servecast (src/cost/prior.rs); tests/it/validation.rs\n# checks it against a fresh pooled fit of the corpus.\n{}",
        command.trim_start_matches("servecast "),
        serde_saphyr::to_string(&learned).map_err(|e| Error::Fit(format!("cannot write the priors as YAML: {e}")))?
    );
    match output {
        Some(path) => {
            write_file(path, &yaml)?;
            notes.push(format!(
                "{} setups ({} left out), σ {:?}, {:.1} s → {}",
                h.setups.len(),
                h.excluded.len(),
                h.sigma.map(|v| (v * 1000.0).round() / 1000.0),
                started.elapsed().as_secs_f64(),
                path.display()
            ));
            for e in &h.excluded {
                notes.push(format!("  left out {}: {}", e.id, e.reason));
            }
            Ok(Outcome {
                text: String::new(),
                notes,
            })
        }
        None => Ok(Outcome { text: yaml, notes }),
    }
}

/// `plot measured`: predicted vs measured charts of every measured report, written to `output`.
pub fn plot(what: &str, output: &Path, replications: u32, formats: &[String]) -> Result<Outcome> {
    if what != "measured" {
        return Err(Error::invalid(
            "plot",
            "what",
            format!("'{what}': only `measured` (use --plot FILE on simulate, sweep and plan for the others)"),
        ));
    }
    for f in formats {
        if f != "png" && f != "svg" {
            return Err(Error::invalid(
                "--formats",
                "formats",
                format!("'{f}' is not png or svg"),
            ));
        }
    }
    if replications == 0 || replications > 1000 {
        return Err(Error::invalid("--replications", "replications", "must be in 1..=1000"));
    }
    let formats: Vec<&str> = formats.iter().map(String::as_str).collect();
    let written = crate::charts::plot_all_measured(output, replications, &formats)?;
    Ok(Outcome {
        text: written
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        notes: Vec::new(),
    })
}
