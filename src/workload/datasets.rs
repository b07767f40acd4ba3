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
    /// The sonnet dataset's prompt lengths counted with each chat template (see [`sonnet`]).
    #[serde(default)]
    computed: Vec<SonnetRow>,
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

/// One row of the sonnet dataset's `computed` table: 1,000 prompts drawn as vLLM's client draws
/// them, counted with one model family's tokenizer and chat template.
#[derive(Debug, Clone, Deserialize)]
struct SonnetRow {
    tokenizer_template: String,
    avg_line_tokens: f64,
    base_offset: u32,
    num_input_lines: u32,
    num_prefix_lines: u32,
    /// The 2024 client's prompts (no rejection): the untruncated spread.
    prompt_len_v0_6_to_v0_7: SonnetStats,
}

#[derive(Debug, Clone, Deserialize)]
struct SonnetStats {
    mean: f64,
    min: u32,
    max: u32,
}

const DATASETS_YAML: &str = include_str!("../../data/datasets.yaml");

/// Every entry of the embedded file; a parse failure leaves none, which every lookup then
/// reports as an unknown dataset (the file is embedded and checked by the tests below).
fn entries() -> &'static [DatasetPreset] {
    static ENTRIES: OnceLock<Vec<DatasetPreset>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        serde_saphyr::from_str::<DatasetsFile>(DATASETS_YAML)
            .map(|f| f.datasets)
            .unwrap_or_default()
    })
}

/// The entries with lengths: the presets.
fn presets() -> impl Iterator<Item = &'static DatasetPreset> {
    entries().iter().filter(|d| !d.pairs.is_empty())
}

/// The preset called `name` (case-insensitive), or a message naming the ones there are.
pub fn preset(name: &str) -> std::result::Result<&'static DatasetPreset, String> {
    presets()
        .find(|d| d.name.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            let names: Vec<&str> = presets().map(|d| d.name.as_str()).collect();
            format!(
                "'{name}' is not a dataset preset; presets with lengths: {}",
                names.join(", ")
            )
        })
}

/// Names of the presets with lengths.
pub fn names() -> Vec<&'static str> {
    presets().map(|d| d.name.as_str()).collect()
}

/// Tokens of the sonnet dataset's base prompt, "Pick as many lines as you can from these poem
/// lines:\n", outside any chat template: each family's `base_offset` less its template's own
/// tokens (`data/datasets.yaml`: Llama-3-Instruct's offset 23 = 12 + 9 template tokens + the BOS
/// the tokenizer adds again; Qwen2.5-Instruct's 41 = 12 + 29).
pub const SONNET_BASE_PROMPT_TOKENS: u32 = 12;

/// Expected range (largest − smallest) of 1,000 standard normal draws: turns the computed
/// prompts' extremes into a standard deviation.
const RANGE_OF_1000_NORMALS: f64 = 6.48;

/// vLLM bench's `sonnet` dataset counted with one model family's tokenizer and chat template
/// (`data/datasets.yaml`, dataset `sonnet`, its `computed` rows).
#[derive(Debug, Clone, PartialEq)]
pub struct SonnetTemplate {
    /// The family's template, as the rows name it (`llama3.1-instruct`, `qwen2.5-instruct`, …).
    pub name: String,
    /// Mean tokens of a poem line tokenized alone, special tokens included (the client's `avg`).
    pub avg_line_tokens: f64,
    /// Tokens of the chat-templated base prompt (the client's `base_offset`).
    pub base_offset: u32,
    /// Mean tokens a line adds inside a prompt (without the BOS a tokenizer adds to a line
    /// alone), from the computed prompts' means.
    pub line_tokens: f64,
    /// Standard deviation of a line's tokens inside a prompt, from the computed prompts' extremes.
    pub line_sd: f64,
}

/// Every family the sonnet rows were computed with, derived from its rows.
fn sonnet_templates() -> &'static [SonnetTemplate] {
    static TEMPLATES: OnceLock<Vec<SonnetTemplate>> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let rows: Vec<&SonnetRow> = entries()
            .iter()
            .filter(|d| d.name == "sonnet")
            .flat_map(|d| d.computed.iter())
            .collect();
        let mut names: Vec<&str> = rows.iter().map(|r| r.tokenizer_template.as_str()).collect();
        names.dedup();
        names
            .into_iter()
            .filter_map(|name| {
                let own: Vec<&&SonnetRow> = rows.iter().filter(|r| r.tokenizer_template == name).collect();
                let first = own.first()?;
                let n = own.len() as f64;
                let line_tokens = own
                    .iter()
                    .map(|r| (r.prompt_len_v0_6_to_v0_7.mean - f64::from(r.base_offset)) / f64::from(r.num_input_lines))
                    .sum::<f64>()
                    / n;
                let line_sd = own
                    .iter()
                    .map(|r| {
                        let s = &r.prompt_len_v0_6_to_v0_7;
                        let drawn = f64::from(r.num_input_lines.saturating_sub(r.num_prefix_lines).max(1));
                        f64::from(s.max.saturating_sub(s.min)) / RANGE_OF_1000_NORMALS / drawn.sqrt()
                    })
                    .sum::<f64>()
                    / n;
                Some(SonnetTemplate {
                    name: name.to_string(),
                    avg_line_tokens: first.avg_line_tokens,
                    base_offset: first.base_offset,
                    line_tokens,
                    line_sd,
                })
            })
            .collect()
    })
}

