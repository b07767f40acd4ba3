//! Portable, seedable random numbers: xoshiro256++ seeded through splitmix64.
//!
//! Every draw is defined by integer arithmetic and IEEE-754 basic operations only
//! (`+ - * /`, `sqrt`, rounding), so a seed gives the same stream on every platform
//! and with every version of every dependency. The logarithm and exponential used by
//! the normal and exponential draws are computed here ([`portable_ln`],
//! [`portable_exp`]) instead of by the platform's libm, whose last bit may differ
//! between systems.

/// Golden-ratio increment of splitmix64 (2^64 / φ).
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// Advances a splitmix64 state and returns its next output.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(GOLDEN_GAMMA);
    mix64(*state)
}

/// The splitmix64 output function: a bijective 64-bit avalanche mix.
fn mix64(z: u64) -> u64 {
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Seedable pseudo-random generator (xoshiro256++), identical on every platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRng {
    s: [u64; 4],
}

impl SimRng {
    /// Creates a generator from a 64-bit seed (the state is filled by splitmix64).
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        SimRng::from_state(s)
    }

    /// Builds a generator from raw state, replacing the one forbidden all-zero state.
    fn from_state(mut s: [u64; 4]) -> Self {
        if s == [0; 4] {
            s[0] = GOLDEN_GAMMA;
        }
        SimRng { s }
    }

    /// Next 64 uniformly distributed bits (xoshiro256++ step).
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform draw in [0, 1) with 53 random bits (a multiple of 2^-53).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Unbiased integer in `lo..=hi` (Lemire's multiply-and-reject); the bounds are swapped if `lo > hi`.
    pub fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        let span = hi - lo;
        if span == u64::MAX {
            return self.next_u64();
        }
        let n = span + 1;
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        if (m as u64) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        lo + (m >> 64) as u64
    }

    /// Standard normal draw (mean 0, sd 1) by Marsaglia's polar method; no value is cached between calls.
    pub fn standard_normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * (-2.0 * portable_ln(s) / s).sqrt();
            }
        }
    }

    /// Exponential draw with the given rate (events per unit), mean `1/rate` units.
    ///
    /// A rate that is zero, negative or NaN gives `f64::INFINITY` (the event never happens);
    /// an infinite rate gives 0.
    pub fn exponential(&mut self, rate: f64) -> f64 {
        if rate.is_nan() || rate <= 0.0 {
            return f64::INFINITY;
        }
        // 1 - u lies in (0, 1] and is exact for u a multiple of 2^-53.
        -portable_ln(1.0 - self.uniform()) / rate
    }

    /// Gamma draw with `shape` k and `scale` θ (mean kθ), as numpy's `gamma(shape, scale)` that
    /// `vllm bench serve --burstiness` uses for inter-arrival gaps; Marsaglia–Tsang, with the
    /// `U^(1/k)` boost for k < 1. Non-positive or non-finite parameters give `f64::INFINITY`.
    pub fn gamma(&mut self, shape: f64, scale: f64) -> f64 {
        if !(shape.is_finite() && shape > 0.0 && scale.is_finite() && scale > 0.0) {
            return f64::INFINITY;
        }
        if shape < 1.0 {
            let g = self.gamma(shape + 1.0, scale);
            let u = 1.0 - self.uniform(); // (0, 1]
            return g * portable_exp(portable_ln(u) / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.standard_normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = 1.0 - self.uniform();
            if portable_ln(u) < 0.5 * x * x + d - d * v + d * portable_ln(v) {
                return d * v * scale;
            }
        }
    }

    /// Independent sub-stream derived from this state and a stream id, without advancing `self`.
    ///
    /// Forking the same state with the same id gives the same generator; distinct ids give
    /// streams that do not overlap in practice. Use one fork per consumer (arrivals, lengths,
    /// …) so that one consumer drawing more never shifts another's numbers (common random numbers).
    pub fn fork(&self, stream: u64) -> SimRng {
        let mut key = stream ^ 0x6A09_E667_F3BC_C908; // √2 fraction: fork(0) differs from the parent
        let mut s = [0u64; 4];
        for (out, word) in s.iter_mut().zip(self.s) {
            *out = mix64(word ^ splitmix64(&mut key));
        }
        SimRng::from_state(s)
    }

    /// Shuffles a slice in place (Fisher–Yates, every permutation equally likely).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.range_inclusive(0, i as u64) as usize;
            items.swap(i, j);
        }
    }
}

/// High part of ln 2 (trailing zero bits, so `k * LN2_HI` is exact for |k| < 2^20).
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000); // 0.6931471803691238
/// Low part of ln 2 (`LN2_HI + LN2_LO` = ln 2 to about 2^-86).
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76); // 1.9082149292705877e-10

