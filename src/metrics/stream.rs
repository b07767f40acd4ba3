//! Streaming summaries: exact (numpy's linear percentiles) up to a documented size, a
//! relative-error quantile sketch beyond it, so memory stays bounded at any request count.
//!
//! Up to [`EXACT_LIMIT`] values a metric keeps every value and its [`Summary`] is bit for bit
//! what [`Summary::from_values`] gives on the whole list (the seed reports were computed that
//! way). The next value moves them into a DDSketch (`sketches-ddsketch`, relative accuracy
//! [`SKETCH_RELATIVE_ACCURACY`] = 0.5%): from then on each percentile is within 0.5% of the exact
//! one, min and max stay exact and the mean is a compensated (Neumaier) running sum, within a
//! few ulps of the correctly rounded one.
//!
//! Why the interpolated percentile keeps the bound: numpy's linear percentile is a convex
//! combination of two adjacent order statistics; the sketch returns each order statistic within a
//! factor (1 ± α), so their combination with the same weights is within (1 ± α) of the exact one.

use sketches_ddsketch::{Config, DDSketch};

use super::percentile::percentile_by;
use super::summary::Summary;

/// Values a metric keeps exactly before switching to the sketch (2^20 = 1,048,576 per metric,
/// 8 MiB each; a level has about ten metrics).
pub const EXACT_LIMIT: usize = 1 << 20;

/// The sketch's relative accuracy: every sketched percentile is within ±0.5% of the exact one.
pub const SKETCH_RELATIVE_ACCURACY: f64 = 0.005;

/// Bins the sketch may use (at α = 0.5%, about 230 per decade: 16,384 cover 70 decades, so no
/// bin is ever collapsed for times between a nanosecond and a century).
const SKETCH_MAX_BINS: u32 = 16_384;

/// Magnitudes below this are counted as zero by the sketch (far below a nanosecond in ms).
const SKETCH_MIN_VALUE: f64 = 1e-9;

fn new_sketch() -> DDSketch {
    DDSketch::new(Config::new(SKETCH_RELATIVE_ACCURACY, SKETCH_MAX_BINS, SKETCH_MIN_VALUE))
}

/// A running Neumaier (compensated) sum: error independent of the number of terms to first order.
#[derive(Debug, Clone, Copy, Default)]
struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

/// Order statistic `rank` (0-based) of the values in `sketch` (`count` of them), within the
/// sketch's relative accuracy; min and max are exact.
fn sketch_rank(sketch: &DDSketch, count: u128, rank: u128, min: f64, max: f64) -> f64 {
    if rank == 0 {
        return min;
    }
    if rank + 1 >= count {
        return max;
    }
    // The crate reads rank ⌊q·(n−1)⌋: aim at the middle of the rank's interval so rounding of q
    // cannot land on the neighbour.
    let q = (rank as f64 + 0.5) / (count - 1) as f64;
    match sketch.quantile(q.clamp(0.0, 1.0)) {
        // The representative of a bucket can lie just outside the observed range.
        Ok(Some(v)) => v.clamp(min, max),
        _ => f64::NAN,
    }
}

/// The summary of `count` values held in `sketch`, with their exact min, max and sum.
fn sketched_summary(sketch: &DDSketch, count: u128, min: f64, max: f64, sum: f64) -> Summary {
    let at = |rank: u128| sketch_rank(sketch, count, rank, min, max);
    Summary {
        min,
        max,
        mean: sum / count as f64,
        p50: percentile_by(count, 50.0, at),
        p90: percentile_by(count, 90.0, at),
        p95: percentile_by(count, 95.0, at),
        p99: percentile_by(count, 99.0, at),
    }
}

/// One metric's values, summarised exactly up to a limit and sketched beyond it.
#[derive(Clone)]
pub struct ValueStream {
    limit: usize,
    exact: Vec<f64>,
    sketch: Option<DDSketch>,
    count: u64,
    min: f64,
    max: f64,
    sum: CompensatedSum,
}

impl std::fmt::Debug for ValueStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValueStream")
            .field("count", &self.count)
            .field("sketched", &self.sketch.is_some())
            .finish()
    }
}

