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

/// Which vLLM client's rule the `random` dataset's `--random-range-ratio` follows
/// (`data/datasets.yaml`, dataset `random`, its eras).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RandomRangeEra {
    /// `benchmark_serving.py` up to 0.8.3 and `vllm bench serve` up to 0.9.0: lengths uniform in
    /// [int(L·r), L], r in [0, 1], default 1 (fixed lengths).
    Y2024,
    /// 0.8.4 to 0.10.1: uniform in [int(L·(1 − r)), int(L·(1 + r))], r in [0, 1), default 0.
    Y2025,
    /// 0.10.2 on: uniform in [⌊L·(1 − r)⌋, ⌈L·(1 + r)⌉] (outputs at least 1), r in [0, 1), default 0.
    Current,
}

impl RandomRangeEra {
    /// The era of a client release (`(major, minor, patch)`); None (no release named): the
    /// current client, unless the engine line is a V0 one (`v0_line`), whose users ran the 2024
    /// client.
    pub fn of(release: Option<(u32, u32, u32)>, v0_line: bool) -> RandomRangeEra {
        match release {
            Some(r) if r < (0, 8, 4) => RandomRangeEra::Y2024,
            Some(r) if r < (0, 10, 2) => RandomRangeEra::Y2025,
            Some(_) => RandomRangeEra::Current,
            None if v0_line => RandomRangeEra::Y2024,
            None => RandomRangeEra::Current,
        }
    }
}

/// The lengths vLLM's `random` dataset draws for `--random-input-len` (or `-output-len`) `len`
/// with `--random-range-ratio` `ratio`, by the client's era: a uniform integer range (a fixed
/// length when it collapses). Prompts and outputs are at least 1 token. A ratio outside the
/// era's range is refused in the client's words.
pub fn random_range_lengths(
    len: u32,
    ratio: f64,
    era: RandomRangeEra,
    origin: &str,
) -> crate::Result<super::lengths::LengthDist> {
    let bad = |message: &str| Err(crate::Error::invalid(origin, "random_range_ratio", message));
    if !ratio.is_finite() || ratio < 0.0 {
        return bad("must be a number ≥ 0");
    }
    let l = f64::from(len);
    let (low, high) = match era {
        RandomRangeEra::Y2024 => {
            if ratio > 1.0 {
                return bad("must be in [0, 1] for this client (lengths are drawn in [int(len × ratio), len])");
            }
            ((l * ratio).trunc(), l)
        }
        RandomRangeEra::Y2025 => {
            if ratio >= 1.0 {
                return bad("random_range_ratio must be < 1.0 to ensure a valid sampling range");
            }
            ((l * (1.0 - ratio)).trunc(), (l * (1.0 + ratio)).trunc())
        }
        RandomRangeEra::Current => {
            if ratio >= 1.0 {
                return bad("random_range_ratio must be in [0, 1).");
            }
            ((l * (1.0 - ratio)).floor(), (l * (1.0 + ratio)).ceil())
        }
    };
    if high > f64::from(u32::MAX) {
        return Err(crate::Error::invalid(
            origin,
            "random_range_ratio",
            format!(
                "{len} tokens × (1 + {ratio}) exceeds the longest length servecast takes, {} tokens",
                u32::MAX
            ),
        ));
    }
    // Both bounds now lie in [0, u32::MAX].
    let low = low.max(1.0) as u32;
    let high = high.max(1.0) as u32;
    Ok(if low >= high {
        super::lengths::LengthDist::Fixed { tokens: high }
    } else {
        super::lengths::LengthDist::Uniform { min: low, max: high }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::lengths::LengthDist;

    fn range(len: u32, ratio: f64, era: RandomRangeEra) -> LengthDist {
        random_range_lengths(len, ratio, era, "t").unwrap_or(LengthDist::Fixed { tokens: 0 })
    }

    #[test]
    fn the_random_datasets_range_ratio_follows_each_clients_rule() {
        use RandomRangeEra::*;
        // 2024: randint(int(L·r), L + 1); r = 1 (its default) is a fixed length.
        assert_eq!(range(1000, 0.5, Y2024), LengthDist::Uniform { min: 500, max: 1000 });
        assert_eq!(range(1000, 1.0, Y2024), LengthDist::Fixed { tokens: 1000 });
        // 2025: both bounds truncated; current: the upper one rounded up.
        assert_eq!(range(1001, 0.3, Y2025), LengthDist::Uniform { min: 700, max: 1301 });
        assert_eq!(range(1001, 0.3, Current), LengthDist::Uniform { min: 700, max: 1302 });
        assert_eq!(range(128, 0.0, Current), LengthDist::Fixed { tokens: 128 });
        // A length never falls below one token.
        assert_eq!(range(1, 0.9, Current), LengthDist::Uniform { min: 1, max: 2 });
        // Out of range, in the client's words.
        for (ratio, era, words) in [
            (1.0, Y2025, "random_range_ratio must be < 1.0"),
            (1.0, Current, "random_range_ratio must be in [0, 1)."),
            (1.5, Y2024, "must be in [0, 1]"),
            (-0.1, Current, "≥ 0"),
            (f64::NAN, Current, "≥ 0"),
        ] {
            match random_range_lengths(100, ratio, era, "t") {
                Err(crate::Error::InvalidField { message, .. }) => assert!(message.contains(words), "{message}"),
                other => panic!("{ratio} {era:?}: {other:?}"),
            }
        }
        // No length is clipped to fit: one beyond u32 is refused.
        assert!(random_range_lengths(u32::MAX, 0.5, Current, "t").is_err());
        // The era of a release.
        assert_eq!(RandomRangeEra::of(Some((0, 6, 3)), false), Y2024);
        assert_eq!(RandomRangeEra::of(Some((0, 8, 4)), false), Y2025);
        assert_eq!(RandomRangeEra::of(Some((0, 10, 1)), false), Y2025);
        assert_eq!(RandomRangeEra::of(Some((0, 10, 2)), false), Current);
        assert_eq!(RandomRangeEra::of(None, true), Y2024);
        assert_eq!(RandomRangeEra::of(None, false), Current);
    }
}
