//! Summary statistics (min, max, mean, P50, P90, P95, P99) of a metric, as benchmark reports print them.

use serde::{Deserialize, Serialize};

use super::percentile::{percentile_by, percentile_linear};

/// Min, max, mean and numpy-linear P50/P95/P99 of a set of values; every field has the values' unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean (the correctly rounded exact sum divided by the count).
    pub mean: f64,
    /// Median, `numpy.percentile(values, 50)`.
    pub p50: f64,
    /// 90th percentile, `numpy.percentile(values, 90)`.
    pub p90: f64,
    /// 95th percentile, `numpy.percentile(values, 95)`.
    pub p95: f64,
    /// 99th percentile, `numpy.percentile(values, 99)`.
    pub p99: f64,
}

impl Summary {
    /// Summarises values (any unit); sorts them ascending in place (`total_cmp`), `None` when empty.
    #[allow(clippy::ptr_arg)] // The public signature takes the caller's Vec.
    pub fn from_values(values: &mut Vec<f64>) -> Option<Summary> {
        if values.is_empty() {
            return None;
        }
        // Unstable: values equal under `total_cmp` have the same bits, so the order is the same.
        values.sort_unstable_by(f64::total_cmp);
        let n = values.len();
        let mean = exact_sum(values.iter().copied()) / n as f64;
        Some(Summary {
            min: values[0],
            max: values[n - 1],
            mean,
            p50: percentile_linear(values, 50.0),
            p90: percentile_linear(values, 90.0),
            p95: percentile_linear(values, 95.0),
            p99: percentile_linear(values, 99.0),
        })
    }

    /// Summarises values given with multiplicities `(value, count)` without expanding them.
    ///
    /// The result is bit-for-bit what [`Summary::from_values`] returns on the list where each
    /// value appears `count` times (numpy type-7 positions on the expanded array). Sorts the pairs
    /// by value in place; pairs with count 0 are ignored; `None` when the total count is 0.
    #[allow(clippy::ptr_arg)] // The public signature takes the caller's Vec.
    pub fn from_weighted(values: &mut Vec<(f64, u64)>) -> Option<Summary> {
        // Unstable: entries of equal value are interchangeable for every field.
        values.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        // Cumulative counts of the non-empty entries: `ends[k]` is one past the last expanded
        // index of entry `kept[k]`.
        let mut kept: Vec<f64> = Vec::with_capacity(values.len());
        let mut ends: Vec<u128> = Vec::with_capacity(values.len());
        let mut total: u128 = 0;
        for &(v, c) in values.iter() {
            if c > 0 {
                total += u128::from(c);
                kept.push(v);
                ends.push(total);
            }
        }
        if total == 0 {
            return None;
        }
        let at = |index: u128| -> f64 {
            // First entry whose end lies beyond `index`.
            let k = ends.partition_point(|&end| end <= index);
            kept[k.min(kept.len() - 1)]
        };
        let mean = match integer_weighted_sum(values) {
            Some(sum) => sum / total as f64,
            None => {
                let terms = values
                    .iter()
                    .filter(|&&(_, c)| c > 0)
                    .flat_map(|&(v, c)| exact_product(v, c));
                exact_sum(terms) / total as f64
            }
        };
        Some(Summary {
            min: kept[0],
            max: kept[kept.len() - 1],
            mean,
            p50: percentile_by(total, 50.0, at),
            p90: percentile_by(total, 90.0, at),
            p95: percentile_by(total, 95.0, at),
            p99: percentile_by(total, 99.0, at),
        })
    }

    /// The same summary with every field multiplied by `factor` (e.g. 1e-6 for ns → ms).
    pub fn scaled(&self, factor: f64) -> Summary {
        Summary {
            min: self.min * factor,
            max: self.max * factor,
            mean: self.mean * factor,
            p50: self.p50 * factor,
            p90: self.p90 * factor,
            p95: self.p95 * factor,
            p99: self.p99 * factor,
        }
    }
}

/// Σ v·c of `(value, count)` pairs whose values are all whole numbers in [0, 2^64) (the engine's
/// inter-token gaps, nanoseconds), correctly rounded: the sum is exact in `u128` and the cast
/// rounds to nearest, ties to even — the same float [`exact_sum`] returns, at a fraction of its
/// cost (the ITL summary of a long run has one pair per engine step). `None` when a value is not
/// such a whole number or the sum leaves `u128`.
fn integer_weighted_sum(values: &[(f64, u64)]) -> Option<f64> {
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    let mut sum: u128 = 0;
    for &(v, c) in values {
        if !((0.0..TWO_64).contains(&v) && v.fract() == 0.0) {
            return None;
        }
        // Exact: a whole float below 2^64 converts to u64 without rounding.
        let term = u128::from(v as u64).checked_mul(u128::from(c))?;
        sum = sum.checked_add(term)?;
    }
    Some(sum as f64)
}