impl Default for ValueStream {
    fn default() -> Self {
        ValueStream::with_exact_limit(EXACT_LIMIT)
    }
}

impl ValueStream {
    /// A stream that keeps up to `limit` values exactly (0: sketch from the first value).
    pub fn with_exact_limit(limit: usize) -> ValueStream {
        ValueStream {
            limit,
            exact: Vec::new(),
            sketch: None,
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: CompensatedSum::default(),
        }
    }

    /// Adds one value (any unit, the same for all).
    pub fn push(&mut self, v: f64) {
        self.count += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum.add(v);
        if let Some(s) = self.sketch.as_mut() {
            s.add(v);
            return;
        }
        if self.exact.len() < self.limit {
            self.exact.push(v);
            return;
        }
        let mut s = new_sketch();
        for &x in &self.exact {
            s.add(x);
        }
        s.add(v);
        self.exact = Vec::new();
        self.sketch = Some(s);
    }

    /// Values added.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether no value was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether the values moved to the sketch (percentiles within 0.5%).
    pub fn is_sketched(&self) -> bool {
        self.sketch.is_some()
    }

    /// Sum of the values (compensated).
    pub fn sum(&self) -> f64 {
        self.sum.value()
    }

    /// The summary: exact while under the limit, else sketched percentiles; `None` when empty.
    pub fn summary(&mut self) -> Option<Summary> {
        match &self.sketch {
            None => Summary::from_values(&mut self.exact),
            Some(s) => Some(sketched_summary(
                s,
                u128::from(self.count),
                self.min,
                self.max,
                self.sum.value(),
            )),
        }
    }

    /// Means of the lowest and highest quarter (at least one value each): exact while under the
    /// limit; sketched, from the quantile function at 1,000 points per quarter, beyond it.
    pub fn quarter_means(&mut self) -> (f64, f64) {
        if self.count == 0 {
            return (0.0, 0.0);
        }
        match &self.sketch {
            None => {
                let v = &mut self.exact;
                v.sort_by(f64::total_cmp);
                let k = (v.len() / 4).max(1);
                let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
                (mean(&v[..k]), mean(&v[v.len() - k..]))
            }
            Some(s) => {
                let n = u128::from(self.count);
                let k = (n / 4).max(1);
                let points = 1000u128.min(k);
                let mean_over = |first: u128| -> f64 {
                    let mut acc = 0.0;
                    for j in 0..points {
                        let rank = first + (j * k + k / 2) / points;
                        acc += sketch_rank(s, n, rank.min(n - 1), self.min, self.max);
                    }
                    acc / points as f64
                };
                (mean_over(0), mean_over(n - k))
            }
        }
    }
}

/// Values with multiplicities `(value, count)` (pooled inter-token latencies), exact up to a
/// limit of distinct entries and sketched beyond it.
#[derive(Clone)]
pub struct WeightedStream {
    limit: usize,
    exact: Vec<(f64, u64)>,
    sketch: Option<DDSketch>,
    count: u128,
    min: f64,
    max: f64,
    sum: CompensatedSum,
}

impl std::fmt::Debug for WeightedStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeightedStream")
            .field("count", &self.count)
            .field("sketched", &self.sketch.is_some())
            .finish()
    }
}

impl Default for WeightedStream {
    fn default() -> Self {
        WeightedStream::with_exact_limit(EXACT_LIMIT)
    }
}

impl WeightedStream {
    /// A stream that keeps up to `limit` entries exactly (0: sketch from the first).
    pub fn with_exact_limit(limit: usize) -> WeightedStream {
        WeightedStream {
            limit,
            exact: Vec::new(),
            sketch: None,
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: CompensatedSum::default(),
        }
    }

