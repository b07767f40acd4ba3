//! Prediction intervals: ordered, reproducible, and wider when the fit's covariance is drawn from.

use servecast::scenario::Scenario;
use servecast::uncertainty::{predict_with_intervals, UncertaintyOptions};

#[test]
fn intervals_are_ordered_reproducible_and_carry_the_fit_uncertainty() {
    let scenario = Scenario::builder()
        .gpu("a10")
        .from_builtin_report()
        .unwrap()
        .build()
        .unwrap();
    assert!(
        scenario.profile.uncertainty.is_some(),
        "the shipped A10 profile carries its covariance"
    );
    let opts = UncertaintyOptions {
        replications: 8,
        ..Default::default()
    };
    let with = predict_with_intervals(&scenario, &opts).unwrap();
    assert_eq!(with.intervals.len(), with.levels.len());
    let again = predict_with_intervals(&scenario, &opts).unwrap();
    assert_eq!(with.intervals, again.intervals, "same seed, same intervals");
    let seeds_only = predict_with_intervals(
        &scenario,
        &UncertaintyOptions {
            parameter_uncertainty: false,
            ..opts
        },
    )
    .unwrap();
    for (w, s) in with.intervals.iter().zip(&seeds_only.intervals) {
        for i in [&w.output_throughput_tok_s, &w.ttft_ms_mean, &w.e2e_latency_ms_mean] {
            assert!(i.low <= i.median && i.median <= i.high, "{i:?}");
        }
        let (ww, ws) = (
            w.output_throughput_tok_s.relative_half_width(),
            s.output_throughput_tok_s.relative_half_width(),
        );
        println!(
            "{:?}: throughput ±{:.1}% (seeds + parameters) vs ±{:.1}% (seeds only)",
            w.concurrency,
            ww * 100.0,
            ws * 100.0
        );
        assert!(ww > ws, "parameter uncertainty widens the band");
        assert!(ww < 0.5, "a band of ±{:.0}% says nothing", ww * 100.0);
    }
    // The first replication is the plain prediction.
    assert_eq!(with.levels, scenario.run().unwrap().levels);
}

/// A prediction from the unfitted prior carries the corpus's unseen-setup error band (and its
/// text says so in a sentence); a fitted one does not, its own fit standing behind it.
#[test]
fn an_unfitted_prediction_carries_the_corpus_error_band_and_a_fitted_one_does_not() {
    let unfitted = Scenario::builder()
        .gpu("gh200")
        .model("llama-3.1-8b")
        .workload(servecast::workload::arrivals::WorkloadSpec::closed_loop(
            vec![4],
            4,
            servecast::workload::lengths::LengthDist::Fixed { tokens: 512 },
            servecast::workload::lengths::LengthDist::Fixed { tokens: 64 },
        ))
        .build()
        .unwrap()
        .run()
        .unwrap();
    let band = unfitted.unmeasured_error_band.as_ref().expect("a band for the prior");
    assert!(band.throughput.levels > 100);
    let (lo, hi) = band.throughput.measured_range_pct();
    assert!(lo < 0.0 && hi > 0.0, "{lo} … {hi}");
    let text = servecast::report::render(&unfitted, None, servecast::report::Format::Markdown).unwrap();
    assert!(text.contains("Where nobody measured"), "{text}");
    let fitted = Scenario::builder()
        .gpu("a10")
        .from_builtin_report()
        .unwrap()
        .build()
        .unwrap()
        .run()
        .unwrap();
    assert!(fitted.unmeasured_error_band.is_none());
    let text = servecast::report::render(&fitted, None, servecast::report::Format::Markdown).unwrap();
    assert!(!text.contains("Where nobody measured"));
}