/// Natural logarithm computed with IEEE basic operations only (bit-identical on every platform, within a few ulp of exact).
///
/// `ln(0) = -∞`, negative or NaN input gives NaN, `ln(+∞) = +∞`.
pub fn portable_ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x == f64::INFINITY {
        return f64::INFINITY;
    }
    let mut x = x;
    let mut k: i64 = 0;
    if x < f64::MIN_POSITIVE {
        // Subnormal: scale into the normal range by 2^54.
        x *= 18_014_398_509_481_984.0;
        k -= 54;
    }
    let bits = x.to_bits();
    k += ((bits >> 52) & 0x7ff) as i64 - 1023;
    // Mantissa m in [1, 2).
    let mut m = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        k += 1;
    }
    // m in [√2/2, √2]: ln m = 2 atanh(s) with s = (m-1)/(m+1), |s| ≤ 0.1716.
    let f = m - 1.0; // exact (Sterbenz)
    let s = f / (2.0 + f);
    let z = s * s;
    // 2 atanh(s) = 2s (1 + z/3 + z^2/5 + …); |z| ≤ 0.0295, 12 terms reach 1e-19.
    let mut poly = 1.0 / 23.0;
    for d in [21.0, 19.0, 17.0, 15.0, 13.0, 11.0, 9.0, 7.0, 5.0, 3.0] {
        poly = poly * z + 1.0 / d;
    }
    // 2 atanh(s) = 2s + s·R with R = 2z·poly, and 2s = f - s·f exactly, so
    // ln m = f - s(f - R): the rounding error of s only meets the small factor f - R.
    let r = 2.0 * z * poly;
    let ln_m = f - s * (f - r);
    let kf = k as f64;
    kf * LN2_HI + (kf * LN2_LO + ln_m)
}

/// Exponential function e^x computed with IEEE basic operations only (bit-identical on every platform, within a few ulp of exact).
///
/// Overflows to `+∞` above about 709.78 and underflows to 0 below about -745.13; NaN stays NaN.
pub fn portable_exp(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x > 709.782_712_893_384 {
        return f64::INFINITY;
    }
    if x < -745.133_219_101_941_1 {
        return 0.0;
    }
    let k = (x * std::f64::consts::LOG2_E).round();
    let r = (x - k * LN2_HI) - k * LN2_LO; // |r| ≤ 0.347
                                           // Taylor series of e^r to r^17/17! (< 1e-22 relative).
    let mut sum = 1.0;
    for n in (1..=17).rev() {
        sum = 1.0 + sum * r / f64::from(n);
    }
    scale_by_pow2(sum, k as i32)
}

