//! The built-in catalog of GPUs and models, with loose name matching and suggestions.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use crate::spec::gpu::{gpus_from_yaml, GpuSpec};
use crate::spec::model::{models_from_yaml, ModelSpec};
use crate::{Error, Result};

/// Origin reported for errors in the embedded GPU list.
const BUILTIN_GPUS: &str = "<builtin data/gpus.yaml>";
/// Origin reported for errors in the embedded model list.
const BUILTIN_MODELS: &str = "<builtin data/models.yaml>";
/// How many suggestions an unknown name gets.
const SUGGESTIONS: usize = 3;

/// Environment variable naming a YAML file of GPUs the catalog adds to its own, in
/// `data/gpus.yaml`'s format and units (`gpus:` with `id`, `name`, `architecture`,
/// `memory_total_gib_cuda`, `memory_bandwidth_gb_s`, `dense_fp16_tflops`, `interconnect`,
/// `source`, …): how a GPU servecast does not list is planned for. Its efficiencies come from its
/// architecture's learned prior. An id or name that clashes with the catalog is refused.
pub const USER_GPUS_ENV: &str = "SERVECAST_GPUS";

/// GPUs and models known to servecast.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// Every GPU, in file order.
    pub gpus: Vec<GpuSpec>,
    /// Every model, in file order.
    pub models: Vec<ModelSpec>,
}

impl Catalog {
    /// The catalog compiled into the binary (`data/gpus.yaml`, `data/models.yaml`), parsed and
    /// validated once.
    pub fn builtin() -> Result<&'static Catalog> {
        static BUILTIN: OnceLock<std::result::Result<Catalog, String>> = OnceLock::new();
        match BUILTIN.get_or_init(|| Catalog::parse_builtin().map_err(|e| e.to_string())) {
            Ok(catalog) => Ok(catalog),
            // Parsing is deterministic: parse again to hand back the typed error.
            Err(text) => Err(Catalog::parse_builtin()
                .err()
                .unwrap_or_else(|| Error::invalid(BUILTIN_GPUS, "catalog", text))),
        }
    }

    fn parse_builtin() -> Result<Catalog> {
        let mut catalog = Catalog::from_yaml(
            include_str!("../../data/gpus.yaml"),
            BUILTIN_GPUS,
            include_str!("../../data/models.yaml"),
            BUILTIN_MODELS,
        )?;
        if let Some(path) = std::env::var_os(USER_GPUS_ENV).filter(|p| !p.is_empty()) {
            let path = std::path::PathBuf::from(path);
            let origin = format!("{USER_GPUS_ENV}={}", path.display());
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error::invalid(&origin, "path", format!("cannot read the GPU file: {e}")))?;
            catalog.gpus.extend(gpus_from_yaml(&text, &origin)?);
            check_names(catalog.gpus.iter().map(|g| (g.id.as_str(), gpu_keys(g))), &origin)?;
        }
        Ok(catalog)
    }

    /// Parses and validates a catalog from GPU and model YAML texts; the origins name the files.
    pub fn from_yaml(gpus_yaml: &str, gpus_origin: &str, models_yaml: &str, models_origin: &str) -> Result<Catalog> {
        let catalog = Catalog {
            gpus: gpus_from_yaml(gpus_yaml, gpus_origin)?,
            models: models_from_yaml(models_yaml, models_origin)?,
        };
        check_names(catalog.gpus.iter().map(|g| (g.id.as_str(), gpu_keys(g))), gpus_origin)?;
        check_names(
            catalog.models.iter().map(|m| (m.id.as_str(), model_exact_keys(m))),
            models_origin,
        )?;
        Ok(catalog)
    }

    /// The GPU a loosely written name means ("4090", "RTX 4090", "NVIDIA GeForce RTX 4090",
    /// "rtx-4090"); unknown or ambiguous names give [`Error::UnknownGpu`] with suggestions.
    ///
    /// A memory size written in the query ("Tesla V100-SXM2-32GB") must be the entry's, within
    /// 15% of the total CUDA reports, unless the entry's own names carry it ("GH200 480GB" counts
    /// the CPU's memory): a 32 GB V100 is refused, with the 16 GB one suggested, never run as it.
    pub fn gpu(&self, name: &str) -> Result<&GpuSpec> {
        let unknown = |suggestions| Error::UnknownGpu {
            name: name.to_string(),
            suggestions,
        };
        let gpu = lookup(&self.gpus, name, |g| g.id.as_str(), gpu_keys).map_err(unknown)?;
        let own_words: BTreeSet<String> = std::iter::once(gpu.name.as_str())
            .chain(gpu.aliases.iter().map(String::as_str))
            .flat_map(words_of)
            .collect();
        let total_gib = gpu.memory_total_bytes as f64 / (1u64 << 30) as f64;
        for word in words_of(name) {
            if own_words.contains(&word) {
                continue;
            }
            if let Some(stated) = memory_size_gib(&word) {
                if (stated - total_gib).abs() > 0.15 * stated {
                    return Err(unknown(vec![gpu.id.clone()]));
                }
            }
        }
        Ok(gpu)
    }

    /// The model a loosely written name means ("Qwen/Qwen2.5-7B-Instruct", "qwen2.5-7b",
    /// "indextts2"); unknown or ambiguous names give [`Error::UnknownModel`] with suggestions.
    ///
    /// Models match exactly only (id, name or alias, ignoring case and punctuation, with or
    /// without the `org/` prefix): a near miss (`lama-3.1-8b`, or the base `Qwen/Qwen2.5-7B` for
    /// the catalog's Instruct model) is refused with the entries it resembles as suggestions,
    /// never run silently as another model.
    ///
    /// A pre-quantized checkpoint of a listed model, named as its publishers name them (the
    /// listed name, exactly, then the method: `Meta-Llama-3.1-8B-Instruct-FP8`,
    /// `Qwen2.5-7B-Instruct-AWQ`, `…-GPTQ-Int8`, `…-quantized.w4a16`), is that entry with the
    /// checkpoint's weight format, as vLLM reads it from the checkpoint's `quantization_config`;
    /// a format servecast does not cost (bitsandbytes, GGUF, INT8 W8A8) is refused, naming it.
    pub fn model(&self, name: &str) -> Result<&ModelSpec> {
        // Exactly one of an entry's names, digits included ("OPT-1.3B" is not "OPT-13B").
        if let Some(m) = self.models.iter().find(|m| names_model(name, m)) {
            return Ok(m);
        }
        let found = lookup(&self.models, name, |m| m.id.as_str(), model_keys);
        if let Some(m) = self.quantized_checkpoint(name)? {
            return Ok(m);
        }
        Err(Error::UnknownModel {
            name: name.to_string(),
            suggestions: match found {
                Ok(m) => vec![m.id.clone()],
                Err(suggestions) => suggestions,
            },
        })
    }

    /// A listed model's pre-quantized checkpoint, if `name` is a listed name followed by
    /// quantization words (see [`Catalog::model`]).
    fn quantized_checkpoint(&self, name: &str) -> Result<Option<&ModelSpec>> {
        for words in word_variants(name) {
            let Some((base_words, method)) = split_quantization(&words) else {
                continue;
            };
            let base_name = base_words.join("-");
            let Some(base) = self.models.iter().find(|m| names_model(&base_name, m)) else {
                continue;
            };
            let quantization = method.map_err(|format| {
                Error::invalid(
                    "model",
                    "model",
                    format!(
                        "'{name}' is {}'s checkpoint in {format}, which servecast does not cost; it costs \
                         FP8, AWQ, GPTQ (4- and 8-bit), W4A16, MXFP4 and NVFP4 checkpoints, or {} itself",
                        base.id, base.id
                    ),
                )
            })?;
            if base.checkpoint_quantization == Some(quantization) {
                return Ok(Some(base));
            }
            if let Some(own) = base.checkpoint_quantization {
                return Err(Error::invalid(
                    "model",
                    "model",
                    format!(
                        "'{name}' names {} weights, but the catalog's {} is a {} checkpoint",
                        quantization.name(),
                        base.id,
                        own.name()
                    ),
                ));
            }
            return Ok(Some(derived_checkpoint(base, name, quantization)));
        }
        Ok(None)
    }

    /// Every GPU id, in file order.
    pub fn gpu_ids(&self) -> Vec<&str> {
        self.gpus.iter().map(|g| g.id.as_str()).collect()
    }

    /// Every model id, in file order.
    pub fn model_ids(&self) -> Vec<&str> {
        self.models.iter().map(|m| m.id.as_str()).collect()
    }
}