/// The sonnet family of a model name (`meta-llama/Llama-3.1-8B-Instruct` → `llama3.1-instruct`),
/// and whether the name matched one; a name that matches none (or no name) is counted as
/// Llama-3.1-Instruct, the model of vLLM's own sonnet runs in PR #7921's time.
pub fn sonnet_template(model: Option<&str>) -> Option<(&'static SonnetTemplate, bool)> {
    let all = sonnet_templates();
    let find = |name: &str| all.iter().find(|t| t.name == name);
    let key: String = model
        .unwrap_or("")
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .collect();
    let family = if ["llama3.1", "llama3.2", "llama3.3"].iter().any(|k| key.contains(k)) {
        Some("llama3.1-instruct")
    } else if key.contains("llama3") {
        Some("llama3-instruct")
    } else if key.contains("llama2") {
        Some("llama2-chat")
    } else if key.contains("qwen2.5") {
        Some("qwen2.5-instruct")
    } else {
        None
    };
    match family.and_then(find) {
        Some(t) => Some((t, true)),
        None => find("llama3.1-instruct").map(|t| (t, false)),
    }
}

/// Sonnet prompts: their lengths as the server receives them, and the tokens every prompt shares.
#[derive(Debug, Clone, PartialEq)]
pub struct SonnetPrompts {
    /// Prompt tokens the server prefills (with the completions endpoint the client's templated
    /// prompt; with the chat endpoint the raw prompt, the server's template to be added).
    pub input: super::lengths::LengthDist,
    /// Leading tokens every prompt shares (the base prompt and the first `num_prefix_lines`
    /// lines; with the chat endpoint without the template's own prefix).
    pub shared_prefix_tokens: u32,
}