/// Multiplies by 2^k exactly where the result is normal (two steps near the ends of the range).
fn scale_by_pow2(v: f64, k: i32) -> f64 {
    fn pow2(e: i32) -> f64 {
        // e in -1022..=1023
        f64::from_bits(((e + 1023) as u64) << 52)
    }
    if k > 1023 {
        v * pow2(k - 1023) * pow2(1023)
    } else if k < -1022 {
        v * pow2(k + 1022) * pow2(-1022)
    } else {
        v * pow2(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_vector() {
        let mut s = 0u64;
        assert_eq!(splitmix64(&mut s), 0xE220_A839_7B1D_CDAF);
    }

    /// Golden outputs computed independently with a Python implementation of splitmix64 + xoshiro256++.
    #[test]
    fn golden_first_outputs() {
        let cases: [(u64, [u64; 5]); 3] = [
            (
                0,
                [
                    0x53175d61490b23df,
                    0x61da6f3dc380d507,
                    0x5c0fdf91ec9a7bfc,
                    0x02eebf8c3bbe5e1a,
                    0x7eca04ebaf4a5eea,
                ],
            ),
            (
                42,
                [
                    0xd0764d4f4476689f,
                    0x519e4174576f3791,
                    0xfbe07cfb0c24ed8c,
                    0xb37d9f600cd835b8,
                    0xcb231c3874846a73,
                ],
            ),
            (
                0xDEADBEEF,
                [
                    0x0c520eb8fea98ede,
                    0x2b74a6338b80e0e2,
                    0xbe238770c3795322,
                    0x5f235f98a244ea97,
                    0xe004f0cc1514d858,
                ],
            ),
        ];
        for (seed, expected) in cases {
            let mut rng = SimRng::new(seed);
            let got: Vec<u64> = (0..5).map(|_| rng.next_u64()).collect();
            assert_eq!(got, expected, "seed {seed}");
        }
        let mut rng = SimRng::new(42);
        let u: Vec<f64> = (0..3).map(|_| rng.uniform()).collect();
        assert_eq!(u, [0.8143051451229099, 0.3188210400616611, 0.9838941681774888]);
    }

    /// Normal, exponential and integer draws for seed 42, computed independently in Python
    /// (same algorithms with `math.log`); the fork outputs lock the sub-stream derivation.
    #[test]
    fn golden_derived_draws() {
        let mut rng = SimRng::new(42);
        let normal: Vec<f64> = (0..4).map(|_| rng.standard_normal()).collect();
        assert_eq!(
            normal,
            [
                0.9813983900724986,
                1.3403256427520227,
                -0.9642205062941384,
                0.1962265296745266
            ]
        );
        let exp: Vec<f64> = (0..4).map(|_| rng.exponential(2.0)).collect();
        assert_eq!(
            exp,
            [
                0.5697272520211105,
                0.03603297519714277,
                0.2579804775401539,
                0.394833268671663
            ]
        );
        let mut rng = SimRng::new(42);
        let dice: Vec<u64> = (0..6).map(|_| rng.range_inclusive(1, 6)).collect();
        assert_eq!(dice, [5, 2, 6, 5, 5, 4]);
        let mut fork = SimRng::new(42).fork(7);
        assert_eq!(fork.next_u64(), 0x489953ad529234d7);
        assert_eq!(fork.next_u64(), 0x3c51bfb5b2dddc22);
    }

    #[test]
    fn same_seed_same_sequence() {
        let mut a = SimRng::new(7);
        let mut b = SimRng::new(7);
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            assert_eq!(a.standard_normal().to_bits(), b.standard_normal().to_bits());
            assert_eq!(a.exponential(2.5).to_bits(), b.exponential(2.5).to_bits());
        }
        let mut c = SimRng::new(8);
        let mut a = SimRng::new(7);
        assert_ne!(a.next_u64(), c.next_u64());
    }

    #[test]
    fn uniform_moments() {
        let mut rng = SimRng::new(1);
        let n = 100_000;
        let xs: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        assert!(xs.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.005, "mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 0.002, "var {var}");
    }

    #[test]
    fn normal_moments() {
        let mut rng = SimRng::new(2);
        let n = 100_000;
        let xs: Vec<f64> = (0..n).map(|_| rng.standard_normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        let skew = xs.iter().map(|x| (x - mean).powi(3)).sum::<f64>() / n as f64;
        let kurt = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.015, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
        assert!(skew.abs() < 0.05, "skew {skew}");
        assert!((kurt - 3.0).abs() < 0.1, "kurtosis {kurt}");
        let within_1sd = xs.iter().filter(|x| x.abs() < 1.0).count() as f64 / n as f64;
        assert!((within_1sd - 0.682_689).abs() < 0.005, "P(|z|<1) {within_1sd}");
    }

    #[test]
    fn exponential_moments() {
        let mut rng = SimRng::new(3);
        let n = 100_000;
        let rate = 4.0;
        let xs: Vec<f64> = (0..n).map(|_| rng.exponential(rate)).collect();
        assert!(xs.iter().all(|&x| x >= 0.0 && x.is_finite()));
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 0.25).abs() < 0.0025, "mean {mean}");
        assert!((var - 0.0625).abs() < 0.002, "var {var}");
        assert_eq!(rng.exponential(0.0), f64::INFINITY);
        assert_eq!(rng.exponential(-1.0), f64::INFINITY);
        assert_eq!(rng.exponential(f64::NAN), f64::INFINITY);
        assert_eq!(rng.exponential(f64::INFINITY), 0.0);
    }

    #[test]
    fn range_inclusive_is_unbiased_and_bounded() {
        let mut rng = SimRng::new(4);
        let mut counts = [0u32; 7];
        let n = 70_000;
        for _ in 0..n {
            let v = rng.range_inclusive(10, 16);
            assert!((10..=16).contains(&v));
            counts[(v - 10) as usize] += 1;
        }
        // Chi-square with 6 degrees of freedom; 22.46 is the 0.999 quantile.
        let expected = n as f64 / 7.0;
        let chi2: f64 = counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
        assert!(chi2 < 22.46, "chi2 {chi2} counts {counts:?}");
        assert_eq!(rng.range_inclusive(5, 5), 5);
        let v = rng.range_inclusive(9, 3);
        assert!((3..=9).contains(&v));
        let _ = rng.range_inclusive(0, u64::MAX);
        let top = rng.range_inclusive(u64::MAX - 1, u64::MAX);
        assert!(top >= u64::MAX - 1);
    }

    #[test]
    fn gamma_moments() {
        // Mean kθ and variance kθ² for a bursty (k < 1) and a regular (k > 1) shape.
        for (shape, scale) in [(0.5, 2.0), (4.0, 0.25)] {
            let mut rng = SimRng::new(11);
            let n = 200_000;
            let draws: Vec<f64> = (0..n).map(|_| rng.gamma(shape, scale)).collect();
            let mean = draws.iter().sum::<f64>() / n as f64;
            let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
            assert!((mean / (shape * scale) - 1.0).abs() < 0.01, "mean {mean} for k={shape}");
            assert!(
                (var / (shape * scale * scale) - 1.0).abs() < 0.03,
                "var {var} for k={shape}"
            );
        }
        assert!(SimRng::new(1).gamma(0.0, 1.0).is_infinite());
    }

    #[test]
    fn fork_is_independent_and_does_not_advance() {
        let base = SimRng::new(99);
        let before = base.clone();
        let mut arrivals = base.fork(0);
        let mut lengths = base.fork(1);
        assert_eq!(base, before);
        assert_ne!(base.fork(0), base.fork(1));
        assert_ne!(base.fork(0), base);
        assert_eq!(base.fork(5), base.fork(5));
        // Common random numbers: drawing more from one stream does not shift the other.
        let lengths_alone: Vec<u64> = (0..10).map(|_| lengths.next_u64()).collect();
        let mut lengths2 = base.fork(1);
        for _ in 0..1000 {
            arrivals.next_u64();
        }
        let lengths_after: Vec<u64> = (0..10).map(|_| lengths2.next_u64()).collect();
        assert_eq!(lengths_alone, lengths_after);
        // Sub-streams look uncorrelated.
        let mut a = base.fork(0);
        let mut b = base.fork(1);
        let n = 20_000;
        let mut sum = 0.0;
        for _ in 0..n {
            sum += (a.uniform() - 0.5) * (b.uniform() - 0.5);
        }
        let corr = sum / n as f64 * 12.0;
        assert!(corr.abs() < 0.05, "correlation {corr}");
    }

    #[test]
    fn shuffle_is_a_permutation_and_deterministic() {
        let mut rng = SimRng::new(5);
        let mut v: Vec<u32> = (0..100).collect();
        rng.shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(v, sorted);
        let mut w: Vec<u32> = (0..100).collect();
        SimRng::new(5).shuffle(&mut w);
        assert_eq!(v, w);
        let mut empty: [u8; 0] = [];
        rng.shuffle(&mut empty);
        let mut one = [1];
        rng.shuffle(&mut one);
        // Every position equally likely for the first element of a 3-element slice.
        let mut first = [0u32; 3];
        for _ in 0..30_000 {
            let mut s = [0, 1, 2];
            rng.shuffle(&mut s);
            first[s[0]] += 1;
        }
        assert!(first.iter().all(|&c| (9_400..10_600).contains(&c)), "{first:?}");
    }

    #[test]
    fn portable_ln_matches_std() {
        let mut rng = SimRng::new(6);
        let mut worst: f64 = 0.0;
        let mut check = |x: f64| {
            let got = portable_ln(x);
            let want = x.ln();
            let err = (got - want).abs() / want.abs().max(f64::MIN_POSITIVE);
            if want != 0.0 {
                worst = worst.max(err);
            } else {
                assert_eq!(got, 0.0);
            }
        };
        for _ in 0..100_000 {
            check(rng.uniform());
            check(1.0 - rng.uniform());
            check(rng.uniform() * 1e6);
            check(1.0 + (rng.uniform() - 0.5) * 1e-6);
        }
        for x in [
            1e-310,
            5e-324,
            f64::MIN_POSITIVE,
            0.5,
            2.0,
            std::f64::consts::E,
            1e300,
            f64::MAX,
        ] {
            check(x);
        }
        assert!(worst < 4.0 * f64::EPSILON, "worst relative error {worst:e}");
        assert_eq!(portable_ln(1.0), 0.0);
        assert_eq!(portable_ln(0.0), f64::NEG_INFINITY);
        assert!(portable_ln(-1.0).is_nan());
        assert!(portable_ln(f64::NAN).is_nan());
        assert_eq!(portable_ln(f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn portable_exp_matches_std() {
        let mut rng = SimRng::new(7);
        let mut worst: f64 = 0.0;
        for _ in 0..100_000 {
            for x in [(rng.uniform() - 0.5) * 20.0, (rng.uniform() - 0.5) * 1400.0] {
                let got = portable_exp(x);
                let want = x.exp();
                if want > 1e-300 && want.is_finite() {
                    worst = worst.max((got - want).abs() / want);
                }
            }
        }
        assert!(worst < 4.0 * f64::EPSILON, "worst relative error {worst:e}");
        assert_eq!(portable_exp(0.0), 1.0);
        assert_eq!(portable_exp(1000.0), f64::INFINITY);
        assert_eq!(portable_exp(-1000.0), 0.0);
        assert!(portable_exp(f64::NAN).is_nan());
        assert!(portable_exp(-740.0) > 0.0);
        assert!(portable_exp(709.7).is_finite());
    }
}
