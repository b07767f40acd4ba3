//! Percentiles exactly as `numpy.percentile` computes them by default (method `linear`, R type 7).

/// Percentile `q_percent` (0–100) of ascending-sorted values, as `numpy.percentile(values, q)` gives it.
///
/// The result has the values' unit. Empty input, a NaN `q_percent` or one outside 0–100 gives NaN.
/// The input must already be sorted ascending (it is not checked).
pub fn percentile_linear(sorted: &[f64], q_percent: f64) -> f64 {
    percentile_by(sorted.len() as u128, q_percent, |i| sorted[i as usize])
}

/// numpy's type-7 percentile of a sorted sequence of `len` values read through `at(index)`.
///
/// Shared by [`percentile_linear`] and the weighted summary so both do the same float
/// arithmetic bit for bit. `at` is only called with indices below `len`.
pub(crate) fn percentile_by(len: u128, q_percent: f64, at: impl Fn(u128) -> f64) -> f64 {
    if len == 0 || !(0.0..=100.0).contains(&q_percent) {
        return f64::NAN;
    }
    let last = len - 1;
    // numpy: q = q / 100; virtual index = (n - 1) * q.
    let quantile = q_percent / 100.0;
    let virtual_index = last as f64 * quantile;
    if virtual_index >= last as f64 {
        return at(last);
    }
    let previous = virtual_index.floor();
    let gamma = virtual_index - previous;
    let i = previous as u128;
    let a = at(i);
    let b = at((i + 1).min(last));
    lerp_numpy(a, b, gamma)
}

/// numpy's `_lerp`: `a + (b-a)·t`, computed from `b` when `t ≥ 0.5` for accuracy.
fn lerp_numpy(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_arrays_match_numpy() {
        let a = [1.0, 2.0, 3.0, 4.0];
        // numpy 2.4 `np.percentile([1,2,3,4], [0,25,50,95,99,100]).tolist()`, bit for bit
        assert_eq!(percentile_linear(&a, 0.0), 1.0);
        assert_eq!(percentile_linear(&a, 25.0), 1.75);
        assert_eq!(percentile_linear(&a, 50.0), 2.5);
        assert_eq!(percentile_linear(&a, 95.0), 3.8499999999999996); // numpy prints 3.85 rounded
        assert_eq!(percentile_linear(&a, 99.0), 3.9699999999999998);
        assert_eq!(percentile_linear(&a, 100.0), 4.0);

        // Odd length: the median is the middle value.
        let b = [9.18, 10.5, 11.02, 12.7, 30.4];
        assert_eq!(percentile_linear(&b, 50.0), 11.02);
        // h = 4 · 0.95 = 3.8 → 12.7 + 0.8 · 17.7 = 26.86 (numpy: 26.859999999999996)
        assert_eq!(percentile_linear(&b, 95.0), 26.859999999999996);
        // h = 4 · 0.99 = 3.96 → 30.4 - 0.04 · 17.7 = 29.692 (numpy: 29.691999999999997)
        assert_eq!(percentile_linear(&b, 99.0), 29.691999999999997);
        // h = 4 · 0.25 = 1 → exactly 10.5
        assert_eq!(percentile_linear(&b, 25.0), 10.5);

        // Ten values 1..=10: P90 = 9.1, P10 = 1.9 (numpy).
        let c: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile_linear(&c, 90.0), 9.1);
        assert_eq!(percentile_linear(&c, 10.0), 1.9);
        assert_eq!(percentile_linear(&c, 50.0), 5.5);
    }

    /// Bit-exact against numpy 2.4 `np.percentile(a, qs).tolist()` on log-normal samples.
    #[test]
    fn random_arrays_match_numpy_bit_for_bit() {
        let qs = [0.0, 12.5, 33.3, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0];
        let cases: [(&[f64], [f64; 9]); 2] = [
            (
                &[5.3422, 9.0076, 11.5577, 15.6683, 22.4145, 30.583, 62.555],
                [
                    5.3422,
                    8.09125,
                    11.5525998,
                    15.6683,
                    43.37180000000001,
                    52.96339999999998,
                    60.636679999999984,
                    62.36316800000002,
                    62.555,
                ],
            ),
            (
                &[
                    3.5533, 5.8513, 6.2763, 7.704, 9.1634, 10.705, 12.3295, 18.4729, 24.6033, 26.3843, 42.4678,
                    99.4862, 103.0056,
                ],
                [
                    3.5533,
                    6.0638000000000005,
                    9.157562399999998,
                    12.3295,
                    88.08252000000005,
                    100.89395999999999,
                    102.583272,
                    102.96336720000001,
                    103.0056,
                ],
            ),
        ];
        for (values, expected) in cases {
            for (q, want) in qs.iter().zip(expected) {
                assert_eq!(percentile_linear(values, *q), want, "q = {q}");
            }
        }
    }

    #[test]
    fn edge_cases() {
        assert!(percentile_linear(&[], 50.0).is_nan());
        assert_eq!(percentile_linear(&[7.0], 0.0), 7.0);
        assert_eq!(percentile_linear(&[7.0], 99.0), 7.0);
        assert_eq!(percentile_linear(&[7.0], 100.0), 7.0);
        assert!(percentile_linear(&[1.0, 2.0], -1.0).is_nan());
        assert!(percentile_linear(&[1.0, 2.0], 100.5).is_nan());
        assert!(percentile_linear(&[1.0, 2.0], f64::NAN).is_nan());
        assert_eq!(percentile_linear(&[3.0, 3.0, 3.0], 37.0), 3.0);
    }
}
