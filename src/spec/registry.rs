//! Which model classes (and `--quantization` methods) each vLLM release knows, and the words a
//! release uses when it does not know the one a run names.
//!
//! vLLM starts a model only if its registry (`vllm/model_executor/models/registry.py`, before
//! 0.6.3 `models/__init__.py`) maps the config's `architectures` to a class; otherwise start-up
//! stops with a `ValueError` (`_raise_for_unsupported`, before 0.6.4 `get_model_architecture`).
//! The spans below were read from the registry of every release's source distribution or wheel
//! on PyPI, 0.4.1 to 0.34.0 (docs/research/vllm-registry.md); a class already in 0.4.1 is not
//! checked further back.

use crate::error::RefusalKind;
use crate::spec::engine::{release_patch, EngineVersion, Quantization};
use crate::{Error, Result};

/// A release `(major, minor, patch)`.
pub type Release = (u32, u32, u32);

/// The model classes servecast reads from config.json: the first release whose registry has it
/// ((0, 0, 0): already in 0.4.1, the oldest read) and the last (`None`: still in 0.34.0).
const SPANS: [(&str, Release, Option<Release>); 25] = [
    ("LlamaForCausalLM", (0, 0, 0), None),
    ("MistralForCausalLM", (0, 0, 0), None),
    ("Qwen2ForCausalLM", (0, 0, 0), None),
    ("Qwen3ForCausalLM", (0, 8, 4), None),
    ("Phi3ForCausalLM", (0, 4, 2), None),
    ("GPT2LMHeadModel", (0, 0, 0), None),
    ("Gemma2ForCausalLM", (0, 5, 1), None),
    ("Gemma3ForCausalLM", (0, 8, 0), None),
    ("Gemma3ForConditionalGeneration", (0, 8, 0), None),
    ("MixtralForCausalLM", (0, 0, 0), None),
    ("Qwen2MoeForCausalLM", (0, 0, 0), None),
    ("Qwen3MoeForCausalLM", (0, 8, 4), None),
    ("Glm4MoeForCausalLM", (0, 10, 0), None),
    ("GptOssForCausalLM", (0, 10, 1), None),
    ("Llama4ForConditionalGeneration", (0, 8, 3), None),
    ("DeepseekV2ForCausalLM", (0, 5, 1), None),
    ("DeepseekV3ForCausalLM", (0, 6, 6), None),
    ("Qwen3NextForCausalLM", (0, 10, 2), None),
    ("Qwen3_5MoeForConditionalGeneration", (0, 17, 0), None),
    ("Qwen3_5MoeForCausalLM", (0, 27, 0), None),
    ("NemotronHForCausalLM", (0, 9, 1), None),
    ("JambaForCausalLM", (0, 5, 1), None),
    ("GraniteMoeHybridForCausalLM", (0, 9, 0), None),
    ("BambaForCausalLM", (0, 7, 3), Some((0, 23, 0))),
    ("FalconH1ForCausalLM", (0, 9, 0), None),
];

/// The release an engine line stands for when no release is stated: the last of a V0 line (if
/// none of its releases knows a class, neither does the line); `None` for V1 (the newest release
/// knows every class servecast reads, Bamba aside) and nano-vllm (not vLLM's registry).
fn line_release(version: EngineVersion) -> Option<Release> {
    match version {
        EngineVersion::Vllm05 => Some((0, 5, 5)),
        EngineVersion::Vllm0600 => Some((0, 6, 1)),
        EngineVersion::Vllm06 => Some((0, 6, 6)),
        EngineVersion::Vllm010 | EngineVersion::NanoVllm => None,
    }
}

/// Whether `release`'s registry has `architecture`; `None` when servecast has no span for it.
pub fn registered(architecture: &str, release: Release) -> Option<bool> {
    SPANS
        .iter()
        .find(|(name, _, _)| *name == architecture)
        .map(|(_, first, last)| release >= *first && last.is_none_or(|l| release <= l))
}

