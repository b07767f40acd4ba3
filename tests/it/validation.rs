//! Every built-in measured report is reproduced by its fitted profile, and predicted when a level
//! is held out of the fit. Fails if any cross-validated error grows past the bounds.

use servecast::fit::validate::{median_and_worst, validate_all, Headline, ReportValidation};
use servecast::fit::{fit_report, fit_reports, FitOptions};
use servecast::measured::builtin_reports;
use servecast::profiles::builtin_profiles;
use servecast::scenario::Scenario;

fn print(v: &ReportValidation) {
    println!("{}:", v.report);
    for l in &v.levels {
        let f = |h: &servecast::fit::validate::Headline| {
            [&h.throughput, &h.e2e_latency, &h.ttft]
                .iter()
                .map(|f| f.as_ref().map_or("     –".into(), |f| format!("{:+6.1}%", f.error_pct)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!(
            "  c={:<3} n={:<4} fitted [thr E2E TTFT] {}   held out {}",
            l.concurrency.unwrap_or(0),
            l.requests,
            f(&l.fitted),
            l.held_out.as_ref().map_or("(cold start, not scored)".into(), f),
        );
    }
}

#[test]
fn measured_reports_within_bounds_fitted_and_held_out() {
    for v in validate_all(&builtin_reports().unwrap(), 0).unwrap() {
        print(&v);
        if v.report.contains("sections") {
            // Seed 003's tables have their own bounds (tests/it/seed003.rs); here the
            // leave-one-section-out errors are printed and bounded loosely.
            let x_realtime: Vec<f64> = v
                .levels
                .iter()
                .filter_map(|l| l.held_out.as_ref()?.throughput.as_ref())
                .filter(|f| f.name == "audio_throughput_x_realtime")
                .map(|f| f.error_pct)
                .collect();
            let (median, worst) = median_and_worst(&x_realtime).unwrap();
            println!("  × real time held out (leave one section out): median {median:.1}%, worst {worst:.1}%");
            assert_eq!(x_realtime.len(), 17, "§5's 15 cells and §3.3's two bursts");
            // The worst is §3.3's 64-request burst: it reads 123× where §5's identical bursts read
            // 151-153×, so no model is within 20% of both.
            assert!(median <= 10.0 && worst <= 30.0, "{}", v.report);
            continue;
        }
        if v.report.contains("joint") {
            // Seed 004's runs share one concurrency and spread ±25% run to run (its untied
            // repeats): reported, not bounded.
            continue;
        }
        type Pick = fn(&Headline) -> &Option<servecast::report::FigureComparison>;
        let throughput: Pick = |h| &h.throughput;
        let e2e: Pick = |h| &h.e2e_latency;
        for (metric, name) in [(throughput, "throughput"), (e2e, "E2E latency")] {
            let fitted = v.errors(metric, false);
            assert!(!fitted.is_empty(), "{}: no {name} figures", v.report);
            for e in &fitted {
                assert!(e.abs() <= 5.0, "{}: fitted {name} error {e:+.1}% > 5%", v.report);
            }
            let Some((median, worst)) = median_and_worst(&v.errors(metric, true)) else {
                println!("  {name}: a single level, nothing to hold out");
                continue;
            };
            println!("  {name}: held-out median {median:.1}%, worst {worst:.1}%");
            assert!(median <= 5.0, "{}: held-out {name} median {median:.1}% > 5%", v.report);
            assert!(worst <= 10.0, "{}: held-out {name} worst {worst:.1}% > 10%", v.report);
        }
        // Mean TTFT where the report has means (medians are reported in the printout).
        for l in v.levels.iter().filter(|l| !l.cold_start) {
            if let Some(f) = l
                .held_out
                .as_ref()
                .and_then(|h| h.ttft.as_ref())
                .filter(|f| f.name == "ttft_ms.mean")
            {
                assert!(
                    f.error_pct.abs() <= 35.0,
                    "{}: held-out mean TTFT {:+.1}% > 35%",
                    v.report,
                    f.error_pct
                );
            }
        }
    }
}

#[test]
fn shipped_profiles_are_what_the_fit_produces() {
    // Guards against hand-edited profiles: refitting with the default options lands on the same
    // parameters (to 2%), so the shipped numbers come from the data and the code.
    let reports = builtin_reports().unwrap();
    for profile in builtin_profiles().unwrap() {
        // The reports it was fitted to: same GPU, model and engine, named in its source.
        let parts: Vec<_> = reports
            .iter()
            .filter(|r| profile.source.contains(&r.provenance.file))
            .map(|r| (r, Scenario::builder().from_report(r).build().unwrap()))
            .filter(|(_, s)| {
                profile.gpu.as_deref() == Some(s.gpu.id.as_str())
                    && profile.model.as_deref() == Some(s.model.id.as_str())
                    && profile.engine == s.engine.version
            })
            .collect();
        assert!(!parts.is_empty(), "profile {} names no built-in report", profile.id);
        for (_, s) in &parts {
            assert_eq!(s.profile.id, profile.id, "the report's scenario picks its own profile");
        }
        let inputs: Vec<_> = parts.iter().map(|(r, s)| (*r, s)).collect();
        let fit = fit_reports(&inputs, &FitOptions::default()).unwrap();
        let shipped = profile.cost.overhead_terms();
        for ((name, a), (_, b)) in fit.profile.cost.overhead_terms().into_iter().zip(shipped) {
            assert!(
                (a - b).abs() <= 0.02 * b.abs().max(1e-6),
                "{}: {name} refit {a} vs shipped {b}",
                profile.id
            );
        }
        assert_eq!(fit.profile.memory, profile.memory, "{}: memory calibration", profile.id);
        match (&fit.profile.uncertainty, &profile.uncertainty) {
            (None, None) => {}
            (Some(a), Some(b)) => {
                assert_eq!(a.params, b.params, "{}: uncertainty parameters", profile.id);
                for (ra, rb) in a.covariance.iter().zip(&b.covariance) {
                    for (x, y) in ra.iter().zip(rb) {
                        assert!(
                            (x - y).abs() <= 0.05 * y.abs().max(1e-18),
                            "{}: covariance {x} vs {y}",
                            profile.id
                        );
                    }
                }
            }
            (a, b) => panic!("{}: refit uncertainty {a:?} vs shipped {b:?}", profile.id),
        }
        println!(
            "{}: refit in {} simulations, {:.2} s",
            profile.id, fit.evaluations, fit.elapsed_s
        );
    }
}

#[test]
fn low_load_fit_predicts_the_high_load_regime() {
    // Fit only the levels where nobody queues, predict the ones dominated by batching and
    // queueing: a different operating regime of the same engine and GPU.
    for (id, train) in [
        ("rtx4090-indextts2-gpt-vllm0.10", 3usize),
        ("a10-qwen2.5-7b-vllm0.6", 3),
    ] {
        let report = builtin_reports().unwrap().into_iter().find(|r| r.id == id).unwrap();
        let base = Scenario::builder().from_report(&report).build().unwrap();
        let exclude: Vec<usize> = (train..report.levels.len()).collect();
        let fit = fit_report(
            &report,
            &base,
            &FitOptions {
                exclude_levels: exclude.clone(),
                ..FitOptions::default()
            },
        )
        .unwrap();
        for &i in &exclude {
            let h = servecast::fit::validate::Headline::of(&fit.levels[i].comparison);
            let thr = h.throughput.unwrap().error_pct;
            let e2e = h.e2e_latency.unwrap().error_pct;
            println!(
                "{id}: trained on levels < {train}, level {i} (c={:?}): throughput {thr:+.1}%, E2E {e2e:+.1}%",
                report.levels[i].concurrency
            );
            assert!(
                thr.abs() <= 15.0 && e2e.abs() <= 15.0,
                "{id} level {i}: {thr:+.1}% / {e2e:+.1}%"
            );
        }
    }
}

/// The pooled fit of the corpus reproduces data/priors.yaml, and every generalisation class stays
/// within its bound. The bounds guard against regressions at today's figures (docs/validation.md);
/// the targets for unseen setups (median 8% / 10% / 20%, 90th percentile 20% / 25% / 40% for
/// throughput / E2E / TTFT) are printed beside them.
#[test]
fn generalisation_classes_within_bounds_and_the_shipped_priors_reproduced() {
    use servecast::cost::prior::LearnedPriors;
    use servecast::fit::classes::{run_class, Class};
    use servecast::fit::hierarchy::{Hierarchy, HierarchyOptions};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/measured");
    let reports = servecast::measured::corpus_reports(&dir).unwrap();
    let h = Hierarchy::fit(&reports, &HierarchyOptions::default(), &|_, _, _| {}).unwrap();
    // The fit stopped because a step on its fixed objective gained less than the tolerance, not
    // because its iteration budget ran out (else the learned centres are wherever it stopped).
    assert!(
        h.converged,
        "the pooled fit did not converge in {} re-linearisations",
        h.iterations
    );
    // The shipped priors are what the fit produces (nobody edited them by hand).
    let fresh = h.learned_priors("test");
    let shipped = LearnedPriors::builtin().expect("data/priors.yaml holds learned priors");
    assert_eq!(
        fresh.corpus, shipped.corpus,
        "re-run `servecast priors -o data/priors.yaml`"
    );
    for (a, b) in fresh
        .release_lines
        .iter()
        .chain(&fresh.architectures)
        .chain(&fresh.gpus)
        .zip(
            shipped
                .release_lines
                .iter()
                .chain(&shipped.architectures)
                .chain(&shipped.gpus),
        )
    {
        assert_eq!(a.group, b.group);
        for ((name, x), (_, y)) in a.terms.iter().zip(&b.terms) {
            assert!(
                (x.centre / y.centre - 1.0).abs() < 1e-6 && (x.spread - y.spread).abs() < 1e-6,
                "{} {name}: fresh {x:?} vs shipped {y:?}",
                a.group
            );
        }
    }
    // And each model's learned effect on the GPU-side terms.
    assert_eq!(fresh.models.len(), shipped.models.len());
    for (a, b) in fresh.models.iter().zip(&shipped.models) {
        assert_eq!(a.model, b.model);
        for ((name, x), (_, y)) in a.terms.iter().zip(&b.terms) {
            assert!(
                (x.shift - y.shift).abs() < 1e-6,
                "{} {name}: fresh {x:?} vs shipped {y:?}",
                a.model
            );
        }
    }
    type Pick = fn(&Headline) -> &Option<servecast::report::FigureComparison>;
    let metrics: [(Pick, &str); 3] = [
        (|h| &h.throughput, "throughput"),
        (|h| &h.e2e_latency, "E2E"),
        (|h| &h.ttft, "TTFT"),
    ];
    // (class, [median, p90] bound per metric), percent.
    let bounds: [(Class, [[f64; 2]; 3]); 9] = [
        (Class::Fitted, [[3.8, 12.9], [3.0, 19.5], [7.9, 42.7]]),
        (Class::InPlace, [[5.1, 20.6], [4.1, 28.0], [9.1, 59.6]]),
        (Class::NewWorkload, [[7.9, 27.4], [7.5, 27.0], [13.4, 56.9]]),
        (Class::NewFlags, [[6.6, 25.7], [5.5, 25.0], [13.2, 63.5]]),
        (Class::UnseenSetup, [[8.6, 32.9], [8.4, 35.6], [16.0, 77.0]]),
        (Class::UnseenGpu, [[13.3, 58.0], [12.0, 61.7], [25.2, 93.5]]),
        (Class::UnseenReleaseLine, [[13.3, 63.1], [8.1, 55.1], [28.8, 88.1]]),
        (Class::UnseenModel, [[12.7, 47.7], [10.0, 42.9], [25.1, 91.1]]),
        (Class::UnseenSource, [[14.1, 57.9], [8.9, 46.2], [28.3, 91.1]]),
    ];
    let targets = [[8.0, 20.0], [10.0, 25.0], [20.0, 40.0]];
    let mut ran = Vec::new();
    for (class, b) in bounds {
        let r = run_class(&h, class).unwrap();
        ran.push(r.clone());
        if class == Class::UnseenSource {
            // The error bands printed beside unfitted predictions are this class's (nobody
            // edited data/calibration.yaml by hand).
            let fresh = r.calibration("test").expect("every metric has levels");
            let shipped = servecast::fit::classes::builtin_calibration().expect("data/calibration.yaml loads");
            for (name, x, y) in [
                ("throughput", fresh.throughput, shipped.throughput),
                ("e2e_latency", fresh.e2e_latency, shipped.e2e_latency),
                ("ttft", fresh.ttft, shipped.ttft),
            ] {
                assert_eq!(
                    x.levels, y.levels,
                    "{name}: re-run `servecast validate --calibration data/calibration.yaml`"
                );
                for (a, b) in [
                    (x.p05, y.p05),
                    (x.p25, y.p25),
                    (x.p50, y.p50),
                    (x.p75, y.p75),
                    (x.p95, y.p95),
                ] {
                    assert!((a - b).abs() < 1e-6, "{name}: fresh {x:?} vs shipped {y:?}");
                }
            }
            // A 90% band of this class holds 90% of its levels, by construction; what matters to
            // a planner is its width, and that the measured values fall inside it as often.
            let (lo, hi) = shipped.throughput.measured_range_pct();
            assert!(lo < -5.0 && hi > 5.0, "throughput band {lo:+.1}…{hi:+.1}%");
        }
        for ((pick, name), [median_bound, p90_bound]) in metrics.iter().zip(b) {
            let s = r.stats(*pick).unwrap();
            println!(
                "{:<60} {name:<10} median {:5.1}% (bound {median_bound}%), p90 {:6.1}% (bound {p90_bound}%), {} levels{}",
                class.title(),
                s.median,
                s.p90,
                s.n,
                if class == Class::UnseenSetup {
                    let t = targets[metrics.iter().position(|m| m.1 == *name).unwrap()];
                    format!("; issue target {}% / {}%", t[0], t[1])
                } else {
                    String::new()
                }
            );
            assert!(
                s.median <= median_bound && s.p90 <= p90_bound,
                "{}: {name}",
                class.title()
            );
        }
    }
    // The README's figures for two subsets of the unseen-setup class: the mixtures of experts
    // (MLA and the hybrids among them) and the releases 0.11 and later. Printed, and bounded
    // loosely (issue 12 asks their held-out deployments to meet the unseen-setup bounds; in
    // aggregate they sit a few points past them).
    let unseen = ran.iter().find(|r| r.class == Class::UnseenSetup).unwrap();
    let setup_of = |id: &str| h.setups.iter().find(|s| s.report.id == id).unwrap();
    type Subset<'a> = (&'static str, Box<dyn Fn(&str) -> bool + 'a>, [f64; 3]);
    let subsets: [Subset; 2] = [
        (
            "mixture-of-experts setups",
            Box::new(|id: &str| setup_of(id).scenario.model.moe.is_some()),
            [13.0, 18.0, 19.0],
        ),
        (
            "setups on releases 0.11 and later",
            Box::new(|id: &str| {
                setup_of(id)
                    .scenario
                    .engine
                    .release
                    .as_deref()
                    .and_then(servecast::spec::engine::release_number)
                    .is_some_and(|v| v >= (0, 11))
            }),
            [11.0, 14.0, 22.0],
        ),
    ];
    for (name, keep, bound) in &subsets {
        let rows: Vec<_> = unseen.rows.iter().filter(|r| keep(&r.setup)).cloned().collect();
        let setups = rows
            .iter()
            .map(|r| r.setup.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let sub = servecast::fit::classes::ClassReport {
            class: Class::UnseenSetup,
            rows,
        };
        for ((pick, metric), b) in metrics.iter().zip(bound) {
            let st = sub.stats(*pick).unwrap();
            println!(
                "unseen setup, {name} ({setups}): {metric} median {:.1}% over {} levels (bound {b}%)",
                st.median, st.n
            );
            assert!(st.median <= *b, "{name}: {metric} median {:.1}%", st.median);
        }
    }
    // The shipped band is honest beyond its own class: it holds at least 75% of the levels
    // of every other class that left something unseen (when written: 95/93/94% of unseen setup,
    // 85/80/89% of unseen GPU, 89/90/91% of unseen model, 87/85/89% of unseen release line).
    let shipped = servecast::fit::classes::builtin_calibration().unwrap();
    for r in ran.iter().filter(|r| {
        matches!(
            r.class,
            Class::UnseenSetup | Class::UnseenGpu | Class::UnseenModel | Class::UnseenReleaseLine
        )
    }) {
        for (pick, name) in metrics.iter() {
            let band = match *name {
                "throughput" => shipped.throughput,
                "E2E" => shipped.e2e_latency,
                _ => shipped.ttft,
            };
            let e = r.errors(*pick);
            let inside = e.iter().filter(|x| band.p05 <= **x && **x <= band.p95).count() as f64 / e.len() as f64;
            println!(
                "{} {name}: {:.0}% inside the shipped band",
                r.class.title(),
                inside * 100.0
            );
            assert!(
                inside >= 0.75,
                "{} {name}: {:.0}% inside",
                r.class.title(),
                inside * 100.0
            );
        }
    }
}
