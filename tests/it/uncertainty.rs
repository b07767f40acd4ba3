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
