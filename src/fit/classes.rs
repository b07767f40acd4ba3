//! Validation by generalisation class: how well servecast predicts what it was not fitted on.
//!
//! Every class is answered from one pooled fit ([`Hierarchy`]) by solving it again without some
//! data (no simulation) and then *simulating* what was left out with the terms that solve gives:
//!
//! | class | left out of the fit | predicted with |
//! |---|---|---|
//! | in place | one level of a setup | the setup's own terms, fitted on its other levels |
//! | new workload | one setup of a deployment | the terms fitted on the deployment's other setups |
//! | unseen setup | one setup | its release line's and architecture's learned centres |
//! | unseen GPU | every setup on one GPU | the centres learned from the other GPUs |
//! | unseen release line | every setup of one line | the centres learned from the other lines |
//!
//! Errors are predicted ÷ measured − 1 of each level's headline figures ([`Headline`]).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::hierarchy::{CorpusSetup, Hierarchy, Mask, P};
use super::validate::{median_and_worst, Headline};
use crate::report::compare::{compare_level, FigureComparison};

/// A generalisation class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Nothing left out: each setup at its own terms in the pooled fit.
    Fitted,
    /// Leave one level out of a setup.
    InPlace,
    /// Leave one setup of a deployment out; predict it with one set of terms fitted jointly to
    /// the deployment's setups that ran the same server configuration under other workloads (as
    /// `servecast fit` of those reports under the prior learned without this one would).
    NewWorkload,
    /// Leave one setup out; predict it with one set of terms fitted jointly to the setups of the
    /// same GPU, model, release and tester that ran other engine flags (max_num_seqs, token
    /// budget, …) or workloads.
    NewFlags,
    /// Leave one setup out; predict it with no fit.
    UnseenSetup,
    /// Leave every setup on one GPU out.
    UnseenGpu,
    /// Leave every setup of one release line out.
    UnseenReleaseLine,
    /// Leave every setup of one model out (every GPU, release and tester that ran it), and
    /// predict each with no fit: what a planner gets for a model the corpus never measured.
    UnseenModel,
    /// Leave every setup of one source out (one repository, issue or page: a tester's machines
    /// and harness), and predict each with no fit from what the other sources taught: what a
    /// planner gets for a lab the corpus never saw.
    UnseenSource,
}

impl Class {
    /// Every class, in report order.
    pub const ALL: [Class; 8] = [
        Class::InPlace,
        Class::NewWorkload,
        Class::NewFlags,
        Class::UnseenSetup,
        Class::UnseenGpu,
        Class::UnseenReleaseLine,
        Class::UnseenModel,
        Class::UnseenSource,
    ];

    /// A short name for legends.
    pub fn short_name(self) -> &'static str {
        match self {
            Class::Fitted => "fitted",
            Class::InPlace => "in place",
            Class::NewWorkload => "new workload",
            Class::NewFlags => "new flags or workload",
            Class::UnseenSetup => "unseen setup",
            Class::UnseenGpu => "unseen GPU",
            Class::UnseenReleaseLine => "unseen release line",
            Class::UnseenModel => "unseen model",
            Class::UnseenSource => "unseen source",
        }
    }

    /// A heading.
    pub fn title(self) -> &'static str {
        match self {
            Class::Fitted => "Fitted (every level in the fit)",
            Class::InPlace => "In place (leave one level out)",
            Class::NewWorkload => "New workload (same server and flags, its other workloads fitted)",
            Class::NewFlags => "New flags or workload (same GPU, model, release and tester; its other setups fitted)",
            Class::UnseenSetup => "Unseen setup (leave one setup out, no fit)",
            Class::UnseenGpu => "Unseen GPU (leave every setup on the GPU out)",
            Class::UnseenReleaseLine => "Unseen release line (leave every setup of the line out)",
            Class::UnseenModel => "Unseen model (leave every setup of the model out, no fit)",
            Class::UnseenSource => {
                "Unseen source (leave every setup of one tester's repository, issue or page out, no fit)"
            }
        }
    }
}

