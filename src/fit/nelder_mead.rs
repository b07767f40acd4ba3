//! A small Nelder–Mead minimiser (no allocation per iteration beyond the simplex).

/// Minimises `f` from `start` with initial simplex steps `steps`; returns (argmin, min).
///
/// Stops after `max_evals` evaluations or when the simplex's value spread falls below `tol`.
pub fn minimize(
    f: &mut dyn FnMut(&[f64]) -> f64,
    start: &[f64],
    steps: &[f64],
    max_evals: usize,
    tol: f64,
) -> (Vec<f64>, f64) {
    let n = start.len();
    let mut simplex: Vec<Vec<f64>> = Vec::with_capacity(n + 1);
    simplex.push(start.to_vec());
    for i in 0..n {
        let mut p = start.to_vec();
        p[i] += steps[i];
        simplex.push(p);
    }
    let mut values: Vec<f64> = simplex.iter().map(|p| f(p)).collect();
    let mut evals = n + 1;
    let (alpha, gamma, rho, sigma) = (1.0, 2.0, 0.5, 0.5);
    while evals < max_evals {
        let mut order: Vec<usize> = (0..=n).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        simplex = order.iter().map(|&i| simplex[i].clone()).collect();
        values = order.iter().map(|&i| values[i]).collect();
        if (values[n] - values[0]).abs() < tol {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|p| p[j]).sum::<f64>() / n as f64)
            .collect();
        let point = |t: f64| -> Vec<f64> {
            (0..n)
                .map(|j| centroid[j] + t * (simplex[n][j] - centroid[j]))
                .collect()
        };
        let xr = point(-alpha);
        let fr = f(&xr);
        evals += 1;
        if fr < values[0] {
            let xe = point(-gamma);
            let fe = f(&xe);
            evals += 1;
            if fe < fr {
                simplex[n] = xe;
                values[n] = fe;
            } else {
                simplex[n] = xr;
                values[n] = fr;
            }
        } else if fr < values[n - 1] {
            simplex[n] = xr;
            values[n] = fr;
        } else {
            let xc = if fr < values[n] { point(-rho) } else { point(rho) };
            let fc = f(&xc);
            evals += 1;
            if fc < values[n].min(fr) {
                simplex[n] = xc;
                values[n] = fc;
            } else {
                let (best, rest) = simplex.split_at_mut(1);
                for (k, p) in rest.iter_mut().enumerate() {
                    for (x, b) in p.iter_mut().zip(&best[0]) {
                        *x = b + sigma * (*x - b);
                    }
                    values[k + 1] = f(p);
                    evals += 1;
                }
            }
        }
    }
    let best = (0..=n).min_by(|&a, &b| values[a].total_cmp(&values[b])).unwrap_or(0);
    (simplex[best].clone(), values[best])
}

/// [`minimize`], restarted from its best point with a fresh simplex of the same `steps` until a
/// restart improves the value by less than `tol` or `max_evals` evaluations are spent in all
/// (the last move may overrun it by up to one value per vertex, as in [`minimize`]).
///
/// A simplex can collapse onto a bound or a ridge and stop short of the minimum, more so on the
/// step-wise objectives of discrete-event simulations; a restart re-opens it in every direction.
pub fn minimize_restarted(
    f: &mut dyn FnMut(&[f64]) -> f64,
    start: &[f64],
    steps: &[f64],
    max_evals: usize,
    tol: f64,
) -> (Vec<f64>, f64) {
    let evals = std::cell::Cell::new(0usize);
    let mut counted = |x: &[f64]| {
        evals.set(evals.get() + 1);
        f(x)
    };
    let (mut best, mut best_v) = minimize(&mut counted, start, steps, max_evals, tol);
    // A restart needs a fresh simplex and a few moves to be worth starting.
    while evals.get() + 4 * (start.len() + 1) <= max_evals {
        let (x, v) = minimize(&mut counted, &best, steps, max_evals - evals.get(), tol);
        let improved = best_v - v > tol;
        if v < best_v {
            best = x;
            best_v = v;
        }
        if !improved {
            break;
        }
    }
    (best, best_v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_a_shifted_quadratic() {
        let mut f = |x: &[f64]| (x[0] - 3.0).powi(2) + 10.0 * (x[1] + 1.0).powi(2);
        let (x, v) = minimize(&mut f, &[0.0, 0.0], &[1.0, 1.0], 500, 1e-14);
        assert!((x[0] - 3.0).abs() < 1e-3 && (x[1] + 1.0).abs() < 1e-3, "{x:?}");
        assert!(v < 1e-6);
    }

    #[test]
    fn restarts_reach_what_a_collapsed_simplex_stops_short_of() {
        // A kinked objective (weighted L1 distance to (1, …, 1) in 6 dimensions), like a
        // simulation's step-wise one: the first simplex collapses well short of the minimum 0.
        let calls = std::cell::Cell::new(0usize);
        let mut f = |x: &[f64]| {
            calls.set(calls.get() + 1);
            x.iter()
                .enumerate()
                .map(|(i, v)| (i as f64 + 1.0) * (v - 1.0).abs())
                .sum::<f64>()
        };
        let (start, steps) = ([0.0; 6], [1.0; 6]);
        let (_, once) = minimize(&mut f, &start, &steps, 5000, 1e-12);
        let before = calls.get();
        let (x, again) = minimize_restarted(&mut f, &start, &steps, 5000, 1e-12);
        assert!(once > 0.3, "one simplex stops short: {once}");
        assert!(again < once / 100.0, "{once} → {again} at {x:?}");
        // The budget holds, up to the last move's overrun (a shrink costs one value per vertex).
        assert!(calls.get() - before <= 5000 + 6, "{} evaluations", calls.get() - before);
    }
}
