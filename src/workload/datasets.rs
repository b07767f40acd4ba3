//! Benchmark dataset presets: the prompt and completion lengths a load-test client draws.
//!
//! `vllm bench serve --dataset-name sharegpt` (and `benchmark_serving.py` before it) sends the
//! first human turn of a random ShareGPT conversation with `max_tokens` set to the length of the
//! reference answer; without `--ignore-eos` the model may stop earlier. The preset holds
//! (prompt, completion) token pairs after the client's own filters, so a simulated run draws
//! lengths whose spread and correlation are the dataset's; a report's totals then scale them
//! (see [`crate::workload::lengths::LengthDist::Dataset`]). The numbers and their provenance are
//! in `data/datasets.yaml`; how they were derived is in `docs/research/datasets.md`.

use std::sync::OnceLock;

use serde::Deserialize;

use super::lengths::DatasetPart;

/// One dataset preset: (prompt, completion) token pairs in a fixed order.
#[derive(Debug, Clone, Deserialize)]
pub struct DatasetPreset {
    /// Name used in workloads (`sharegpt`).
    pub name: String,
    /// Where the lengths come from.
    pub source: String,
    /// Tokenizer the lengths were counted with.
    #[serde(default)]
    pub tokenizer: String,
    /// (prompt tokens, completion tokens) per entry.
    #[serde(default)]
    pub pairs: Vec<(u32, u32)>,
}

impl DatasetPreset {
    /// Entries in the preset.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether the preset has no entries.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The `part` of the entry at position `entry` ∈ [0, 1) (entry ⌊entry × len⌋), tokens.
    pub fn value(&self, entry: f64, part: DatasetPart) -> u32 {
        if self.pairs.is_empty() {
            return 1;
        }
        let i = ((entry.clamp(0.0, 1.0) * self.pairs.len() as f64) as usize).min(self.pairs.len() - 1);
        let (input, output) = self.pairs[i];
        match part {
            DatasetPart::Input => input.max(1),
            DatasetPart::Output => output.max(1),
        }
    }

    /// Mean of one side over the entries, tokens.
    pub fn mean(&self, part: DatasetPart) -> f64 {
        if self.pairs.is_empty() {
            return 1.0;
        }
        let sum: f64 = self
            .pairs
            .iter()
            .map(|&(i, o)| {
                f64::from(match part {
                    DatasetPart::Input => i.max(1),
                    DatasetPart::Output => o.max(1),
                })
            })
            .sum();
        sum / self.pairs.len() as f64
    }
}

#[derive(Deserialize)]
struct DatasetsFile {
    datasets: Vec<DatasetPreset>,
}

const DATASETS_YAML: &str = include_str!("../../data/datasets.yaml");

fn presets() -> &'static [DatasetPreset] {
    static PRESETS: OnceLock<Vec<DatasetPreset>> = OnceLock::new();
    PRESETS.get_or_init(|| {
        // The file is embedded and checked by the tests below; a parse failure leaves no presets,
        // which every lookup then reports as an unknown dataset.
        serde_saphyr::from_str::<DatasetsFile>(DATASETS_YAML)
            .map(|f| f.datasets.into_iter().filter(|d| !d.pairs.is_empty()).collect())
            .unwrap_or_default()
    })
}

/// The preset called `name` (case-insensitive), or a message naming the ones there are.
pub fn preset(name: &str) -> std::result::Result<&'static DatasetPreset, String> {
    let all = presets();
    all.iter()
        .find(|d| d.name.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|d| d.name.as_str()).collect();
            format!(
                "'{name}' is not a dataset preset; presets with lengths: {}",
                names.join(", ")
            )
        })
}

/// Names of the presets with lengths.
pub fn names() -> Vec<&'static str> {
    presets().iter().map(|d| d.name.as_str()).collect()
}