/// One level predicted in a class.
#[derive(Debug, Clone, Serialize)]
pub struct ClassRow {
    /// Setup id.
    pub setup: String,
    /// GPU id.
    pub gpu: String,
    /// Model id.
    pub model: String,
    /// Release line.
    pub line: String,
    /// The level (`c16`, `q4`, `qinf`).
    pub level: String,
    /// Headline errors.
    pub headline: Headline,
}

/// A class's rows and summary.
#[derive(Debug, Clone, Serialize)]
pub struct ClassReport {
    /// The class.
    pub class: Class,
    /// Levels predicted.
    pub rows: Vec<ClassRow>,
}

/// |error| statistics of one headline metric over a class's levels, percent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ErrorStats {
    /// Levels with the figure.
    pub n: usize,
    /// Median |error|.
    pub median: f64,
    /// 90th percentile of |error| (numpy linear).
    pub p90: f64,
    /// Largest |error|.
    pub worst: f64,
}

impl ClassReport {
    /// Errors of one metric over the rows, percent.
    pub fn errors(&self, metric: fn(&Headline) -> &Option<FigureComparison>) -> Vec<f64> {
        self.rows
            .iter()
            .filter_map(|r| metric(&r.headline).as_ref().map(|f| f.error_pct))
            .filter(|e| e.is_finite())
            .collect()
    }

    /// Median, P90 and worst |error| of a metric (None when no level has it).
    pub fn stats(&self, metric: fn(&Headline) -> &Option<FigureComparison>) -> Option<ErrorStats> {
        let e = self.errors(metric);
        let (median, worst) = median_and_worst(&e)?;
        let mut abs: Vec<f64> = e.iter().map(|x| x.abs()).collect();
        abs.sort_by(f64::total_cmp);
        Some(ErrorStats {
            n: e.len(),
            median,
            p90: crate::metrics::percentile_linear(&abs, 90.0),
            worst,
        })
    }
}

fn level_label(setup: &CorpusSetup, i: usize) -> String {
    let l = &setup.report.levels[i];
    match (l.concurrency, l.qps) {
        (Some(c), _) => format!("c{c}"),
        (None, Some(q)) if q.is_infinite() => format!("burst {}", l.requests),
        (None, Some(q)) => format!("q{q}"),
        _ => "trace".into(),
    }
}

/// Simulates `levels` of setup `s` at `z` and returns their rows.
fn predict(h: &Hierarchy, s: usize, z: &[f64; P], levels: &[usize]) -> Vec<ClassRow> {
    let setup = &h.setups[s];
    let results = setup.simulate(&setup.params(z), levels);
    results
        .iter()
        .map(|(i, r)| ClassRow {
            setup: setup.report.id.clone(),
            gpu: setup.scenario.gpu.id.clone(),
            model: setup.scenario.model.id.clone(),
            line: setup.line.to_string(),
            level: level_label(setup, *i),
            headline: Headline::scored(&setup.report.levels[*i], &compare_level(&setup.report.levels[*i], r)),
        })
        .collect()
}

/// One set of cost terms fitted to the `siblings` together (the deployment's other reports, as
/// `servecast fit` of them would give it): the MAP point of their linearised residuals under the
/// prior the corpus without `s` gives `s` (centre from `sol`, spread τ per term), z units.
fn joint_fit(h: &Hierarchy, sol: &super::hierarchy::Solution, s: usize, siblings: &[usize]) -> [f64; P] {
    let centre = sol.prior_for(&h.layout, &h.setups, s);
    let mut a = nalgebra::SMatrix::<f64, P, P>::zeros();
    let mut b = nalgebra::SVector::<f64, P>::zeros();
    for k in 0..P {
        let w = 1.0 / (h.tau[k] * h.tau[k]);
        a[(k, k)] += w;
        b[k] += w * centre[k];
    }
    for &t in siblings {
        let l = &h.lin[t];
        for (j, slot) in h.setups[t].slots.iter().enumerate() {
            let sd = h.sigma[slot.metric.index()];
            let w = h.weights[t][j] * slot.metric.weight() / (sd * sd);
            // r(z) ≈ r0 + J (z − z0) = (r0 − J z0) + J z: rows J z ≈ J z0 − r0.
            let jz0: f64 = (0..P).map(|k| l.jac[(j, k)] * l.z0[k]).sum();
            let rhs = jz0 - l.r0[j];
            for p in 0..P {
                b[p] += w * l.jac[(j, p)] * rhs;
                for q in 0..P {
                    a[(p, q)] += w * l.jac[(j, p)] * l.jac[(j, q)];
                }
            }
        }
    }
    match a.cholesky() {
        Some(c) => {
            let z = c.solve(&b);
            let mut out = [0.0; P];
            for k in 0..P {
                out[k] = if z[k].is_finite() { z[k] } else { centre[k] };
            }
            out
        }
        None => centre,
    }
}

