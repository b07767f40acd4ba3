//! Fits as corrections to the learned prior: maximum a posteriori estimates of a setup's terms.
//!
//! The objective is the data misfit plus the prior's penalty, both in the terms' unbounded
//! space ([`Term::to_z`]):
//!
//! ```text
//! Σ_figures w · huber(log(predicted ÷ measured)) ÷ σ²  +  Σ_terms ((z − prior centre) ÷ prior σ)²
//! ```
//!
//! σ is the corpus's typical misfit of one figure (`data/priors.yaml`), so a term moves only as
//! far as the data outweighs what the corpus knows; a term the levels cannot pin stays at its
//! prior instead of wherever an optimiser lands. Minimised by Levenberg–Marquardt over
//! finite-difference Jacobians of the simulator (P + 1 simulations per iteration, common random
//! numbers); the posterior covariance is the inverse of the final normal matrix.

use std::time::Instant;

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use super::hierarchy::{huber_weight, params_at, Metric, Sigma, Slot, HUBER_DELTA, P};
use crate::cost::prior::{LearnedPriors, ScenarioPrior, Term};
use crate::cost::CostParams;
use crate::measured::MeasuredReport;
use crate::memory::MemoryPlan;
use crate::scenario::Scenario;
use crate::spec::engine::{EngineVersion, ReleaseLine};

/// A fitted term against its prior, as profiles record it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorShift {
    /// The term (`step_overhead_s`).
    pub term: String,
    /// The prior's centre, natural units.
    pub prior: f64,
    /// The fitted value, natural units.
    pub fitted: f64,
    /// How many prior σ the data moved it ((z − centre) ÷ σ, z units).
    pub sigmas: f64,
    /// Why the data moves it more than 3σ (or pins it near a bound); empty otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// One report's share of a MAP fit.
pub(crate) struct MapPart<'a> {
    pub report: &'a MeasuredReport,
    pub scenario: Scenario,
    pub memory: MemoryPlan,
    pub slots: Vec<Slot>,
}

impl MapPart<'_> {
    /// Figures of `levels` the report has, in a fixed order.
    pub fn new<'a>(
        report: &'a MeasuredReport,
        scenario: Scenario,
        memory: MemoryPlan,
        levels: &[usize],
    ) -> MapPart<'a> {
        let mut slots = Vec::new();
        // Which figures exist does not depend on the prediction: probe with the report's own values.
        for &i in levels {
            let l = &report.levels[i];
            if l.cold_start || l.failed || l.excluded.is_some() {
                continue;
            }
            for metric in Metric::ALL {
                if metric.has(l) {
                    slots.push(Slot { level: i, metric });
                }
            }
        }
        MapPart {
            report,
            scenario,
            memory,
            slots,
        }
    }

    fn residuals(&self, params: &CostParams) -> Vec<f64> {
        super::hierarchy::slot_residuals(self.report, &self.scenario, &self.memory, &self.slots, params)
    }
}

/// The outcome of a MAP minimisation.
pub(crate) struct MapSolution {
    /// Terms, z units.
    pub z: [f64; P],
    /// Posterior covariance, z units.
    pub cov: DMatrix<f64>,
    /// Simulations of the parts' level sets.
    pub evaluations: usize,
    /// Final objective.
    pub objective: f64,
    /// Residuals at the optimum.
    pub residuals: Vec<f64>,
    /// Their weights (metric weight ÷ σ² × Huber).
    pub weights: Vec<f64>,
    /// Jacobian at the optimum.
    pub jac: DMatrix<f64>,
}

/// The prior of every term for a scenario (the learned prior `learned`, else the hyperprior).
pub(crate) fn scenario_prior(
    learned: Option<&LearnedPriors>,
    line: ReleaseLine,
    arch: crate::spec::GpuArch,
    gpu_id: &str,
    model_id: &str,
) -> ([f64; P], [f64; P]) {
    let priors: Vec<ScenarioPrior> = match learned {
        Some(p) => p.for_deployment(line, arch, gpu_id, model_id),
        None => Term::ALL
            .iter()
            .map(|&term| {
                let (c, w) = term.hyperprior(line);
                ScenarioPrior {
                    term,
                    centre_z: c,
                    sd_z: w,
                }
            })
            .collect(),
    };
    let mut centre = [0.0; P];
    let mut sd = [1.0; P];
    for (k, t) in Term::ALL.iter().enumerate() {
        match priors.iter().find(|p| p.term == *t) {
            Some(p) => {
                centre[k] = p.centre_z;
                sd[k] = p.sd_z.max(0.05);
            }
            None => {
                let (c, w) = t.hyperprior(line);
                centre[k] = c;
                sd[k] = w;
            }
        }
    }
    (centre, sd)
}