/// Splits `a` into two halves of 26 bits each so products of halves are exact (Veltkamp).
fn split(a: f64) -> (f64, f64) {
    let c = 134_217_729.0 * a; // 2^27 + 1
    let hi = c - (c - a);
    (hi, a - hi)
}

/// `a · b` as an unevaluated sum `p + e` that is exact (Dekker's TwoProduct, no FMA needed).
fn two_product(a: f64, b: f64) -> [f64; 2] {
    let p = a * b;
    if !p.is_finite() || p == 0.0 {
        return [p, 0.0];
    }
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    let e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    [p, e]
}

/// `v · count` as up to four floats whose exact sum is the exact product.
fn exact_product(v: f64, count: u64) -> [f64; 4] {
    const TWO_32: f64 = 4_294_967_296.0;
    let high = (count >> 32) as f64; // both halves are exact in f64
    let low = (count & 0xFFFF_FFFF) as f64;
    let [p1, e1] = two_product(v, high);
    let [p2, e2] = two_product(v, low);
    // Scaling by 2^32 is exact unless it overflows.
    [p1 * TWO_32, e1 * TWO_32, p2, e2]
}

/// Correctly rounded sum of floats (Shewchuk's algorithm, as Python's `math.fsum`).
///
/// The result does not depend on the order or grouping of the terms, which is what makes
/// the weighted and expanded means identical. Infinite or NaN terms give their IEEE sum;
/// a sum beyond the f64 range gives ±∞.
fn exact_sum(terms: impl IntoIterator<Item = f64>) -> f64 {
    let mut partials: Vec<f64> = Vec::new();
    let mut special = 0.0;
    let mut has_special = false;
    for term in terms {
        if !term.is_finite() {
            special += term;
            has_special = true;
            continue;
        }
        if term == 0.0 {
            continue;
        }
        let mut x = term;
        let mut i = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            if !hi.is_finite() {
                return hi;
            }
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        partials.truncate(i);
        partials.push(x);
    }
    if has_special {
        return special;
    }
    // Add the partials from the top, stopping when the sum becomes inexact.
    let mut n = partials.len();
    if n == 0 {
        return 0.0;
    }
    n -= 1;
    let mut hi = partials[n];
    let mut lo = 0.0;
    while n > 0 {
        let x = hi;
        n -= 1;
        let y = partials[n];
        hi = x + y;
        let yr = hi - x;
        lo = y - yr;
        if lo != 0.0 {
            break;
        }
    }
    // Make half-even rounding work across several partials.
    if n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0)) {
        let y = lo * 2.0;
        let x = hi + y;
        let yr = x - hi;
        if y == yr {
            hi = x;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn from_values_basic() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        let s = Summary::from_values(&mut v).unwrap();
        assert_eq!(v, [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(
            s,
            Summary {
                min: 1.0,
                max: 4.0,
                mean: 2.5,
                p50: 2.5,
                p90: 3.7,
                p95: 3.8499999999999996,
                p99: 3.9699999999999998,
            }
        );
        assert_eq!(Summary::from_values(&mut Vec::new()), None);
        let ms = s.scaled(1e-6);
        assert_eq!(ms.max, 4e-6);
        assert!((ms.p50 - 2.5e-6).abs() < 1e-20);
    }

    #[test]
    fn mean_is_correctly_rounded() {
        // Naive left-to-right summation gives 0 here; the exact sum is 2.
        let mut v = vec![1e100, 1.0, -1e100, 1.0];
        let s = Summary::from_values(&mut v).unwrap();
        assert_eq!(s.mean, 0.5);
        assert_eq!(exact_sum([0.1; 10]), 1.0);
        assert_eq!(exact_sum([]), 0.0);
        assert!(exact_sum([1.0, f64::NAN]).is_nan());
        assert_eq!(exact_sum([1.0, f64::INFINITY]), f64::INFINITY);
        assert_eq!(exact_sum([f64::MAX, f64::MAX]), f64::INFINITY);
    }

    #[test]
    fn weighted_small_example() {
        // One engine step's ITL shared by 3 sequences, another by 1.
        let mut w = vec![(20.0, 1), (10.0, 3), (99.0, 0)];
        let mut expanded = vec![10.0, 10.0, 10.0, 20.0];
        assert_eq!(Summary::from_weighted(&mut w), Summary::from_values(&mut expanded));
        assert_eq!(Summary::from_weighted(&mut vec![(1.0, 0)]), None);
        assert_eq!(Summary::from_weighted(&mut Vec::new()), None);
    }

    #[test]
    fn weighted_huge_counts() {
        let mut w = vec![(0.1, u64::MAX), (0.3, u64::MAX)];
        let s = Summary::from_weighted(&mut w).unwrap();
        assert_eq!(s.min, 0.1);
        assert_eq!(s.max, 0.3);
        // (n - 1) · 0.5 rounds to 2^64 in f64, the first index holding 0.3 (numpy would agree).
        assert_eq!(s.p50, 0.3);
        assert!((s.mean - 0.2).abs() < 1e-16);
        assert_eq!(s.p99, 0.3);
    }

    /// The general path of `from_weighted`'s mean, for comparison with the integer one.
    fn shewchuk_weighted_sum(values: &[(f64, u64)]) -> f64 {
        exact_sum(values.iter().flat_map(|&(v, c)| exact_product(v, c)))
    }

    #[test]
    fn integer_sum_rounds_like_shewchuk() {
        // 2^53 + 1 is a tie between 2^53 and 2^53 + 2: both round to even, 2^53.
        let tie = [(9_007_199_254_740_992.0, 1), (1.0, 1)];
        assert_eq!(integer_weighted_sum(&tie), Some(9_007_199_254_740_992.0));
        assert_eq!(shewchuk_weighted_sum(&tie), 9_007_199_254_740_992.0);
        // 2^53 + 3 is a tie between 2^53 + 2 and 2^53 + 4: even is 2^53 + 4.
        let tie_up = [(9_007_199_254_740_992.0, 1), (3.0, 1)];
        assert_eq!(integer_weighted_sum(&tie_up), Some(9_007_199_254_740_996.0));
        assert_eq!(shewchuk_weighted_sum(&tie_up), 9_007_199_254_740_996.0);
        // Not whole, negative or beyond u128: the general path.
        assert_eq!(integer_weighted_sum(&[(0.5, 2)]), None);
        assert_eq!(integer_weighted_sum(&[(-1.0, 2)]), None);
        assert_eq!(integer_weighted_sum(&[(f64::NAN, 2)]), None);
        assert_eq!(integer_weighted_sum(&[(1.8e19, u64::MAX), (1.8e19, u64::MAX)]), None);
    }

    fn expand(pairs: &[(f64, u64)]) -> Vec<f64> {
        pairs
            .iter()
            .flat_map(|&(v, c)| std::iter::repeat_n(v, c as usize))
            .collect()
    }

    proptest! {
        #[test]
        fn weighted_equals_expanded(
            pairs in prop::collection::vec(
                (prop_oneof![
                    -1e6f64..1e6,
                    (0u32..50).prop_map(f64::from),
                    1e-3f64..1e3,
                ], 0u64..40),
                0..40,
            )
        ) {
            let mut expanded = expand(&pairs);
            let mut weighted = pairs.clone();
            let a = Summary::from_values(&mut expanded);
            let b = Summary::from_weighted(&mut weighted);
            prop_assert_eq!(a, b);
            if let (Some(a), Some(b)) = (a, b) {
                prop_assert_eq!(a.mean.to_bits(), b.mean.to_bits());
                prop_assert_eq!(a.p95.to_bits(), b.p95.to_bits());
            }
        }

        #[test]
        fn integer_sum_equals_shewchuk(
            pairs in prop::collection::vec(
                (prop_oneof![0u64..1 << 20, 0u64..1 << 60, 0u64..u64::MAX], prop_oneof![0u64..64, 0u64..1 << 62]),
                0..30,
            )
        ) {
            // Whole floats from the whole range (large ones are multiples of powers of two).
            let pairs: Vec<(f64, u64)> = pairs.into_iter().map(|(v, c)| (v as f64, c)).collect();
            match integer_weighted_sum(&pairs) {
                Some(fast) => prop_assert_eq!(fast.to_bits(), shewchuk_weighted_sum(&pairs).to_bits()),
                // Only a sum beyond u128 (2^128 ≈ 3.4e38) leaves the fast path.
                None => prop_assert!(shewchuk_weighted_sum(&pairs) >= 3.0e38),
            }
        }

        #[test]
        fn summary_is_ordered(mut values in prop::collection::vec(-1e9f64..1e9, 1..200)) {
            let s = Summary::from_values(&mut values).unwrap();
            prop_assert!(s.min <= s.p50 && s.p50 <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.max);
            prop_assert!(s.min <= s.mean && s.mean <= s.max);
        }
    }
}