/// Whether `query` is one of model `m`'s names exactly: equal once normalized (case and
/// punctuation ignored, with or without an `org/` prefix) and with the same runs of digits, so
/// "Qwen2.5-15B" is not "Qwen2.5-1.5B" though both normalize to "qwen2515b".
fn names_model(query: &str, m: &ModelSpec) -> bool {
    let queries = name_variants_raw(query);
    std::iter::once(m.id.as_str())
        .chain(std::iter::once(m.name.as_str()))
        .chain(m.aliases.iter().map(String::as_str))
        .flat_map(name_variants_raw)
        .any(|own| {
            queries.iter().any(|q| {
                let n = normalize_name(q);
                !n.is_empty() && n == normalize_name(own) && digit_runs(q) == digit_runs(own)
            })
        })
}

/// The names a model answers to exactly, each as its normalized form and its runs of digits
/// ("opt-1.3b" → "opt13b 1.3", "opt-13b" → "opt13b 13"): two entries may not share one.
fn model_exact_keys(m: &ModelSpec) -> Vec<String> {
    let mut keys = BTreeSet::new();
    for raw in std::iter::once(m.id.as_str())
        .chain(std::iter::once(m.name.as_str()))
        .chain(m.aliases.iter().map(String::as_str))
    {
        for v in name_variants_raw(raw) {
            let n = normalize_name(v);
            if !n.is_empty() {
                keys.insert(format!("{n} {}", digit_runs(v).join(".")));
            }
        }
    }
    keys.into_iter().collect()
}

/// A name, and its part after the last `/` (an `org/` prefix), as written.
fn name_variants_raw(raw: &str) -> Vec<&str> {
    let mut out = vec![raw];
    if let Some((_, tail)) = raw.trim_end_matches('/').rsplit_once('/') {
        out.push(tail);
    }
    out
}

/// The maximal runs of digits in a name, in order ("Qwen2.5-1.5B" → 2, 5, 1, 5).
fn digit_runs(name: &str) -> Vec<&str> {
    name.split(|c: char| !c.is_ascii_digit())
        .filter(|r| !r.is_empty())
        .collect()
}

/// Words a checkpoint's name ends with to say how its weights are quantized.
const QUANTIZATION_WORDS: [&str; 21] = [
    "fp8",
    "dynamic",
    "static",
    "awq",
    "gptq",
    "int4",
    "int8",
    "w4a16",
    "w8a8",
    "w8a16",
    "marlin",
    "quantized",
    "nvfp4",
    "fp4",
    "mxfp4",
    "gguf",
    "bnb",
    "4bit",
    "8bit",
    "exl2",
    "hqq",
];