/// The prompts vLLM bench's sonnet dataset sends for `--sonnet-input-len` `input_len` and
/// `--sonnet-prefix-len` `prefix_len` (tokens, chat template included), by the client's era:
/// `base_offset + round((input_len − base_offset) / avg)` lines' worth of tokens, the first
/// `round((prefix_len − base_offset) / avg)` lines shared, the rest drawn at random (normal in
/// the number of lines); from 0.8.4 prompts longer than `input_len` are redrawn. What the client
/// refuses is refused in its words.
pub fn sonnet_prompts(
    t: &SonnetTemplate,
    input_len: u32,
    prefix_len: u32,
    chat: bool,
    era: RandomRangeEra,
    origin: &str,
) -> crate::Result<SonnetPrompts> {
    use super::lengths::LengthDist;
    let offset = t.base_offset;
    let bad = |field: &str, message: String| Err(crate::Error::invalid(origin, field, message));
    if input_len <= prefix_len {
        return bad(
            "--sonnet-input-len",
            "'args.sonnet-input-len' must be greater than 'args.prefix-input-len'.".into(),
        );
    }
    if input_len <= offset {
        return bad(
            "--sonnet-input-len",
            if era == RandomRangeEra::Y2024 {
                format!("Please set 'args.sonnet-input-len' higher than {offset}.")
            } else {
                format!("'input_len' must be higher than the base prompt length ({offset}).")
            },
        );
    }
    if era == RandomRangeEra::Y2024 && prefix_len <= offset {
        return bad(
            "--sonnet-prefix-len",
            format!("Please set 'args.sonnet-prefix-len' higher than {offset}."),
        );
    }
    // Python's round: halves to even.
    let lines = |len: u32| ((f64::from(len) - f64::from(offset)) / t.avg_line_tokens).round_ties_even();
    let input_lines = lines(input_len);
    let prefix_lines = lines(prefix_len).max(0.0).min(input_lines);
    let mean = f64::from(offset) + input_lines * t.line_tokens;
    let sd = t.line_sd * (input_lines - prefix_lines).sqrt();
    // With the chat endpoint the client sends the raw prompt: its template is the server's.
    let template = if chat {
        offset.saturating_sub(SONNET_BASE_PROMPT_TOKENS)
    } else {
        0
    };
    let shift = f64::from(template);
    let low = (mean - 5.0 * sd).floor().max(1.0);
    let high = if era == RandomRangeEra::Y2024 {
        (mean + 5.0 * sd).ceil()
    } else {
        f64::from(input_len)
    };
    let input = if sd <= 0.0 {
        LengthDist::Fixed {
            tokens: (mean.round().min(high) - shift).max(1.0) as u32,
        }
    } else {
        LengthDist::Normal {
            mean: mean - shift,
            sd,
            min: (low.min(high) - shift).max(1.0) as u32,
            max: (high - shift).max(1.0) as u32,
        }
    };
    let shared = f64::from(if chat { SONNET_BASE_PROMPT_TOKENS } else { offset }) + prefix_lines * t.line_tokens;
    Ok(SonnetPrompts {
        input,
        shared_prefix_tokens: shared.round() as u32,
    })
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

    /// The sample mean of 4,000 draws of `d`, tokens.
    fn drawn_mean(d: &LengthDist) -> f64 {
        let mut rng = crate::workload::rng::SimRng::new(7);
        let v = d.sample_n(4000, &mut rng);
        v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64
    }

    #[test]
    fn sonnet_prompts_have_the_lengths_vllms_client_drew_with_each_template() {
        use RandomRangeEra::*;
        // data/datasets.yaml's rows: 1,000 prompts drawn per family and length, counted with its
        // tokenizer and template (prompt_len means: the 2024 client, then 0.8.4+ with redraws).
        for (model, input_len, v06_mean, v084_mean) in [
            ("meta-llama/Meta-Llama-3-8B-Instruct", 550, 507.5, 507.3),
            ("meta-llama/Llama-3.1-8B-Instruct", 1024, 939.7, 939.3),
            ("meta-llama/Llama-3.1-70B-Instruct", 2048, 1874.3, 1874.7),
            ("Qwen/Qwen2.5-7B-Instruct", 1024, 1020.4, 1011.6),
            ("Qwen/Qwen2.5-7B-Instruct", 2048, 2051.9, 2033.3),
            ("meta-llama/Llama-2-7b-chat-hf", 1024, 955.3, 954.7),
        ] {
            let (t, matched) = sonnet_template(Some(model)).unwrap_or_else(|| panic!("no sonnet rows"));
            assert!(matched, "{model}");
            for (era, want) in [(Y2024, v06_mean), (Current, v084_mean)] {
                let p = sonnet_prompts(t, input_len, 200, false, era, "t").unwrap_or_else(|e| panic!("{e}"));
                let got = drawn_mean(&p.input);
                assert!(
                    (got - want).abs() < 0.004 * want,
                    "{model} {input_len} {era:?}: {got} vs {want}"
                );
            }
        }
        // The shared prefix: the templated base prompt and the first lines (187 tokens for
        // Llama-3.1, 203 for Qwen2.5 in the rows).
        for (model, shared) in [("Llama-3.1-8B-Instruct", 187), ("Qwen2.5-7B-Instruct", 203)] {
            let (t, _) = sonnet_template(Some(model)).unwrap_or_else(|| panic!("no sonnet rows"));
            let p = sonnet_prompts(t, 1024, 200, false, Current, "t").unwrap_or_else(|e| panic!("{e}"));
            assert!(
                p.shared_prefix_tokens.abs_diff(shared) <= 2,
                "{model}: {}",
                p.shared_prefix_tokens
            );
        }
        // With the chat endpoint the raw prompt is sent: Llama-3.1's template (48 − 12 tokens)
        // is the server's to add.
        let (t, _) = sonnet_template(Some("Llama-3.1-8B-Instruct")).unwrap_or_else(|| panic!("no sonnet rows"));
        let completions = sonnet_prompts(t, 1024, 200, false, Current, "t").unwrap_or_else(|e| panic!("{e}"));
        let chat = sonnet_prompts(t, 1024, 200, true, Current, "t").unwrap_or_else(|e| panic!("{e}"));
        assert!((completions.input.mean() - chat.input.mean() - 36.0).abs() < 1e-9);
        // A model of another family is counted as Llama-3.1, and says so.
        assert_eq!(
            sonnet_template(Some("mistralai/Mistral-7B-Instruct-v0.3")).map(|(t, m)| (t.name.as_str(), m)),
            Some(("llama3.1-instruct", false))
        );
        // What the client refuses, in its words.
        for (input, prefix, era, words) in [
            (
                200,
                200,
                Current,
                "'args.sonnet-input-len' must be greater than 'args.prefix-input-len'.",
            ),
            (
                40,
                20,
                Current,
                "'input_len' must be higher than the base prompt length (48).",
            ),
            (40, 20, Y2024, "Please set 'args.sonnet-input-len' higher than 48."),
            (550, 30, Y2024, "Please set 'args.sonnet-prefix-len' higher than 48."),
        ] {
            match sonnet_prompts(t, input, prefix, false, era, "t") {
                Err(crate::Error::InvalidField { message, .. }) => assert!(message.contains(words), "{message}"),
                other => panic!("{input} {prefix}: {other:?}"),
            }
        }
        // From 0.8.4 a prefix shorter than the base prompt shares no lines.
        let p = sonnet_prompts(t, 550, 30, false, Current, "t").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.shared_prefix_tokens, 48);
    }
}
