//! The request gaps vLLM's load testers draw, draw for draw.
//!
//! `benchmarks/benchmark_serving.py` (vLLM 0.4–0.9) and `vllm bench serve` (0.10 on) seed numpy's
//! global `RandomState` with `--seed` (default 0) in `main` and take every Poisson gap from it:
//! `np.random.exponential(1 / rate)` up to 0.6, `np.random.gamma(shape=burstiness, scale=θ)`
//! later (with shape 1 numpy's legacy gamma *is* its exponential, so both give the same numbers).
//! When the dataset sampler does not draw from that global state first (ShareGPT and sonnet use
//! Python's `random`; `random` uses its own `default_rng` from 0.11), a run's arrival times are a
//! pure function of seed, rate and request count, and servecast reproduces them exactly instead of
//! drawing gaps of its own. With a few hundred requests the sum of the gaps alone moves the
//! arrival span by several percent (±√N ÷ N), and with it a finite-rate level's throughput.
//!
//! The generator is MT19937 seeded as numpy's legacy `mt19937_seed` (Matsumoto–Nishimura's
//! `init_genrand`), from the `rand_mt` crate; the conversion to a double and to an exponential
//! are numpy's `legacy_double` and `legacy_standard_exponential`, three lines written here
//! because they are numpy's own arithmetic (53 bits from two 32-bit words; −ln(1 − U)).

use rand_mt::Mt;

/// numpy's legacy global `RandomState` after `np.random.seed(seed)`.
pub struct NumpyLegacy {
    mt: Mt,
}

impl NumpyLegacy {
    /// The state `np.random.seed(seed)` leaves (seeds are 32-bit in numpy's legacy seeding).
    pub fn seeded(seed: u32) -> Self {
        NumpyLegacy { mt: Mt::new(seed) }
    }

    /// `np.random.random()`: a double in [0, 1) from two 32-bit words (27 + 26 bits).
    pub fn random(&mut self) -> f64 {
        let a = self.mt.next_u32() >> 5;
        let b = self.mt.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) / 9_007_199_254_740_992.0
    }

    /// `np.random.exponential(scale)` (and `np.random.gamma(1.0, scale)`), in the unit of `scale`.
    pub fn exponential(&mut self, scale: f64) -> f64 {
        scale * -(1.0 - self.random()).ln()
    }
}

/// Send times, seconds from the start, of `n` requests at `rate` requests per second with Poisson
/// gaps drawn as vLLM's client draws them from numpy seeded with `seed`.
///
/// `normalized`: vLLM ≥ 0.10's `get_request`, which draws a gap for every request (the first
/// request waits its own), cumulates them and rescales so that the last request is sent at
/// exactly `n ÷ rate`. Otherwise the classic loop of 0.4–0.9: the first request at 0, each gap
/// drawn after a request is sent.
pub fn poisson_send_times_s(n: usize, rate: f64, seed: u32, normalized: bool) -> Vec<f64> {
    let mut np = NumpyLegacy::seeded(seed);
    let scale = 1.0 / rate;
    if normalized {
        let mut t = 0.0;
        let mut cum: Vec<f64> = (0..n)
            .map(|_| {
                t += np.exponential(scale);
                t
            })
            .collect();
        normalize_span(&mut cum, rate);
        cum
    } else {
        let mut t = 0.0;
        (0..n)
            .map(|i| {
                if i > 0 {
                    t += np.exponential(scale);
                }
                t
            })
            .collect()
    }
}

/// Rescales arrival times (seconds, cumulative, one per request, the first request's own gap
/// included) so the last is at `n ÷ rate`: vLLM ≥ 0.10's normalisation, for gaps drawn by any
/// generator.
pub fn normalize_span(times_s: &mut [f64], rate: f64) {
    let n = times_s.len();
    let last = times_s.last().copied().unwrap_or(0.0);
    if last > 0.0 && rate.is_finite() && rate > 0.0 {
        let factor = (n as f64 / rate) / last;
        for t in times_s.iter_mut() {
            *t *= factor;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values numpy 2.x prints (`np.random.seed(0); np.random.random()`, then
    /// `np.random.seed(0); np.random.exponential(1.0, 5)`, and seed 12345 with scale 0.25).
    #[test]
    fn draws_are_numpys() {
        let mut np = NumpyLegacy::seeded(0);
        assert_eq!(np.random(), 0.548_813_503_927_324_8);
        let mut np = NumpyLegacy::seeded(0);
        let want = [
            0.795_874_508_163_11,
            1.255_930_762_965_837_8,
            0.923_223_145_804_068_8,
            0.787_201_152_317_270_7,
            0.551_048_491_095_499_2,
        ];
        for w in want {
            let got = np.exponential(1.0);
            assert!((got - w).abs() < 1e-15, "{got} vs {w}");
        }
        let mut np = NumpyLegacy::seeded(12345);
        let got = np.exponential(0.25);
        assert!((got - 0.663_447_66).abs() < 1e-8, "{got}");
    }

    #[test]
    fn classic_and_normalized_schedules() {
        let classic = poisson_send_times_s(4, 10.0, 0, false);
        assert_eq!(classic[0], 0.0);
        assert!((classic[1] - 0.079_587_450_816_311).abs() < 1e-12);
        let normalized = poisson_send_times_s(200, 10.0, 0, true);
        assert!((normalized[199] - 20.0).abs() < 1e-9);
        assert!(normalized[0] > 0.0);
        assert!(normalized.windows(2).all(|w| w[0] <= w[1]));
    }
}