/// Refuses a model whose class the release (stated, or the last of its V0 line) does not know,
/// with that release's words; classes servecast has no span for pass.
pub fn check(architecture: Option<&str>, version: EngineVersion, release: Option<&str>) -> Result<()> {
    let Some(arch) = architecture else {
        return Ok(());
    };
    // `0.8` runs Qwen3, which arrived in 0.8.4.
    let Some((at, label)) = run_release(version, release) else {
        return Ok(());
    };
    if registered(arch, at) != Some(false) {
        return Ok(());
    }
    let removed = SPANS
        .iter()
        .find(|(name, _, _)| *name == arch)
        .and_then(|(_, _, last)| *last)
        .filter(|last| at > *last);
    let message = match removed {
        // `_PREVIOUSLY_SUPPORTED_MODELS` (0.10+) names the last release that had it.
        Some((a, b, c)) => format!(
            "ValueError: Model architecture {arch} was supported in vLLM until v{a}.{b}.{c}, and is not \
             supported anymore. Please use an older version of vLLM if you want to use this model architecture."
        ),
        None => {
            // `get_supported_archs()` is a list up to 0.6.3 and the registry's dict keys after.
            let listed = if at <= (0, 6, 3) { "[…]" } else { "dict_keys([…])" };
            format!(
                "ValueError: Model architectures ['{arch}'] are not supported for now. Supported architectures: \
                 {listed} (vLLM {label}'s registry{})",
                first_release(arch).map_or(String::new(), |(a, b, c)| format!("; {arch} arrived in {a}.{b}.{c}"))
            )
        }
    };
    Err(Error::EngineRefused {
        kind: RefusalKind::UnsupportedArchitecture,
        message,
    })
}

/// The release a run names, as a tuple and as printed: a release without its patch (`0.8`) could
/// be any of that minor's patches, so the last one decides; a V0 line without a release stands
/// for its last release; `None` for V1 and nano-vllm without a release.
fn run_release(version: EngineVersion, release: Option<&str>) -> Option<(Release, String)> {
    if version == EngineVersion::NanoVllm {
        return None;
    }
    let stated = release.and_then(|r| {
        let (major, minor, patch) = release_patch(r)?;
        let parts = r
            .trim()
            .trim_start_matches(|c: char| !c.is_ascii_digit())
            .split('.')
            .count();
        Some(if parts < 3 {
            ((major, minor, u32::MAX), format!("{major}.{minor}"))
        } else {
            ((major, minor, patch), format!("{major}.{minor}.{patch}"))
        })
    });
    stated.or_else(|| line_release(version).map(|(a, b, c)| ((a, b, c), format!("{a}.{b}.{c}"))))
}

/// The first release whose `--quantization` accepts each method servecast models (read from
/// `quantization/__init__.py`'s `QUANTIZATION_METHODS`, 0.4.1–0.34; (0, 0, 0): already in
/// 0.4.1). NVFP4 was spelled `nvfp4` in 0.8.x and `modelopt_fp4` from 0.9 (servecast takes both).
fn quantization_first(method: Quantization) -> Release {
    match method {
        Quantization::GptqMarlin => (0, 4, 2),
        Quantization::AwqMarlin => (0, 5, 3),
        Quantization::Nvfp4 => (0, 8, 0),
        Quantization::Mxfp4 => (0, 10, 1),
        Quantization::Unquantized
        | Quantization::Fp8
        | Quantization::Awq
        | Quantization::Gptq
        | Quantization::GptqInt8 => (0, 0, 0),
    }
}

/// Whether the release offers `method` (true when the release is not known).
pub fn offers_quantization(method: Quantization, version: EngineVersion, release: Option<&str>) -> bool {
    run_release(version, release).is_none_or(|(at, _)| at >= quantization_first(method))
}

/// Refuses `--quantization` naming a method the release's argument parser does not offer, in
/// argparse's words (its choices were `QUANTIZATION_METHODS` up to 0.10; every method servecast
/// models is offered from 0.10.1).
pub fn check_quantization(flag: Option<Quantization>, version: EngineVersion, release: Option<&str>) -> Result<()> {
    let (Some(method), Some((at, _))) = (flag, run_release(version, release)) else {
        return Ok(());
    };
    if at >= quantization_first(method) {
        return Ok(());
    }
    let name = match method {
        Quantization::GptqInt8 => "gptq",
        m => m.name(),
    };
    Err(Error::EngineRefused {
        kind: RefusalKind::InvalidConfig,
        message: format!(
            "usage: vllm serve [model_tag] [options]\nvllm serve: error: argument --quantization/-q: invalid \
             choice: '{name}' (choose from …)"
        ),
    })
}

/// Refuses a Nemotron 3 checkpoint (Nemotron-H with MoE layers, `E` in
/// `hybrid_override_pattern`) on a release whose `nemotron_h.py` has no MoE layer kind
/// (before 0.11.2: its `ALL_DECODER_LAYER_TYPES` holds `M`, `-` and `*`, so building the model
/// stops with Python's `KeyError: 'E'`).
pub fn check_layer_kinds(model: &crate::spec::ModelSpec, release: Option<&str>) -> Result<()> {
    let nemotron_moe = model.vllm_architecture.as_deref() == Some("NemotronHForCausalLM")
        && model.moe.is_some()
        && model.recurrent.is_some_and(|r| r.nemotron_h_state_rule);
    match release.and_then(release_patch) {
        Some(r) if nemotron_moe && r < (0, 11, 2) => Err(Error::EngineRefused {
            kind: RefusalKind::UnsupportedArchitecture,
            message: "KeyError: 'E' (vLLM's nemotron_h.py knows the layer kinds M, - and * only; \
                      MoE layers arrived in 0.11.2)"
                .to_string(),
        }),
        _ => Ok(()),
    }
}