/// Minimises the MAP objective over the parts' shared terms.
#[allow(clippy::too_many_arguments)]
pub(crate) fn minimize(
    parts: &[MapPart<'_>],
    version: EngineVersion,
    line: ReleaseLine,
    usage: crate::spec::engine::UsageContext,
    centre: &[f64; P],
    sd: &[f64; P],
    sigma: &Sigma,
    max_iterations: usize,
) -> MapSolution {
    // Each figure's weight: its metric's weight over its metric's σ².
    let metric_w: Vec<f64> = parts
        .iter()
        .flat_map(|p| {
            p.slots.iter().map(|s| {
                let sd = sigma[s.metric.index()];
                s.metric.weight() / (sd * sd)
            })
        })
        .collect();
    let mut evaluations = 0usize;
    let residuals = |z: &[f64; P]| -> Vec<f64> {
        let params = params_at(version, line, usage, z);
        parts.iter().flat_map(|p| p.residuals(&params)).collect()
    };
    let objective = |r: &[f64], z: &[f64; P]| -> f64 {
        let data: f64 = r
            .iter()
            .zip(&metric_w)
            .map(|(v, w)| {
                let a = v.abs();
                let rho = if a <= HUBER_DELTA {
                    a * a
                } else {
                    2.0 * HUBER_DELTA * a - HUBER_DELTA * HUBER_DELTA
                };
                w * rho
            })
            .sum::<f64>();
        let prior: f64 = (0..P).map(|k| ((z[k] - centre[k]) / sd[k]).powi(2)).sum();
        data + prior
    };
    let mut z = *centre;
    let mut r = residuals(&z);
    evaluations += 1;
    let mut f = objective(&r, &z);
    let mut lambda = 1e-2;
    let mut jac = DMatrix::zeros(r.len(), P);
    let mut weights: Vec<f64> = r.iter().zip(&metric_w).map(|(v, w)| w * huber_weight(*v)).collect();
    let normal = |jac: &DMatrix<f64>, weights: &[f64], lambda: f64| -> DMatrix<f64> {
        let mut h = DMatrix::<f64>::zeros(P, P);
        for i in 0..jac.nrows() {
            for a in 0..P {
                for b in 0..P {
                    h[(a, b)] += weights[i] * jac[(i, a)] * jac[(i, b)];
                }
            }
        }
        for k in 0..P {
            h[(k, k)] += 1.0 / (sd[k] * sd[k]) + lambda;
        }
        h
    };
    // Jacobian (forward differences) at z.
    let jacobian = |z: &[f64; P], r: &[f64], evaluations: &mut usize| -> DMatrix<f64> {
        let mut jac = DMatrix::zeros(r.len(), P);
        for k in 0..P {
            let mut zp = *z;
            zp[k] += 0.1;
            let rp = residuals(&zp);
            *evaluations += 1;
            for i in 0..r.len().min(rp.len()) {
                jac[(i, k)] = (rp[i] - r[i]) / 0.1;
            }
        }
        jac
    };
    // Whether z moved since the Jacobian and weights were taken.
    let mut moved = false;
    for _ in 0..max_iterations {
        jac = jacobian(&z, &r, &mut evaluations);
        weights = r.iter().zip(&metric_w).map(|(v, w)| w * huber_weight(*v)).collect();
        moved = false;
        let mut improved = false;
        for _ in 0..4 {
            let h = normal(&jac, &weights, lambda);
            let mut g = DVector::<f64>::zeros(P);
            for i in 0..jac.nrows() {
                for a in 0..P {
                    g[a] -= weights[i] * jac[(i, a)] * r[i];
                }
            }
            for k in 0..P {
                g[k] -= (z[k] - centre[k]) / (sd[k] * sd[k]);
            }
            let Some(step) = h.cholesky().map(|c| c.solve(&g)) else {
                lambda *= 10.0;
                continue;
            };
            let mut zn = z;
            for k in 0..P {
                zn[k] += step[k].clamp(-2.0, 2.0);
            }
            let rn = residuals(&zn);
            evaluations += 1;
            let fnew = objective(&rn, &zn);
            if fnew < f {
                let gain = (f - fnew) / f.max(1e-12);
                z = zn;
                r = rn;
                f = fnew;
                lambda = (lambda / 3.0).max(1e-4);
                improved = gain > 1e-4;
                moved = true;
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            break;
        }
    }
    // The covariance, the shifts' reasons and the identifiability warnings read the Jacobian and
    // weights: take them at the optimum, not at the point before the last step.
    if moved {
        jac = jacobian(&z, &r, &mut evaluations);
        weights = r.iter().zip(&metric_w).map(|(v, w)| w * huber_weight(*v)).collect();
    }
    let h = normal(&jac, &weights, 0.0);
    let cov = h
        .clone()
        .try_inverse()
        .unwrap_or_else(|| DMatrix::from_diagonal(&DVector::from_fn(P, |k, _| sd[k] * sd[k])));
    MapSolution {
        z,
        cov,
        evaluations,
        objective: f,
        residuals: r,
        weights,
        jac,
    }
}

/// Each term against its prior, with the reason for any move beyond 3σ: how much worse the
/// data would fit (log-error RMS of the figures) with the term held at its prior, the others
/// refitted (linearised).
pub(crate) fn prior_shifts(
    sol: &MapSolution,
    centre: &[f64; P],
    sd: &[f64; P],
    line: ReleaseLine,
    usage: crate::spec::engine::UsageContext,
) -> Vec<PriorShift> {
    let rms = |r: &[f64]| (r.iter().map(|v| v * v).sum::<f64>() / r.len().max(1) as f64).sqrt();
    Term::ALL
        .iter()
        .enumerate()
        .filter(|(_, t)| t.applies(line, usage))
        .map(|(k, t)| {
            let sigmas = (sol.z[k] - centre[k]) / sd[k];
            let fitted = t.from_z(sol.z[k]);
            let near_bound = match t.transform() {
                crate::cost::prior::Transform::Logit => !(0.005..=0.995).contains(&fitted),
                crate::cost::prior::Transform::Log => fitted < 1e-8,
            };
            let reason = if sigmas.abs() > 3.0 || near_bound {
                // Hold term k at its centre, refit the others on the linearisation.
                let mut free: Vec<usize> = (0..P).filter(|&j| j != k).collect();
                free.retain(|&j| Term::ALL[j].applies(line, usage));
                let n = free.len();
                let mut h = DMatrix::<f64>::zeros(n, n);
                let mut g = DVector::<f64>::zeros(n);
                let dz_k = centre[k] - sol.z[k];
                let r_shift: Vec<f64> = (0..sol.residuals.len())
                    .map(|i| sol.residuals[i] + sol.jac[(i, k)] * dz_k)
                    .collect();
                for (i, &ri) in r_shift.iter().enumerate() {
                    for (a, &ja) in free.iter().enumerate() {
                        g[a] -= sol.weights[i] * sol.jac[(i, ja)] * ri;
                        for (b, &jb) in free.iter().enumerate() {
                            h[(a, b)] += sol.weights[i] * sol.jac[(i, ja)] * sol.jac[(i, jb)];
                        }
                    }
                }
                for (a, &ja) in free.iter().enumerate() {
                    h[(a, a)] += 1.0 / (sd[ja] * sd[ja]);
                    g[a] -= (sol.z[ja] - centre[ja]) / (sd[ja] * sd[ja]);
                }
                let held: Vec<f64> = match h.cholesky().map(|c| c.solve(&g)) {
                    Some(step) => (0..sol.residuals.len())
                        .map(|i| r_shift[i] + free.iter().enumerate().map(|(a, &ja)| sol.jac[(i, ja)] * step[a]).sum::<f64>())
                        .collect(),
                    None => r_shift,
                };
                format!(
                    "the data demand it: held at its prior ({}), the figures' log-error RMS would rise from {:.3} to {:.3}{}",
                    fmt_value(*t, t.from_z(centre[k])),
                    rms(&sol.residuals),
                    rms(&held),
                    if near_bound { "; it sits near the end of its range" } else { "" }
                )
            } else {
                String::new()
            };
            PriorShift {
                term: t.name().to_string(),
                prior: t.from_z(centre[k]),
                fitted,
                sigmas,
                reason,
            }
        })
        .collect()
}

/// A term's value for people: ms or µs for times, a percentage for efficiencies.
pub fn fmt_value(t: Term, v: f64) -> String {
    match t.transform() {
        crate::cost::prior::Transform::Logit => format!("{:.1}%", v * 100.0),
        crate::cost::prior::Transform::Log if v < 1e-3 => format!("{:.1} µs", v * 1e6),
        crate::cost::prior::Transform::Log => format!("{:.2} ms", v * 1e3),
    }
}

/// Wall time helper for fits.
pub(crate) fn elapsed(started: Instant) -> f64 {
    started.elapsed().as_secs_f64()
}

/// The per-metric residual σ of a learned prior (0.17 where it has none).
pub(crate) fn learned_sigma(learned: Option<&LearnedPriors>) -> Sigma {
    let mut s = [0.17; 5];
    if let Some(p) = learned {
        for m in Metric::ALL {
            if let Some(v) = p.residual_sd.get(m.name()) {
                s[m.index()] = *v;
            }
        }
    }
    s
}