/// The levels of a setup that were fitted (they have slots).
fn fitted_levels(setup: &CorpusSetup) -> Vec<usize> {
    let mut v: Vec<usize> = setup.slots.iter().map(|s| s.level).collect();
    v.dedup();
    v
}

/// What identifies one server: its deployment ([`deployment_key`]) and every resolved engine flag.
pub fn server_key(setup: &CorpusSetup) -> String {
    let e = &setup.scenario.engine;
    format!(
        "{}|{}|{}|{}|{}|{}|{}|{}",
        deployment_key(setup),
        e.gpu_memory_utilization,
        e.max_num_seqs,
        e.max_model_len,
        e.max_num_batched_tokens,
        e.block_size,
        e.enable_chunked_prefill,
        e.enable_prefix_caching
    )
}

/// What identifies one deployment: the same GPU, model weights, vLLM release, parallelism and
/// source (one tester's machine), whatever the workload and the scheduler flags servecast
/// simulates (max_num_seqs, token budget, chunked prefill, prefix caching, utilization).
pub fn deployment_key(setup: &CorpusSetup) -> String {
    let e = &setup.scenario.engine;
    format!(
        "{}|{}|{}|{:?}|{}|{:?}|{:?}|{}|{}",
        setup.scenario.gpu.id,
        setup.scenario.model.id,
        setup
            .report
            .release
            .as_deref()
            .unwrap_or(setup.scenario.engine.version.as_str()),
        e.version,
        e.tensor_parallel_size,
        e.quantization,
        e.kv_cache_dtype,
        setup.report.replicas,
        super::hierarchy::source_key(&setup.report),
    )
}

