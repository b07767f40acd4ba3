//! Memory terms from what a card showed: idle `nvidia-smi` readings and start-up outcomes.
//!
//! nano-vllm fills its KV cache up to total × util − (memory in use) − (warm-up activation peak),
//! so an idle card reads about total × util − activation peak + CUDA graphs, whatever else is on
//! it. Readings at one util and several max_num_seqs give the CUDA-graph bytes per sequence (the
//! slope); all readings then give the activation peak (the offset). A configuration that failed
//! to start and one that started bound the memory in use before the engine came up.

use serde::Serialize;

use crate::error::Result;
use crate::measured::MeasuredReport;
use crate::memory::{estimate_non_torch_bytes, plan_memory, weights_bytes_per_gpu, MemoryCalibration};
use crate::scenario::Scenario;
use crate::spec::engine::EngineVersion;
use crate::units::MIB;

/// One card reading, measured and predicted.
#[derive(Debug, Clone, Serialize)]
pub struct CardMemoryFit {
    /// The report (setup) it belongs to.
    pub report: String,
    /// What the card showed, MiB.
    pub measured_mib: f64,
    /// What servecast predicts, MiB.
    pub predicted_mib: f64,
    /// predicted ÷ measured − 1, percent.
    pub error_pct: f64,
}

/// Fits the activation peak, CUDA-graph bytes per sequence and (from start-up outcomes) the memory
/// in use before start to the card readings in `inputs`; None when there are fewer than two.
pub fn fit_card_memory(
    inputs: &[(&MeasuredReport, &Scenario)],
    base: &MemoryCalibration,
    warnings: &mut Vec<String>,
) -> Result<Option<MemoryCalibration>> {
    let readings: Vec<(&Scenario, f64)> = inputs
        .iter()
        .filter(|(r, _)| !r.refused_to_start())
        .filter_map(|&(r, s)| r.logged.card_memory_used_mib.map(|m| (s, m * MIB)))
        .collect();
    if readings.len() < 2 {
        return Ok(None);
    }
    // Slope of card memory against the largest captured batch, within groups of equal util.
    let (mut sxy, mut sxx) = (0.0, 0.0);
    let mut groups: Vec<(f64, Vec<(f64, f64)>)> = Vec::new();
    for &(s, m) in &readings {
        let x = f64::from(s.engine.max_num_seqs.min(512));
        let u = s.engine.gpu_memory_utilization;
        match groups.iter_mut().find(|g| (g.0 - u).abs() < 1e-9) {
            Some(g) => g.1.push((x, m)),
            None => groups.push((u, vec![(x, m)])),
        }
    }
    for (_, pts) in &groups {
        let n = pts.len() as f64;
        let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
        let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
        sxy += pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>();
        sxx += pts.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
    }
    let mut cal = *base;
    cal.cuda_graph_bytes_per_seq = Some(if sxx > 0.0 { (sxy / sxx).max(0.0) as u64 } else { 0 });
    // Offset: the activation peak that minimises the squared relative errors (readings move
    // one for one with it, up to block rounding).
    cal.activation_peak_bytes = Some(0);
    let (mut num, mut den) = (0.0, 0.0);
    for &(s, m) in &readings {
        let plan = plan_memory(&s.model, &s.gpu, &s.engine, &cal, "card memory fit")?;
        num += (plan.card_used_bytes as f64 - m) / (m * m);
        den += 1.0 / (m * m);
    }
    let activation = (num / den).max(0.0);
    cal.activation_peak_bytes = Some(activation as u64);
    // Memory in use before start: between what the refused configurations and the started ones allow.
    let nano: Vec<_> = inputs
        .iter()
        .filter(|(_, s)| s.engine.version == EngineVersion::NanoVllm)
        .collect();
    let room = |s: &Scenario| -> f64 {
        let requested = s.engine.gpu_memory_utilization * s.gpu.memory_total_bytes as f64;
        let non_torch = cal
            .non_torch_bytes
            .unwrap_or_else(|| estimate_non_torch_bytes(&s.engine)) as f64;
        let block = crate::memory::block_bytes(&s.model, &s.engine) as f64;
        requested - weights_bytes_per_gpu(&s.model, &s.engine) as f64 - activation - non_torch - block
    };
    let lo = nano
        .iter()
        .filter(|(r, _)| r.refused_to_start())
        .map(|(_, s)| room(s))
        .fold(f64::NAN, f64::max);
    let hi = nano
        .iter()
        .filter(|(r, _)| !r.refused_to_start() && (r.startup.is_some() || r.logged.card_memory_used_mib.is_some()))
        .map(|(_, s)| room(s))
        .fold(f64::NAN, f64::min);
    if lo.is_finite() && hi.is_finite() {
        if lo < hi {
            cal.preexisting_used_bytes = Some(((lo.max(0.0) + hi) / 2.0) as u64);
            warnings.push(format!(
                "memory in use before start pinned between {:.0} and {:.0} MiB by the start-up outcomes (other processes, CUDA context); midpoint used",
                lo.max(0.0) / MIB,
                hi / MIB
            ));
        } else {
            warnings.push("the start-up outcomes contradict each other: a configuration with more room failed".into());
        }
    }
    Ok(Some(cal))
}

/// Measured and predicted card memory for every reading in `inputs`, under `cal`.
pub fn card_memory_errors(inputs: &[(&MeasuredReport, &Scenario)], cal: &MemoryCalibration) -> Vec<CardMemoryFit> {
    inputs
        .iter()
        .filter(|(r, _)| !r.refused_to_start())
        .filter_map(|&(r, s)| {
            let m = r.logged.card_memory_used_mib?;
            let plan = plan_memory(&s.model, &s.gpu, &s.engine, cal, "card memory").ok()?;
            let p = plan.card_used_bytes as f64 / MIB;
            Some(CardMemoryFit {
                report: r.id.clone(),
                measured_mib: m,
                predicted_mib: p,
                error_pct: (p / m - 1.0) * 100.0,
            })
        })
        .collect()
}