    /// Adds `value` `count` times (count 0 adds nothing).
    pub fn push(&mut self, value: f64, count: u64) {
        if count == 0 {
            return;
        }
        self.count += u128::from(count);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.sum.add(value * count as f64);
        if let Some(s) = self.sketch.as_mut() {
            s.add_with_count(value, count);
            return;
        }
        if self.exact.len() < self.limit {
            self.exact.push((value, count));
            return;
        }
        let mut s = new_sketch();
        for &(x, c) in &self.exact {
            s.add_with_count(x, c);
        }
        s.add_with_count(value, count);
        self.exact = Vec::new();
        self.sketch = Some(s);
    }

    /// Whether the entries moved to the sketch.
    pub fn is_sketched(&self) -> bool {
        self.sketch.is_some()
    }

    /// The summary of the expanded values (exact under the limit, as
    /// [`Summary::from_weighted`]); `None` when empty.
    pub fn summary(&mut self) -> Option<Summary> {
        match &self.sketch {
            None => Summary::from_weighted(&mut self.exact),
            Some(s) => Some(sketched_summary(s, self.count, self.min, self.max, self.sum.value())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn within(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs() + 1e-12
    }

    #[test]
    fn under_the_limit_the_summary_is_the_exact_one() {
        let values: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 1000) as f64 * 0.37 + 1.0).collect();
        let mut s = ValueStream::with_exact_limit(1000);
        for &v in &values {
            s.push(v);
        }
        assert!(!s.is_sketched());
        assert_eq!(s.summary(), Summary::from_values(&mut values.clone()));
    }

    #[test]
    fn past_the_limit_percentiles_stay_within_half_a_percent() {
        // Log-normal-like spread over four decades.
        let values: Vec<f64> = (0..50_000)
            .map(|i| {
                let u = ((i as u64 * 2_654_435_761) % 1_000_003) as f64 / 1_000_003.0;
                10f64.powf(4.0 * u) * 0.5
            })
            .collect();
        let mut s = ValueStream::with_exact_limit(100);
        for &v in &values {
            s.push(v);
        }
        assert!(s.is_sketched());
        let got = s.summary().expect("values");
        let want = Summary::from_values(&mut values.clone()).expect("values");
        assert_eq!(got.min, want.min);
        assert_eq!(got.max, want.max);
        assert!(within(got.mean, want.mean, 1e-12), "{} vs {}", got.mean, want.mean);
        for (g, w) in [
            (got.p50, want.p50),
            (got.p90, want.p90),
            (got.p95, want.p95),
            (got.p99, want.p99),
        ] {
            assert!(within(g, w, SKETCH_RELATIVE_ACCURACY), "{g} vs {w}");
        }
    }

    #[test]
    fn weighted_past_the_limit_matches_the_expanded_values() {
        let pairs: Vec<(f64, u64)> = (1..3000u64).map(|i| ((i % 97) as f64 * 1.3 + 5.0, i % 5)).collect();
        let mut w = WeightedStream::with_exact_limit(10);
        for &(v, c) in &pairs {
            w.push(v, c);
        }
        assert!(w.is_sketched());
        let got = w.summary().expect("values");
        let want = Summary::from_weighted(&mut pairs.clone()).expect("values");
        for (g, x) in [
            (got.p50, want.p50),
            (got.p90, want.p90),
            (got.p95, want.p95),
            (got.p99, want.p99),
        ] {
            assert!(within(g, x, SKETCH_RELATIVE_ACCURACY), "{g} vs {x}");
        }
        assert!(within(got.mean, want.mean, 1e-12));
    }

    proptest! {
        #[test]
        fn sketched_percentiles_are_within_the_stated_bound(
            values in prop::collection::vec(1e-3f64..1e7, 2..400),
            limit in 0usize..4,
        ) {
            let mut s = ValueStream::with_exact_limit(limit);
            for &v in &values {
                s.push(v);
            }
            let got = s.summary().expect("values");
            let want = Summary::from_values(&mut values.clone()).expect("values");
            prop_assert_eq!(got.min, want.min);
            prop_assert_eq!(got.max, want.max);
            for (g, w) in [(got.p50, want.p50), (got.p90, want.p90), (got.p95, want.p95), (got.p99, want.p99)] {
                prop_assert!(within(g, w, SKETCH_RELATIVE_ACCURACY), "{} vs {}", g, w);
            }
        }
    }
}