/// Runs one class.
pub fn run_class(h: &Hierarchy, class: Class) -> crate::error::Result<ClassReport> {
    let n = h.setups.len();
    let rows: Vec<Vec<ClassRow>> = match class {
        Class::Fitted => (0..n)
            .into_par_iter()
            .map(|s| Ok(predict(h, s, &h.solution.z[s], &fitted_levels(&h.setups[s]))))
            .collect::<crate::error::Result<Vec<_>>>()?,
        Class::InPlace => {
            let jobs: Vec<(usize, usize)> = (0..n)
                .flat_map(|s| {
                    let levels = fitted_levels(&h.setups[s]);
                    let many = levels.len() >= 2;
                    levels.into_iter().filter(move |_| many).map(move |i| (s, i))
                })
                .collect();
            jobs.par_iter()
                .map(|&(s, level)| {
                    let every = |_: usize| true;
                    let slot = |t: usize, j: usize| t != s || h.setups[s].slots[j].level != level;
                    let sol = h.solve_masked(&Mask {
                        setup: &every,
                        slot: &slot,
                    })?;
                    Ok(predict(h, s, &sol.z[s], &[level]))
                })
                .collect::<crate::error::Result<Vec<_>>>()?
        }
        Class::NewWorkload | Class::NewFlags => {
            let key: fn(&CorpusSetup) -> String = if class == Class::NewWorkload {
                server_key
            } else {
                deployment_key
            };
            let keys: Vec<String> = h.setups.iter().map(key).collect();
            (0..n)
                .into_par_iter()
                .filter(|&s| (0..n).any(|t| t != s && keys[t] == keys[s]))
                .map(|s| {
                    let without = |t: usize| t != s;
                    let sol = h.solve_setups(&without, false)?;
                    let siblings: Vec<usize> = (0..n).filter(|&t| t != s && keys[t] == keys[s]).collect();
                    let z = joint_fit(h, &sol, s, &siblings);
                    Ok(predict(h, s, &z, &fitted_levels(&h.setups[s])))
                })
                .collect::<crate::error::Result<Vec<_>>>()?
        }
        Class::UnseenSetup => (0..n)
            .into_par_iter()
            .map(|s| {
                let without = |t: usize| t != s;
                let sol = h.solve_setups(&without, false)?;
                let z = sol.prior_for(&h.layout, &h.setups, s);
                Ok(predict(h, s, &z, &fitted_levels(&h.setups[s])))
            })
            .collect::<crate::error::Result<Vec<_>>>()?,
        Class::UnseenGpu | Class::UnseenReleaseLine | Class::UnseenModel | Class::UnseenSource => {
            let key = |s: usize| -> String {
                match class {
                    Class::UnseenGpu => h.setups[s].scenario.gpu.id.clone(),
                    Class::UnseenSource => super::hierarchy::source_key(&h.setups[s].report),
                    Class::UnseenModel => h.setups[s].scenario.model.id.clone(),
                    _ => h.setups[s].line.to_string(),
                }
            };
            let mut groups: Vec<String> = (0..n).map(key).collect();
            groups.sort();
            groups.dedup();
            groups
                .par_iter()
                .map(|g| {
                    let without = |t: usize| key(t) != *g;
                    let sol = h.solve_setups(&without, false)?;
                    Ok((0..n)
                        .filter(|&s| key(s) == *g)
                        .flat_map(|s| {
                            // What a planner gets: the line's and architecture's centres plus
                            // the GPU type's and the model's learned effects where the rest of
                            // the corpus measured them (a GPU or model left out whole has none).
                            let z = match class {
                                Class::UnseenSource | Class::UnseenModel => sol.prior_for(&h.layout, &h.setups, s),
                                _ => sol.centre_with_model(&h.layout, &h.setups, s),
                            };
                            predict(h, s, &z, &fitted_levels(&h.setups[s]))
                        })
                        .collect())
                })
                .collect::<crate::error::Result<Vec<_>>>()?
        }
    };
    Ok(ClassReport {
        class,
        rows: rows.into_iter().flatten().collect(),
    })
}

/// Formats one statistic cell.
fn cell(s: Option<ErrorStats>) -> String {
    s.map_or("–".into(), |s| format!("{:.1}% / {:.1}% ({})", s.median, s.p90, s.n))
}

/// Each class's levels as markdown, after a line on the pooled fit.
pub fn to_markdown(h: &Hierarchy, reports: &[ClassReport]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "\n## Per level\n\nPooled fit: {} setups, {} simulations of a setup's levels, {} steps on {} linearisations ({}); residual σ (log error of one figure) {}.\n",
        h.setups.len(),
        h.simulations,
        h.iterations,
        h.linearisations,
        if h.converged { "converged" } else { "iteration budget spent" },
        super::hierarchy::Metric::ALL
            .iter()
            .map(|m| format!("{} {:.3}", m.name(), h.sigma[m.index()]))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if !h.excluded.is_empty() {
        out.push_str("\nLeft out of the pooled fit:\n\n");
        for e in &h.excluded {
            out.push_str(&format!("- {}: {}\n", e.id, e.reason));
        }
    }
    let pct = |f: &Option<FigureComparison>| f.as_ref().map_or("–".into(), |f| format!("{:+.1}%", f.error_pct));
    for r in reports {
        out.push_str(&format!("\n### {}\n\n", r.class.title()));
        out.push_str(
            "| setup | GPU | model | line | level | throughput | E2E | TTFT |\n|---|---|---|---|---|---|---|---|\n",
        );
        for row in &r.rows {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                row.setup,
                row.gpu,
                row.model,
                row.line,
                row.level,
                pct(&row.headline.throughput),
                pct(&row.headline.e2e_latency),
                pct(&row.headline.ttft),
            ));
        }
    }
    out
}

