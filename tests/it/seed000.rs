//! Seed 000 (RTX 4090, IndexTTS-2 GPT, vLLM 0.10.2): the fitted profile reproduces every level,
//! and a level held out of the fit is still predicted.

use servecast::fit::{fit_report, FitOptions};
use servecast::measured::builtin_reports;
use servecast::report::compare;
use servecast::scenario::Scenario;

fn report() -> servecast::measured::MeasuredReport {
    builtin_reports()
        .unwrap()
        .into_iter()
        .find(|r| r.id == "rtx4090-indextts2-gpt-vllm0.10")
        .expect("seed 000 is a built-in report")
}

/// The scenario `simulate --gpu 4090` builds: the built-in report's model, flags and workload.
fn default_4090() -> Scenario {
    Scenario::builder()
        .gpu("4090")
        .from_builtin_report()
        .unwrap()
        .build()
        .unwrap()
}

fn print_table(title: &str, rows: &[(u32, f64, f64, f64)]) {
    println!("{title}\n  c   | throughput err | E2E mean err | TTFT mean err");
    for (c, t, e, f) in rows {
        println!("  {c:<3} | {t:+13.1}% | {e:+11.1}% | {f:+12.1}%");
    }
}

#[test]
fn default_4090_run_is_the_measured_scenario_and_reproduces_it() {
    let scenario = default_4090();
    assert_eq!(
        scenario.measured_report.as_deref(),
        Some("rtx4090-indextts2-gpt-vllm0.10")
    );
    assert_eq!(scenario.profile.kind, servecast::cost::ProfileKind::Fitted);
    let prediction = scenario.run().unwrap();
    assert_eq!(prediction.levels.len(), 6);
    let r = report();
    let cmp = compare(&r, &prediction.levels);
    let mut rows = Vec::new();
    for (level, c) in r.levels.iter().zip(&cmp) {
        let thr = c.figure("output_throughput_tok_s").unwrap().error_pct;
        let e2e = c.figure("e2e_latency_ms.mean").unwrap().error_pct;
        let ttft = c.figure("ttft_ms.mean").unwrap().error_pct;
        rows.push((level.concurrency.unwrap(), thr, e2e, ttft));
    }
    print_table("seed 000, fitted profile, all levels in the fit:", &rows);
    for (c, thr, e2e, ttft) in rows {
        assert!(
            thr.abs() <= 5.0,
            "c={c}: output throughput off by {thr:+.1}% (bound 5%)"
        );
        assert!(e2e.abs() <= 5.0, "c={c}: mean E2E latency off by {e2e:+.1}% (bound 5%)");
        assert!(ttft.abs() <= 30.0, "c={c}: mean TTFT off by {ttft:+.1}% (bound 30%)");
    }
}

#[test]
fn generated_token_counts_match_the_report_per_level() {
    let scenario = default_4090();
    let prediction = scenario.run().unwrap();
    for (m, p) in report().levels.iter().zip(&prediction.levels) {
        let stats = m.output_tokens.unwrap();
        assert_eq!(p.requests, m.requests, "every request completes");
        assert!(
            (p.output_tokens.mean - stats.mean.unwrap()).abs() < 0.01,
            "mean tokens {} vs {:?}",
            p.output_tokens.mean,
            stats.mean
        );
        assert_eq!(p.output_tokens.min, stats.min.unwrap());
        assert_eq!(p.output_tokens.max, stats.max.unwrap());
    }
}

#[test]
fn a_held_out_level_is_predicted_by_a_fit_on_the_others() {
    let r = report();
    let base = Scenario::builder().from_report(&r).build().unwrap();
    let mut rows = Vec::new();
    // The middle level (interpolation) and the top one (extrapolation past max_num_seqs).
    for held in [3usize, 5] {
        let fit = fit_report(
            &r,
            &base,
            &FitOptions {
                exclude_levels: vec![held],
                ..FitOptions::default()
            },
        )
        .unwrap();
        let lf = &fit.levels[held];
        assert!(!lf.in_fit);
        let thr = lf.comparison.figure("output_throughput_tok_s").unwrap().error_pct;
        let e2e = lf.comparison.figure("e2e_latency_ms.mean").unwrap().error_pct;
        let ttft = lf.comparison.figure("ttft_ms.mean").unwrap().error_pct;
        rows.push((r.levels[held].concurrency.unwrap(), thr, e2e, ttft));
    }
    print_table("seed 000, leave one level out (error on the held-out level):", &rows);
    for (c, thr, e2e, ttft) in rows {
        assert!(thr.abs() <= 10.0, "held-out c={c}: throughput {thr:+.1}%");
        assert!(e2e.abs() <= 10.0, "held-out c={c}: E2E {e2e:+.1}%");
        assert!(ttft.abs() <= 35.0, "held-out c={c}: TTFT {ttft:+.1}%");
    }
}

#[test]
fn one_users_ttfts_spread_as_measured() {
    // Seed 000 at one user: TTFT min 9.18, P50 11.42, P95 17.90, max 21.22 ms. The front end's
    // per-request jitter (a log-normal around the fitted mean) spreads the prediction too, where
    // a constant front-end latency gave every request the same TTFT.
    let scenario = default_4090();
    let memory = scenario.memory().unwrap();
    let cost = scenario.cost_model();
    let level = scenario.run_level_with(0, &memory, &cost);
    let t = level.ttft_ms;
    let measured = report().levels[0].ttft_ms.unwrap();
    println!(
        "c=1 TTFT predicted min {:.2} P50 {:.2} P95 {:.2} max {:.2} ms; measured {:?} / {:?} / {:?} / {:?}",
        t.min, t.p50, t.p95, t.max, measured.min, measured.p50, measured.p95, measured.max
    );
    assert!(
        t.max / t.min > 1.5,
        "a spread, not a constant: {:.2}…{:.2} ms",
        t.min,
        t.max
    );
    for (p, m) in [(t.p50, measured.p50.unwrap()), (t.p95, measured.p95.unwrap())] {
        assert!((p / m - 1.0).abs() <= 0.2, "predicted {p:.2} ms vs measured {m:.2} ms");
    }
}