/// Splits a name's trailing quantization words from the rest: the rest, and the weight format
/// they name (vLLM's method), or the format's own name when servecast does not cost it. None
/// when the name ends with no such word.
fn split_quantization(
    words: &[String],
) -> Option<(
    &[String],
    std::result::Result<crate::spec::engine::Quantization, &'static str>,
)> {
    use crate::spec::engine::Quantization;
    let cut = words
        .iter()
        .rposition(|w| !QUANTIZATION_WORDS.contains(&w.as_str()))
        .map_or(0, |i| i + 1);
    if cut == words.len() || cut == 0 {
        return None;
    }
    let tail: BTreeSet<&str> = words[cut..].iter().map(String::as_str).collect();
    let has = |w: &str| tail.contains(w);
    let methods = [
        has("nvfp4") || has("fp4"),
        has("mxfp4"),
        has("fp8"),
        has("awq"),
        has("gptq"),
        has("w4a16"),
        has("w8a8") && !has("fp8"),
    ];
    let method = if methods.iter().filter(|m| **m).count() > 1 {
        Err("two formats at once (its name says more than one method)")
    } else if has("gguf") {
        Err("GGUF")
    } else if has("bnb") || has("4bit") || has("8bit") {
        Err("bitsandbytes")
    } else if has("exl2") {
        Err("EXL2")
    } else if has("hqq") {
        Err("HQQ")
    } else if has("nvfp4") || has("fp4") {
        Ok(Quantization::Nvfp4)
    } else if has("mxfp4") {
        Ok(Quantization::Mxfp4)
    } else if has("fp8") {
        Ok(Quantization::Fp8)
    } else if has("awq") {
        Ok(Quantization::Awq)
    } else if has("gptq") && has("int8") {
        Ok(Quantization::GptqInt8)
    } else if has("gptq") {
        Ok(Quantization::Gptq)
    } else if has("w4a16") {
        Ok(Quantization::GptqMarlin)
    } else if has("w8a8") {
        Err("INT8 (W8A8)")
    } else if has("w8a16") {
        Err("INT8 weights (W8A16)")
    } else {
        Err("a format its name does not say (INT4 or INT8 of which method: AWQ, GPTQ, W8A8?)")
    };
    Some((&words[..cut], method))
}

/// `base` served from its `quantization` checkpoint called `name`: interned, so a name costs one
/// copy however often it is looked up (a sweep over many names keeps one each).
fn derived_checkpoint(
    base: &ModelSpec,
    name: &str,
    quantization: crate::spec::engine::Quantization,
) -> &'static ModelSpec {
    type Interned = Vec<(ModelSpec, String, &'static ModelSpec)>;
    static INTERNED: OnceLock<std::sync::Mutex<Interned>> = OnceLock::new();
    let mut interned = INTERNED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, _, spec)) = interned
        .iter()
        .find(|(b, n, spec)| b == base && n == name && spec.checkpoint_quantization == Some(quantization))
    {
        return spec;
    }
    let mut spec = base.clone();
    spec.name = name.to_string();
    spec.aliases.clear();
    spec.checkpoint_quantization = Some(quantization);
    spec.resolved_from = Some(format!(
        "not listed: the catalog's {} ({}) with {} weights, as the name's suffix says and vLLM reads them \
         from the checkpoint's quantization_config",
        base.id,
        base.name,
        quantization.name()
    ));
    let spec: &'static ModelSpec = Box::leak(Box::new(spec));
    interned.push((base.clone(), name.to_string(), spec));
    spec
}

/// Lowercases and keeps letters and digits only, dropping the words "nvidia" and "geforce"
/// ("NVIDIA GeForce RTX 4090" -> "rtx4090", "Qwen2.5-7B" -> "qwen257b").
pub fn normalize_name(s: &str) -> String {
    s.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| !w.is_empty() && w != "nvidia" && w != "geforce")
        .collect()
}

/// The `n` candidates closest to `query` by edit distance between normalized names, closest first.
pub fn closest_names<'a>(query: &str, candidates: impl Iterator<Item = &'a str>, n: usize) -> Vec<String> {
    let q = normalize_name(query);
    let mut scored: Vec<(usize, &str)> = candidates.map(|c| (levenshtein(&q, &normalize_name(c)), c)).collect();
    scored.sort();
    let mut seen = BTreeSet::new();
    scored
        .into_iter()
        .filter(|(_, c)| seen.insert(*c))
        .take(n)
        .map(|(_, c)| c.to_string())
        .collect()
}

/// Edit distance (insertions, deletions, substitutions) between two strings, by chars.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Normalized names a GPU answers to.
fn gpu_keys(g: &GpuSpec) -> Vec<String> {
    keys_of(&g.id, &g.name, &g.aliases)
}

/// Normalized names a model answers to (also the part after an `org/` prefix).
fn model_keys(m: &ModelSpec) -> Vec<String> {
    keys_of(&m.id, &m.name, &m.aliases)
}

fn keys_of(id: &str, name: &str, aliases: &[String]) -> Vec<String> {
    let mut keys = BTreeSet::new();
    for raw in std::iter::once(id)
        .chain(std::iter::once(name))
        .chain(aliases.iter().map(String::as_str))
    {
        for variant in name_variants(raw) {
            if !variant.is_empty() {
                keys.insert(variant);
            }
        }
    }
    keys.into_iter().collect()
}

/// The normalized name, and the normalized part after the last `/` (a Hugging Face org prefix).
fn name_variants(raw: &str) -> Vec<String> {
    let mut out = vec![normalize_name(raw)];
    if let Some((_, tail)) = raw.trim_end_matches('/').rsplit_once('/') {
        out.push(normalize_name(tail));
    }
    out
}

/// The query's words as [`normalize_name`] keeps them (lowercase letters and digits, without
/// "nvidia" and "geforce"): of the whole query, and of the part after an `org/` prefix.
fn word_variants(raw: &str) -> Vec<Vec<String>> {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .map(str::to_lowercase)
            .filter(|w| !w.is_empty() && w != "nvidia" && w != "geforce")
            .collect()
    };
    let mut out = vec![words(raw)];
    if let Some((_, tail)) = raw.trim_end_matches('/').rsplit_once('/') {
        out.push(words(tail));
    }
    out
}