/// Everything `servecast validate` reports.
#[derive(Debug, Clone)]
pub struct CorpusValidation {
    /// The pooled fit.
    pub hierarchy: Hierarchy,
    /// Fitted errors (nothing held out).
    pub fitted: ClassReport,
    /// The held-out classes, in [`Class::ALL`] order.
    pub classes: Vec<ClassReport>,
    /// The seed reports, each fitted on its own as `servecast fit` does (a MAP correction of the
    /// learned prior for vLLM, nano-vllm's own fit for VoxCPM) and cross-validated: leave one level
    /// out, one report of a group, or one section of seed 003.
    pub seeds: Vec<super::validate::ReportValidation>,
}

/// Fits the corpus and runs every class; `progress` hears (stage, done, total).
pub fn validate_corpus(
    reports: &[crate::measured::MeasuredReport],
    opts: &super::hierarchy::HierarchyOptions,
    progress: super::hierarchy::Progress<'_>,
) -> crate::error::Result<CorpusValidation> {
    let seeds: Vec<crate::measured::MeasuredReport> = reports
        .iter()
        .filter(|r| r.provenance.file.starts_with("shared/seeds/"))
        .cloned()
        .collect();
    let mut files: Vec<&str> = Vec::new();
    for r in &seeds {
        if !files.contains(&r.provenance.file.as_str()) {
            files.push(r.provenance.file.as_str());
        }
    }
    let own = |file: &str| -> Vec<crate::measured::MeasuredReport> {
        seeds.iter().filter(|r| r.provenance.file == file).cloned().collect()
    };
    // A seed file of engines outside vLLM (nano-vllm's VoxCPM) is fitted with its own model, which
    // reads no learned prior: it is validated while the pooled fit runs (the pooled fit leaves
    // part of the two cores idle in its linear solves).
    let independent = |file: &str| {
        seeds
            .iter()
            .filter(|r| r.provenance.file == file)
            .all(|r| r.engine == crate::spec::engine::EngineVersion::NanoVllm)
    };
    let (hierarchy, early) = rayon::join(
        || Hierarchy::fit(reports, opts, progress),
        || -> crate::error::Result<Vec<Vec<super::validate::ReportValidation>>> {
            files
                .par_iter()
                .filter(|f| independent(f))
                .map(|file| super::validate::validate_all_with(&own(file), 0, &super::FitOptions::default()))
                .collect()
        },
    );
    let hierarchy = hierarchy?;
    let mut early = early?.into_iter();
    let total = Class::ALL.len() + 2;
    progress("fitted errors", 0, total);
    let fitted = run_class(&hierarchy, Class::Fitted)?;
    let mut classes = Vec::new();
    for (i, c) in Class::ALL.iter().enumerate() {
        progress(c.title(), i + 1, total);
        classes.push(run_class(&hierarchy, *c)?);
    }
    progress("the seed reports, each fitted on its own", total - 1, total);
    // Each vLLM seed file is checked against a prior learned without its own data (the pooled fit
    // solved again with that file's setups masked out), as a user's new deployment would be.
    // The files are independent: fitted side by side (each fit parallel inside as well).
    let late: Vec<Vec<super::validate::ReportValidation>> = files
        .par_iter()
        .filter(|f| !independent(f))
        .map(|file| {
            let without = |s: usize| hierarchy.setups[s].report.provenance.file != *file;
            let sol = hierarchy.solve_setups(&without, true)?;
            let prior = hierarchy.learned_priors_of(&sol, &format!("the corpus without {file}"));
            let base = super::FitOptions {
                prior: Some(std::sync::Arc::new(prior)),
                ..super::FitOptions::default()
            };
            super::validate::validate_all_with(&own(file), 0, &base)
        })
        .collect::<crate::error::Result<_>>()?;
    let mut late = late.into_iter();
    // In the files' order.
    let per_file: Vec<Vec<super::validate::ReportValidation>> = files
        .iter()
        .filter_map(|f| if independent(f) { early.next() } else { late.next() })
        .collect();
    let seeds = per_file.into_iter().flatten().collect();
    progress("done", total, total);
    Ok(CorpusValidation {
        hierarchy,
        fitted,
        classes,
        seeds,
    })
}