/// The first release that caches MLA models (DeepSeek-V2/V3/R1, Kimi-K2) as their latent
/// (`kv_lora_rank + qk_rope_head_dim` per token per layer): vLLM 0.7.1 ("MLA optimization for
/// Deepseek family of models … ~10x the memory capacity for tokens", its release notes).
pub const FIRST_MLA_CACHE: Release = (0, 7, 1);

/// Refuses an MLA model on a release before [`FIRST_MLA_CACHE`], naming what is missing: those
/// releases ran DeepSeek's attention as ordinary multi-head attention, caching every head's key
/// and value (padded to a kernel's head size), a layout servecast does not model; costing it with
/// the latent cache would print ten times the KV capacity vLLM had. `version` without a release
/// decides by its line: 0.2–0.5 and 0.6.0/0.6.1 never had it; the 0.6–0.7 line needs 0.7.1 or later
/// named; V1 (0.8+) always has it.
pub fn check_mla_cache(model: &crate::spec::ModelSpec, version: EngineVersion, release: Option<&str>) -> Result<()> {
    if model.mla.is_none() {
        return Ok(());
    }
    let has = match release.and_then(release_patch) {
        Some(r) => r >= FIRST_MLA_CACHE,
        None => matches!(version, EngineVersion::Vllm010 | EngineVersion::NanoVllm),
    };
    if has {
        return Ok(());
    }
    // A release number as written (`0.6.6`, `v0.6.6`); an engine id (`vllm-0.6`) names a line.
    let number = release
        .map(str::trim)
        .filter(|r| !r.to_ascii_lowercase().starts_with("vllm") && release_patch(r).is_some());
    let which = match number {
        Some(r) => format!("vLLM {}", r.trim_start_matches(['v', 'V'])),
        None => format!("the {version} engine"),
    };
    Err(Error::invalid(
        "engine",
        "release",
        format!(
            "{} uses multi-head latent attention (MLA), which vLLM caches as its latent from 0.7.1 on; {which} \
             ran it as plain multi-head attention, caching every head's key and value, which servecast does \
             not model (give --engine 0.7.1 or later)",
            model.id
        ),
    ))
}

/// The first release whose registry has `architecture` (`None`: unknown, or already in 0.4.1).
pub fn first_release(architecture: &str) -> Option<Release> {
    SPANS
        .iter()
        .find(|(name, _, _)| *name == architecture)
        .map(|(_, first, _)| *first)
        .filter(|first| *first > (0, 0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_bound_the_releases_that_load_each_class() {
        assert_eq!(registered("Qwen3MoeForCausalLM", (0, 8, 3)), Some(false));
        assert_eq!(registered("Qwen3MoeForCausalLM", (0, 8, 4)), Some(true));
        assert_eq!(registered("BambaForCausalLM", (0, 23, 0)), Some(true));
        assert_eq!(registered("BambaForCausalLM", (0, 24, 0)), Some(false));
        assert_eq!(registered("SomethingElse", (0, 24, 0)), None);
    }

    /// DeepSeek's latent cache arrived in 0.7.1: the releases before it are refused (exit 2, no
    /// figures with ten times the KV capacity vLLM had), 0.7.1 and V1 run, and dense models pass.
    #[test]
    fn mla_models_need_the_release_that_caches_the_latent() {
        let c = crate::spec::Catalog::builtin().expect("catalog");
        let v2 = c.model("deepseek-v2-lite").expect("listed");
        let refused = |v: EngineVersion, r: Option<&str>| check_mla_cache(v2, v, r).is_err();
        assert!(refused(EngineVersion::Vllm05, Some("0.5.3")));
        assert!(refused(EngineVersion::Vllm06, Some("0.6.6")));
        assert!(refused(EngineVersion::Vllm06, Some("0.7.0")));
        assert!(refused(EngineVersion::Vllm06, None));
        assert!(refused(EngineVersion::Vllm05, None));
        assert!(!refused(EngineVersion::Vllm06, Some("0.7.1")));
        assert!(!refused(EngineVersion::Vllm010, Some("0.8.5")));
        assert!(!refused(EngineVersion::Vllm010, None));
        let msg = check_mla_cache(v2, EngineVersion::Vllm06, Some("v0.6.6"))
            .expect_err("refused")
            .to_string();
        assert!(msg.contains("vLLM 0.6.6 ran it as plain multi-head attention"), "{msg}");
        let dense = c.model("llama-3-8b").expect("listed");
        assert!(check_mla_cache(dense, EngineVersion::Vllm05, Some("0.5.3")).is_ok());
    }
}