/// Whether some run of consecutive `words` concatenates to exactly `key`.
/// Lower-case alphanumeric words of a name ("Tesla V100-SXM2-32GB" → tesla, v100, sxm2, 32gb).
fn words_of(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// The memory size a word states, GiB ("32gb", "80g", "48gib"); None for any other word.
fn memory_size_gib(word: &str) -> Option<f64> {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &word[digits.len()..];
    if digits.is_empty() || !matches!(unit, "gb" | "g" | "gib") {
        return None;
    }
    digits.parse::<f64>().ok().filter(|v| *v > 0.0)
}

/// Words that, following a product number, name another product of that number ("RTX 6000"
/// then "RTX 6000 Ada Generation"; "RTX PRO 6000 Blackwell").
const GENERATION_WORDS: [&str; 4] = ["ada", "blackwell", "hopper", "ampere"];

/// Whether `key` contains `query` and does not go on, right after it, with a generation word.
fn contains_same_product(key: &str, query: &str) -> bool {
    key.match_indices(query).any(|(at, _)| {
        let rest = &key[at + query.len()..];
        !GENERATION_WORDS.iter().any(|g| rest.starts_with(g))
    })
}

fn spelled_by_words(words: &[String], key: &str) -> bool {
    (0..words.len()).any(|start| {
        let mut spelled = String::new();
        words[start..].iter().any(|w| {
            spelled.push_str(w);
            spelled == key
        })
    })
}

/// Refuses duplicate ids and names that would match two entries exactly.
fn check_names<'a>(entries: impl Iterator<Item = (&'a str, Vec<String>)>, origin: &str) -> Result<()> {
    let mut owner: HashMap<String, &str> = HashMap::new();
    let mut ids = BTreeSet::new();
    for (id, keys) in entries {
        if !ids.insert(id) {
            return Err(Error::invalid(origin, "id", format!("duplicate id '{id}'")));
        }
        for key in keys {
            if let Some(other) = owner.insert(key.clone(), id) {
                if other != id {
                    return Err(Error::invalid(
                        origin,
                        "aliases",
                        format!("name '{key}' is used by both '{other}' and '{id}'"),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Finds the entry `query` means, or returns the ids to suggest.
///
/// Order: exact normalized match on id, name or alias (also after an `org/` prefix); then the
/// entries with a name containing the query, if they are one entry; then the entry whose longest
/// name is spelled by consecutive whole words of the query, if unique. Ambiguous queries suggest
/// the entries they matched; others the closest ids by edit distance.
fn lookup<'c, T>(
    items: &'c [T],
    query: &str,
    id: impl Fn(&T) -> &str,
    keys: impl Fn(&T) -> Vec<String>,
) -> std::result::Result<&'c T, Vec<String>> {
    let all_keys: Vec<Vec<String>> = items.iter().map(&keys).collect();
    let variants: Vec<String> = name_variants(query).into_iter().filter(|v| !v.is_empty()).collect();

    // 1. Exact match.
    for q in &variants {
        if let Some(i) = all_keys.iter().position(|ks| ks.iter().any(|k| k == q)) {
            return Ok(&items[i]);
        }
    }

    // 2. A name containing the query ("4090" in "rtx4090", "qwen257b" in "qwen257binstruct"),
    // unless the name goes on with a generation word: "RTX 6000" is a Turing Quadro of its own,
    // not the "RTX 6000 Ada" it is a prefix of.
    for q in variants.iter().filter(|q| q.len() >= 3) {
        let hits: Vec<usize> = (0..items.len())
            .filter(|&i| all_keys[i].iter().any(|k| contains_same_product(k, q)))
            .collect();
        match hits.as_slice() {
            [] => {}
            [one] => return Ok(&items[*one]),
            many => return Err(many.iter().map(|&i| id(&items[i]).to_string()).collect()),
        }
    }

    // 3. A name spelled by whole words of the query ("nvidia geforce rtx 4090 24gb" has "rtx" and
    // "4090" side by side). Whole words only: "GH200" is not an "H200", nor "RTX 4090D" an "RTX 4090".
    for words in word_variants(query) {
        let mut best: Vec<(usize, usize)> = Vec::new(); // (key length, item)
        for (i, ks) in all_keys.iter().enumerate() {
            if let Some(len) = ks
                .iter()
                .filter(|k| k.len() >= 3 && spelled_by_words(&words, k))
                .map(String::len)
                .max()
            {
                best.push((len, i));
            }
        }
        if let Some(&(longest, _)) = best.iter().max() {
            let top: Vec<usize> = best.iter().filter(|(l, _)| *l == longest).map(|&(_, i)| i).collect();
            match top.as_slice() {
                [one] => return Ok(&items[*one]),
                many if !many.is_empty() => return Err(many.iter().map(|&i| id(&items[i]).to_string()).collect()),
                _ => {}
            }
        }
    }

    // 4. Nothing matched: the closest ids by edit distance over every name of an entry, those
    // that hold the query as letters (another generation of its number) first.
    let q = variants.first().cloned().unwrap_or_default();
    let holds = |ks: &Vec<String>| q.len() >= 3 && ks.iter().any(|k| k.contains(q.as_str()));
    let mut scored: Vec<(usize, usize)> = all_keys
        .iter()
        .enumerate()
        .map(|(i, ks)| {
            let distance = ks.iter().map(|k| levenshtein(&q, k)).min().unwrap_or(usize::MAX);
            (if holds(ks) { 0 } else { distance.max(1) }, i)
        })
        .collect();
    scored.sort();
    Err(scored
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(_, i)| id(&items[i]).to_string())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> &'static Catalog {
        match Catalog::builtin() {
            Ok(c) => c,
            Err(e) => panic!("builtin catalog does not load: {e}"),
        }
    }

    #[test]
    fn builtin_catalog_loads_and_validates() {
        let c = catalog();
        for gpu in &c.gpus {
            gpu.validate("test").expect("gpu validates");
        }
        for model in &c.models {
            model.validate("test").expect("model validates");
        }
        for id in [
            "rtx-4090",
            "rtx-3090",
            "a10",
            "a10g",
            "l4",
            "l40s",
            "l40",
            "a40",
            "rtx-a6000",
            "rtx-6000-ada",
            "a100-40g-pcie",
            "a100-40g-sxm",
            "a100-80g-sxm",
            "h100-sxm",
            "h100-pcie",
            "h200",
            "b200",
            "t4",
            "v100-16g",
        ] {
            assert!(c.gpu_ids().contains(&id), "missing GPU {id}");
        }
        for id in [
            "indextts2-gpt",
            "voxcpm-1.5",
            "qwen2-0.5b-instruct",
            "qwen2.5-0.5b-instruct",
            "qwen2.5-1.5b-instruct",
            "qwen2.5-7b-instruct",
            "llama-2-7b",
            "llama-3-8b",
            "llama-3.1-8b",
            "mistral-7b",
            "qwen3-8b",
        ] {
            assert!(c.model_ids().contains(&id), "missing model {id}");
        }
    }

    #[test]
    fn builtin_models_match_research_numbers() {
        let c = catalog();
        // (id, params_total, linear_flops_per_token) from shared/research/specs/models.yaml.
        let expected: [(&str, u64, f64); 14] = [
            ("qwen2-0.5b-instruct", 494032768, 987922432.0),
            ("qwen2.5-0.5b-instruct", 494032768, 987922432.0),
            ("qwen2.5-1.5b-instruct", 1543714304, 3087138816.0),
            ("qwen2.5-7b-instruct", 7615616512, 14140571648.0),
            ("qwen2.5-14b", 14770033664, 27981250560.0),
            ("qwen2.5-32b", 32763876352, 63968378880.0),
            ("qwen2.5-72b", 72706203648, 142916714496.0),
            ("qwen3-8b", 8190735360, 15136194560.0),
            ("llama-2-7b", 6738415616, 13214154752.0),
            ("llama-2-13b", 13015864320, 25703219200.0),
            ("llama-2-70b", 68976648192, 137426370560.0),
            ("llama-3.1-8b", 8030261248, 15009316864.0),
            ("llama-3.1-70b", 70553706496, 139003428864.0),
            ("mistral-7b", 7241732096, 14220787712.0),
        ];
        for (id, params, linear) in expected {
            let m = c.model(id).expect("model exists");
            assert_eq!(m.id, id);
            assert_eq!(m.params_total(), params, "{id} params_total");
            assert_eq!(m.linear_flops_per_token(), linear, "{id} linear flops");
        }
        let llama3 = c.model("llama-3-8b").expect("exists");
        assert_eq!(llama3.params_total(), 8030261248);
        assert_eq!(llama3.max_position_embeddings, 8192);
    }

    /// Llama 3 70B and Mistral 7B Instruct v0.2, the two 2024 benchmark staples the catalog
    /// lacked: the Hugging Face parameter counts (70,553,706,496 and 7,241,732,096, the shapes of
    /// Llama-3.1-70B and Mistral-7B-v0.1) and each release's context, under the names load tests
    /// print (their publishers' quantized repositories are in the table of
    /// `a_pre_quantized_checkpoint_is_its_listed_model_with_its_weight_format`).
    #[test]
    fn llama_3_70b_and_mistral_7b_v0_2_are_listed_under_the_names_benchmarks_use() {
        let c = catalog();
        let l = c.model("meta-llama/Meta-Llama-3-70B-Instruct").expect("listed");
        assert_eq!(l.id, "llama-3-70b");
        assert_eq!(l.params_total(), 70_553_706_496);
        assert_eq!(l.max_position_embeddings, 8192);
        let m = c.model("mistralai/Mistral-7B-Instruct-v0.2").expect("listed");
        assert_eq!(m.id, "mistral-7b-instruct-v0.2");
        assert_eq!(m.params_total(), 7_241_732_096);
        assert_eq!(m.max_position_embeddings, 32768);
        // v0.1 stays its own entry.
        assert_eq!(
            c.model("mistralai/Mistral-7B-Instruct-v0.1").expect("listed").id,
            "mistral-7b"
        );
    }

    #[test]
    fn builtin_tts_models() {
        let c = catalog();
        let tts = c.model("indextts2-gpt").expect("exists");
        assert_eq!(tts.kv_bytes_per_token(1), 122880);
        assert_eq!(tts.max_position_embeddings, 1818);
        assert_eq!(tts.params_total(), 495_649_856);
        assert_eq!(tts.weight_bytes(), 991_299_712);
        assert_eq!(tts.audio_tokens_per_s, Some(50.0));
        assert_eq!(tts.linear_flops_per_token(), 964695040.0);
        assert_eq!(tts.attn_flops_per_token_per_ctx_token(), 122880.0);

        let vox = c.model("voxcpm-1.5").expect("exists");
        assert_eq!(vox.params_total(), 801_729_856);
        assert_eq!(vox.kv_layers(), 32);
        assert_eq!(vox.kv_bytes_per_token(1), 16384);
        assert_eq!(vox.audio_tokens_per_s, Some(6.25));
        assert_eq!(vox.extra_flops_per_decode_token, 1195376640.0 + 38730203136.0);
        assert_eq!(vox.linear_flops_per_token(), 956301312.0);

        let qwen = c.model("qwen2.5-7b-instruct").expect("exists");
        assert_eq!(qwen.kv_bytes_per_token(1), 57344);
        assert_eq!(qwen.extra_flops_per_decode_token, 0.0);
        assert_eq!(qwen.audio_tokens_per_s, None);
    }

    #[test]
    fn builtin_gpu_numbers() {
        let c = catalog();
        let g = c.gpu("rtx-4090").expect("exists");
        assert_eq!(g.memory_total_bytes, 24091 * 1024 * 1024);
        assert_eq!(g.dense_fp16_flops, 165.2e12);
        assert_eq!(g.memory_bandwidth_bytes_s, 1008e9);
        assert_eq!(g.price_usd_per_hour, Some(0.6));
        for gpu in &c.gpus {
            assert!(!gpu.source.is_empty(), "{} has a source", gpu.id);
            // CUDA totals are all a little under the marketing size.
            let gib = gpu.memory_total_bytes as f64 / (1u64 << 30) as f64;
            assert!((14.0..300.0).contains(&gib), "{}: {gib} GiB", gpu.id);
        }
        assert_eq!(c.gpu("t4").expect("exists").dense_fp16_flops, 65e12);
    }

    #[test]
    fn loose_gpu_names() {
        let c = catalog();
        for name in [
            "4090",
            "rtx4090",
            "RTX 4090",
            "NVIDIA GeForce RTX 4090",
            "rtx-4090",
            "GeForce RTX 4090 24GB",
        ] {
            assert_eq!(c.gpu(name).map(|g| g.id.as_str()).ok(), Some("rtx-4090"), "{name}");
        }
        let cases = [
            ("a10", "a10"),
            ("A10G", "a10g"),
            ("L4", "l4"),
            ("l40", "l40"),
            ("L40S", "l40s"),
            ("NVIDIA L40S", "l40s"),
            ("A6000", "rtx-a6000"),
            ("RTX 6000 Ada Generation", "rtx-6000-ada"),
            ("NVIDIA A100-SXM4-80GB", "a100-80g-sxm"),
            ("a100 40gb pcie", "a100-40g-pcie"),
            ("NVIDIA H100 80GB HBM3", "h100-sxm"),
            ("h100 pcie", "h100-pcie"),
            ("H200", "h200"),
            ("Tesla T4", "t4"),
            ("v100", "v100-16g"),
            ("3090", "rtx-3090"),
        ];
        for (name, id) in cases {
            assert_eq!(c.gpu(name).map(|g| g.id.as_str()).ok(), Some(id), "{name}");
        }
    }

    #[test]
    fn a_gpu_whose_name_holds_another_gpus_is_not_taken_for_it() {
        let c = catalog();
        // "GH200" holds "H200" and "RTX 4090D" holds "RTX 4090" as letters, not as words.
        for (name, id) in [
            ("GH200", "gh200"),
            ("NVIDIA GH200 480GB", "gh200"),
            ("NVIDIA GH200 144G HBM3e", "gh200-144g"),
            ("H200", "h200"),
        ] {
            assert_eq!(c.gpu(name).map(|g| g.id.as_str()).ok(), Some(id), "{name}");
        }
        match c.gpu("RTX 4090D") {
            Err(Error::UnknownGpu { suggestions, .. }) => {
                assert!(suggestions.contains(&"rtx-4090".to_string()), "{suggestions:?}");
            }
            other => panic!("expected UnknownGpu for a 4090D, got {other:?}"),
        }
        assert!(spelled_by_words(
            &["rtx".into(), "4090".into(), "24gb".into()],
            "rtx4090"
        ));
        assert!(!spelled_by_words(&["gh200".into()], "h200"));
        // "RTX 6000" (a Turing Quadro, not catalogued) is a prefix of "RTX 6000 Ada": refused
        // with the Ada card as a suggestion, never run as it; the Ada card's own names still work.
        for name in ["RTX 6000", "rtx6000", "Quadro RTX 6000"] {
            match c.gpu(name) {
                Err(Error::UnknownGpu { suggestions, .. }) => {
                    assert!(
                        name.starts_with("Quadro") || suggestions.first().map(String::as_str) == Some("rtx-6000-ada"),
                        "{name}: {suggestions:?}"
                    );
                }
                other => panic!("expected UnknownGpu for {name}, got {other:?}"),
            }
        }
        // A memory size the entry does not have is refused; the 32 GB V100 is its own entry.
        match c.gpu("Tesla V100 48GB") {
            Err(Error::UnknownGpu { suggestions, .. }) => assert_eq!(suggestions.len(), 1),
            other => panic!("expected UnknownGpu for a 48 GB V100, got {other:?}"),
        }
        assert_eq!(
            c.gpu("Tesla V100-SXM2-32GB").map(|g| g.id.as_str()).ok(),
            Some("v100-32g")
        );
        for (name, id) in [
            ("Tesla V100-SXM2-16GB", "v100-16g"),
            ("NVIDIA GeForce RTX 4090 24GB", "rtx-4090"),
            ("NVIDIA A100-SXM4-80GB", "a100-80g-sxm"),
            ("NVIDIA A100-SXM4-40GB", "a100-40g-sxm"),
            ("NVIDIA H100 80GB HBM3", "h100-sxm"),
            ("NVIDIA H200 141GB", "h200"),
        ] {
            assert_eq!(c.gpu(name).map(|g| g.id.as_str()).ok(), Some(id), "{name}");
        }
        for name in [
            "RTX 6000 Ada",
            "rtx-6000-ada",
            "NVIDIA RTX 6000 Ada Generation",
            "6000 ada",
        ] {
            assert_eq!(c.gpu(name).map(|g| g.id.as_str()).ok(), Some("rtx-6000-ada"), "{name}");
        }
    }

    #[test]
    fn ambiguous_gpu_names_list_the_candidates() {
        let c = catalog();
        match c.gpu("a100") {
            Err(Error::UnknownGpu { name, suggestions }) => {
                assert_eq!(name, "a100");
                for id in ["a100-40g-pcie", "a100-40g-sxm", "a100-80g-sxm", "a100-80g-pcie"] {
                    assert!(suggestions.iter().any(|s| s == id), "{suggestions:?} lacks {id}");
                }
            }
            other => panic!("expected UnknownGpu, got {other:?}"),
        }
        match c.gpu("h100") {
            Err(Error::UnknownGpu { suggestions, .. }) => {
                assert!(suggestions.contains(&"h100-sxm".to_string()));
                assert!(suggestions.contains(&"h100-pcie".to_string()));
            }
            other => panic!("expected UnknownGpu, got {other:?}"),
        }
    }

    #[test]
    fn unknown_gpu_suggests_the_closest() {
        let c = catalog();
        match c.gpu("rtx 4080") {
            Err(Error::UnknownGpu { suggestions, .. }) => {
                assert_eq!(
                    suggestions.first().map(String::as_str),
                    Some("rtx-4090"),
                    "{suggestions:?}"
                );
            }
            other => panic!("expected UnknownGpu, got {other:?}"),
        }
        match c.gpu("H2OO") {
            Err(Error::UnknownGpu { suggestions, .. }) => assert!(suggestions.contains(&"h200".to_string())),
            other => panic!("expected UnknownGpu, got {other:?}"),
        }
        assert!(matches!(c.gpu(""), Err(Error::UnknownGpu { .. })));
        assert!(matches!(c.gpu("---"), Err(Error::UnknownGpu { .. })));
    }

    #[test]
    fn exact_model_names_and_refused_near_misses() {
        let c = catalog();
        let cases = [
            ("Qwen/Qwen2.5-7B-Instruct", "qwen2.5-7b-instruct"),
            ("Qwen2.5-7B-Instruct", "qwen2.5-7b-instruct"),
            ("llama-3.1-8b", "llama-3.1-8b"),
            ("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b"),
            ("meta-llama/Meta-Llama-3-8B-Instruct", "llama-3-8b"),
            ("llama-2-7b", "llama-2-7b"),
            ("meta-llama/Llama-2-7b-chat-hf", "llama-2-7b"),
            ("indextts2", "indextts2-gpt"),
            ("index-tts-2", "indextts2-gpt"),
            ("IndexTTS-2", "indextts2-gpt"),
            ("openbmb/VoxCPM1.5", "voxcpm-1.5"),
            ("voxcpm", "voxcpm-1.5"),
            ("mistralai/Mistral-7B-Instruct-v0.1", "mistral-7b"),
            ("Qwen/Qwen3-8B", "qwen3-8b"),
            ("Qwen/Qwen2-0.5B-Instruct", "qwen2-0.5b-instruct"),
        ];
        for (name, id) in cases {
            assert_eq!(c.model(name).map(|m| m.id.as_str()).ok(), Some(id), "{name}");
        }
        // Near misses are refused with the entry they resemble, never run as another model: a
        // base model is not its Instruct sibling, nor the Instruct model its base.
        for (name, suggestion) in [
            ("qwen2.5-7b", "qwen2.5-7b-instruct"),
            ("Qwen/Qwen2.5-7B", "qwen2.5-7b-instruct"),
            ("qwen2.5-0.5b", "qwen2.5-0.5b-instruct"),
            ("Qwen/Qwen2.5-3B", "qwen2.5-3b-instruct"),
            ("lama-3.1-8b", "llama-3.1-8b"),
        ] {
            match c.model(name) {
                Err(Error::UnknownModel { suggestions, .. }) => {
                    assert_eq!(suggestions.first().map(String::as_str), Some(suggestion), "{name}")
                }
                other => panic!("{name}: expected UnknownModel, got {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_model_suggests_the_closest() {
        let c = catalog();
        match c.model("qwen2.5-8b-instruct") {
            Err(Error::UnknownModel { name, suggestions }) => {
                assert_eq!(name, "qwen2.5-8b-instruct");
                assert!(
                    suggestions.contains(&"qwen2.5-7b-instruct".to_string()),
                    "{suggestions:?}"
                );
            }
            other => panic!("expected UnknownModel, got {other:?}"),
        }
        match c.model("llamma-3.1-8b") {
            Err(Error::UnknownModel { suggestions, .. }) => {
                assert_eq!(
                    suggestions.first().map(String::as_str),
                    Some("llama-3.1-8b"),
                    "{suggestions:?}"
                );
            }
            other => panic!("expected UnknownModel, got {other:?}"),
        }
        match c.model("llama3") {
            Err(Error::UnknownModel { suggestions, .. }) => {
                assert!(suggestions.contains(&"llama-3-8b".to_string()), "{suggestions:?}");
                assert!(suggestions.contains(&"llama-3.1-8b".to_string()), "{suggestions:?}");
            }
            other => panic!("expected UnknownModel, got {other:?}"),
        }
    }

    #[test]
    fn normalize_and_distance() {
        assert_eq!(normalize_name("NVIDIA GeForce RTX 4090"), "rtx4090");
        assert_eq!(normalize_name("rtx-4090"), "rtx4090");
        assert_eq!(normalize_name("Qwen/Qwen2.5-7B-Instruct"), "qwenqwen257binstruct");
        assert_eq!(normalize_name(" -- "), "");
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("abc", "abc"), 0);
        let names = ["rtx-4090", "rtx-3090", "a100-80g-sxm"];
        assert_eq!(
            closest_names("RTX 4080", names.iter().copied(), 2),
            vec!["rtx-4090", "rtx-3090"]
        );
        assert!(closest_names("x", names.iter().copied(), 0).is_empty());
    }

    #[test]
    fn duplicate_names_are_refused() {
        let gpus = r#"
gpus:
  - id: one
    name: One
    architecture: ada
    aliases: ["same"]
    memory_total_gib_cuda: 10
    memory_bandwidth_gb_s: 100
    dense_fp16_tflops: 10
    interconnect: {kind: pcie, bandwidth_gb_s: 16}
    source: test
  - id: two
    name: Two
    architecture: ada
    aliases: ["Same"]
    memory_total_gib_cuda: 10
    memory_bandwidth_gb_s: 100
    dense_fp16_tflops: 10
    interconnect: {kind: pcie, bandwidth_gb_s: 16}
    source: test
"#;
        let models = "models: []\n";
        match Catalog::from_yaml(gpus, "g.yaml", models, "m.yaml") {
            Err(Error::InvalidField { origin, field, .. }) => {
                assert_eq!(origin, "g.yaml");
                assert_eq!(field, "aliases");
            }
            other => panic!("expected InvalidField, got {other:?}"),
        }
    }

    #[test]
    fn bad_yaml_is_a_parse_error() {
        match Catalog::from_yaml("gpus: [ {", "g.yaml", "models: []", "m.yaml") {
            Err(Error::Parse { origin, .. }) => assert_eq!(origin, "g.yaml"),
            other => panic!("expected Parse, got {other:?}"),
        }
    }

    #[test]
    fn a_pre_quantized_checkpoint_is_its_listed_model_with_its_weight_format() {
        use crate::spec::engine::Quantization;
        let c = catalog();
        for (name, id, q) in [
            (
                "neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8",
                "llama-3.1-8b",
                Quantization::Fp8,
            ),
            (
                "RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8-dynamic",
                "llama-3.1-8b",
                Quantization::Fp8,
            ),
            ("Qwen/Qwen2.5-7B-Instruct-AWQ", "qwen2.5-7b-instruct", Quantization::Awq),
            (
                "hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4",
                "llama-3.1-70b",
                Quantization::Awq,
            ),
            (
                "Qwen/Qwen2.5-7B-Instruct-GPTQ-Int4",
                "qwen2.5-7b-instruct",
                Quantization::Gptq,
            ),
            (
                "Qwen/Qwen2.5-7B-Instruct-GPTQ-Int8",
                "qwen2.5-7b-instruct",
                Quantization::GptqInt8,
            ),
            (
                "RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w4a16",
                "llama-3.1-8b",
                Quantization::GptqMarlin,
            ),
            ("Qwen/Qwen3-32B-FP8", "qwen3-32b", Quantization::Fp8),
            (
                "casperhansen/llama-3-70b-instruct-awq",
                "llama-3-70b",
                Quantization::Awq,
            ),
            ("TheBloke/Llama-2-7B-Chat-AWQ", "llama-2-7b", Quantization::Awq),
            ("TheBloke/Llama-2-13B-chat-GPTQ", "llama-2-13b", Quantization::Gptq),
            (
                "TheBloke/Mistral-7B-Instruct-v0.2-AWQ",
                "mistral-7b-instruct-v0.2",
                Quantization::Awq,
            ),
            ("Qwen/Qwen3-14B-AWQ", "qwen3-14b", Quantization::Awq),
            (
                "Qwen/Qwen2-72B-Instruct-GPTQ-Int4",
                "qwen2-72b-instruct",
                Quantization::Gptq,
            ),
        ] {
            let m = c.model(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(m.id, id, "{name}");
            assert_eq!(m.checkpoint_quantization, Some(q), "{name}");
            assert_eq!(m.name, name);
            let note = m.resolved_from.as_deref().unwrap_or("");
            assert!(note.contains(id) && note.contains(q.name()), "{name}: {note}");
            // Everything but the weight format is the listed entry's.
            let base = c.model(id).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(m.num_hidden_layers, base.num_hidden_layers);
            assert_eq!(m.max_position_embeddings, base.max_position_embeddings);
            assert_eq!(base.checkpoint_quantization, None);
            // One copy per name, however often it is asked for.
            assert!(std::ptr::eq(m, c.model(name).unwrap_or(base)));
        }
        // A listed FP8 checkpoint stays its own entry.
        let fp8 = c.model("Qwen/Qwen3-30B-A3B-FP8").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fp8.id, "qwen3-30b-a3b-fp8");
        assert_eq!(fp8.resolved_from, None);
    }

    #[test]
    fn a_checkpoint_in_a_format_servecast_does_not_cost_is_refused_naming_it() {
        let c = catalog();
        for (name, words) in [
            ("unsloth/Meta-Llama-3.1-8B-Instruct-bnb-4bit", "bitsandbytes"),
            ("RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w8a8", "INT8 (W8A8)"),
            ("Qwen/Qwen2.5-7B-Instruct-GGUF", "GGUF"),
            ("openai/gpt-oss-20b-FP8", "mxfp4 checkpoint"),
            ("Qwen/Qwen2.5-7B-Instruct-AWQ-GPTQ", "two formats at once"),
            ("Qwen/Qwen2.5-7B-Instruct-Int4", "does not say"),
        ] {
            match c.model(name) {
                Err(Error::InvalidField { message, .. }) => assert!(message.contains(words), "{name}: {message}"),
                other => panic!("{name}: expected InvalidField, got {other:?}"),
            }
        }
        // The rest of the name must be a listed name exactly: digits are not run together
        // ("15B" is not "1.5B"), and an unlisted base is no entry's checkpoint.
        for (name, suggestion) in [
            ("Qwen/Qwen2.5-15B-Instruct-AWQ", "qwen2.5-1.5b-instruct"),
            ("Qwen/Qwen2.5-15B-Instruct", "qwen2.5-1.5b-instruct"),
            ("Qwen/Qwen2.5-8B-Instruct-AWQ", ""),
        ] {
            match c.model(name) {
                Err(Error::UnknownModel { suggestions, .. }) => {
                    if !suggestion.is_empty() {
                        assert_eq!(suggestions.first().map(String::as_str), Some(suggestion), "{name}");
                    }
                }
                other => panic!("{name}: expected UnknownModel, got {other:?}"),
            }
        }
    }

    #[test]
    fn the_chinese_market_a800_and_h800_are_their_twins_with_a_narrower_nvlink() {
        use crate::spec::engine::large_batch_defaults;
        let c = catalog();
        let gpu = |name: &str| c.gpu(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (name, id, twin) in [
            ("NVIDIA A800-SXM4-80GB", "a800-80g-sxm", "a100-80g-sxm"),
            ("NVIDIA A800 80GB PCIe", "a800-80g-pcie", "a100-80g-pcie"),
            ("NVIDIA H800", "h800", "h100-sxm"),
            ("NVIDIA H800 PCIe", "h800-pcie", "h100-pcie"),
        ] {
            let (g, t) = (gpu(name), gpu(twin));
            assert_eq!(g.id, id);
            assert_eq!(
                (g.dense_fp16_flops, g.memory_bandwidth_bytes_s, g.memory_total_bytes),
                (t.dense_fp16_flops, t.memory_bandwidth_bytes_s, t.memory_total_bytes),
                "{name}"
            );
        }
        // NVLink 400 GB/s in all, against the A100's 600 and the H100's 900.
        assert!(
            gpu("a800-80g-sxm").interconnect.bandwidth_bytes_s < gpu("a100-80g-sxm").interconnect.bandwidth_bytes_s
        );
        assert!(gpu("h800").interconnect.bandwidth_bytes_s < gpu("h100-sxm").interconnect.bandwidth_bytes_s);
        // "A800" alone is either form factor.
        assert!(matches!(c.gpu("A800"), Err(Error::UnknownGpu { .. })));
        // vLLM ≥ 0.9 keeps its smaller batch defaults for devices whose name holds "a100": the
        // A800's does not, so it gets the H100's 1024 sequences and 8192 tokens.
        assert!(large_batch_defaults(gpu("a800-80g-sxm"), Some("0.11.0")));
        assert!(!large_batch_defaults(gpu("a100-80g-sxm"), Some("0.11.0")));
        // Before 0.8.5 only names holding H100 or H200 had them: not the H800.
        assert!(!large_batch_defaults(gpu("h800"), Some("0.8.4")));
    }
}