impl CorpusValidation {
    /// The class report of `class`.
    pub fn class(&self, class: Class) -> Option<&ClassReport> {
        if class == Class::Fitted {
            return Some(&self.fitted);
        }
        self.classes.iter().find(|c| c.class == class)
    }

    /// The whole validation as markdown (`docs/validation.md`).
    pub fn to_markdown(&self, command: &str) -> String {
        let mut out = String::from("# servecast validation\n\n");
        out.push_str(&format!(
            "Made by `{command}`. Errors are predicted ÷ measured − 1 of each level's headline figures: throughput \
             (output tokens/s, else requests/s, else total tokens/s, else × real time for speech; a report with none of \
             these, such as France Travail's, is scored on the run's wall time, where a negative error means a faster \
             prediction), mean end-to-end latency (else its median) and \
             mean TTFT (else its median). Every vLLM setup of `data/measured` (the seeds and the public corpus in \
             `data/measured/corpus`) is fitted in one pooled fit that learns the prior (`data/priors.yaml`); each class \
             then leaves some data out, solves the fit again without it and simulates what was left out. Prompt and \
             output token counts a report prints are the workload as it ran, so they are used; measured times never are.\n\n"
        ));
        let mut all = vec![&self.fitted];
        all.extend(self.classes.iter());
        out.push_str(&summary_table(&all));
        if !self.seeds.is_empty() {
            out.push_str(
                "\n## The seed reports, each fitted on its own (`servecast fit`: the MAP correction of the learned \
                 prior — here a prior learned without that seed's file, the pooled fit solved again with its setups \
                 masked out; VoxCPM on nano-vllm its own fit)\n\n*Held out*: one level left out of the fit (seed 004: \
                 one of its three configurations; seed 003: one report section).\n\n",
            );
            let md = super::validate::to_markdown(&self.seeds, command);
            // Drop the generic heading and preamble of the per-report tables.
            let body = md.split_once("## Summary").map_or(md.as_str(), |(_, b)| b);
            out.push_str("### Summary");
            out.push_str(&body.replace("\n## ", "\n### "));
        }
        out.push_str(&to_markdown(&self.hierarchy, &self.classes));
        out
    }
}

fn summary_table(reports: &[&ClassReport]) -> String {
    let mut out = String::from(
        "## Generalisation classes (|error|: median / 90th percentile (levels))\n\n| class | throughput | mean E2E | TTFT |\n|---|---|---|---|\n",
    );
    for r in reports {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.class.title(),
            cell(r.stats(|h| &h.throughput)),
            cell(r.stats(|h| &h.e2e_latency)),
            cell(r.stats(|h| &h.ttft)),
        ));
    }
    out
}

/// Signed-error quantiles of one headline metric over a class's levels, percent (error =
/// predicted ÷ measured − 1): how far measurements fell from servecast's predictions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBand {
    /// Levels with the figure.
    pub levels: usize,
    /// 5th percentile of the signed error, percent.
    pub p05: f64,
    /// 25th percentile, percent.
    pub p25: f64,
    /// Median, percent.
    pub p50: f64,
    /// 75th percentile, percent.
    pub p75: f64,
    /// 95th percentile, percent.
    pub p95: f64,
}

impl ErrorBand {
    /// The quantiles of `errors` (percent; non-finite values skipped), None when there are none.
    pub fn of(errors: &[f64]) -> Option<ErrorBand> {
        let mut e: Vec<f64> = errors.iter().copied().filter(|x| x.is_finite()).collect();
        if e.is_empty() {
            return None;
        }
        e.sort_by(f64::total_cmp);
        let q = |p: f64| crate::metrics::percentile_linear(&e, p);
        Some(ErrorBand {
            levels: e.len(),
            p05: q(5.0),
            p25: q(25.0),
            p50: q(50.0),
            p75: q(75.0),
            p95: q(95.0),
        })
    }

    /// Where 90% of the measurements fell relative to the prediction (measured ÷ predicted − 1,
    /// percent, low and high): the 5–95% error band inverted.
    pub fn measured_range_pct(&self) -> (f64, f64) {
        let inv = |e: f64| (1.0 / (1.0 + e / 100.0) - 1.0) * 100.0;
        (inv(self.p95), inv(self.p05))
    }
}

/// How far measurements fell from servecast's predictions where it had no fit: the signed-error
/// bands of the *unseen source* class (every setup of one tester's repository, issue or page
/// predicted by the prior learned without any of them: a planner's own machine is a source the
/// corpus never saw), written by `servecast validate --calibration` and printed beside unfitted
/// predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// What produced it (the command and the corpus size).
    pub source: String,
    /// The class the bands come from.
    pub class: String,
    /// Output throughput (else request throughput, else total time).
    pub throughput: ErrorBand,
    /// Mean end-to-end latency (else its median).
    pub e2e_latency: ErrorBand,
    /// Mean TTFT (else its median).
    pub ttft: ErrorBand,
}

impl ClassReport {
    /// The class's signed-error bands (None when a metric has no level).
    pub fn calibration(&self, source: &str) -> Option<Calibration> {
        Some(Calibration {
            source: source.to_string(),
            class: self.class.title().to_string(),
            throughput: ErrorBand::of(&self.errors(|h| &h.throughput))?,
            e2e_latency: ErrorBand::of(&self.errors(|h| &h.e2e_latency))?,
            ttft: ErrorBand::of(&self.errors(|h| &h.ttft))?,
        })
    }
}

impl CorpusValidation {
    /// The unseen-source class's calibration (see [`Calibration`]).
    pub fn calibration(&self, command: &str) -> Option<Calibration> {
        self.classes
            .iter()
            .find(|c| c.class == Class::UnseenSource)?
            .calibration(&format!("{command} on {} pooled setups", self.hierarchy.setups.len()))
    }
}

/// The calibration servecast embeds (data/calibration.yaml, written by `servecast validate
/// --calibration data/calibration.yaml`).
pub fn builtin_calibration() -> crate::error::Result<Calibration> {
    // Parsed once: every prediction from the prior carries it, and sweeps make thousands.
    static PARSED: std::sync::OnceLock<std::result::Result<Calibration, String>> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| serde_saphyr::from_str(include_str!("../../data/calibration.yaml")).map_err(|e| e.to_string()))
        .clone()
        .map_err(|e| crate::error::Error::invalid("data/calibration.yaml", "calibration", e))
}

#[cfg(test)]
mod calibration_tests {
    use super::*;

    #[test]
    fn an_error_band_inverts_to_where_measurements_fall() {
        // Errors of +25% and −20% (predicted ÷ measured − 1) mean measurements at 0.8× and
        // 1.25× the prediction.
        let band = ErrorBand::of(&[-20.0, -20.0, 0.0, 25.0, 25.0]).expect("values");
        assert_eq!(band.levels, 5);
        assert!((band.p05 + 20.0).abs() < 1e-9 && (band.p95 - 25.0).abs() < 1e-9);
        let (lo, hi) = band.measured_range_pct();
        assert!((lo + 20.0).abs() < 1e-9, "{lo}");
        assert!((hi - 25.0).abs() < 1e-9, "{hi}");
        assert!(ErrorBand::of(&[f64::NAN]).is_none());
    }

    #[test]
    fn the_embedded_calibration_loads_and_is_ordered() {
        let c = builtin_calibration().expect("data/calibration.yaml");
        for b in [c.throughput, c.e2e_latency, c.ttft] {
            assert!(b.levels > 100);
            assert!(b.p05 <= b.p25 && b.p25 <= b.p50 && b.p50 <= b.p75 && b.p75 <= b.p95);
        }
    }
}
