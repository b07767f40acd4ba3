//! Built-in profiles (data/profiles), embedded in the binary and picked by GPU, model and engine.

use std::sync::OnceLock;

use crate::cost::{Profile, ProfileKind};
use crate::error::Result;
use crate::spec::engine::EngineVersion;

/// The embedded profile files: (path, YAML).
pub const BUILTIN_PROFILES: &[(&str, &str)] = &[
    (
        "data/profiles/rtx4090-indextts2-gpt-vllm0.10.yaml",
        include_str!("../data/profiles/rtx4090-indextts2-gpt-vllm0.10.yaml"),
    ),
    (
        "data/profiles/a10-qwen2.5-7b-vllm0.6.yaml",
        include_str!("../data/profiles/a10-qwen2.5-7b-vllm0.6.yaml"),
    ),
    (
        "data/profiles/l40s-qwen2-0.5b-vllm0.6.yaml",
        include_str!("../data/profiles/l40s-qwen2-0.5b-vllm0.6.yaml"),
    ),
    (
        "data/profiles/rtx4090-voxcpm1.5-nanovllm.yaml",
        include_str!("../data/profiles/rtx4090-voxcpm1.5-nanovllm.yaml"),
    ),
];

/// Parses every built-in profile (once per process; sweeps look them up per configuration).
pub fn builtin_profiles() -> Result<Vec<Profile>> {
    static PARSED: OnceLock<std::result::Result<Vec<Profile>, String>> = OnceLock::new();
    let parse = || -> Result<Vec<Profile>> {
        BUILTIN_PROFILES
            .iter()
            .map(|(path, text)| Profile::from_yaml(text, path))
            .collect()
    };
    match PARSED.get_or_init(|| parse().map_err(|e| e.to_string())) {
        Ok(profiles) => Ok(profiles.clone()),
        // Parsing is deterministic: parse again to hand back the typed error.
        Err(_) => parse(),
    }
}

/// The built-in fitted profile for this GPU, model and engine, if one exists.
pub fn builtin_profile_for(gpu_id: &str, model_id: &str, engine: EngineVersion) -> Result<Option<Profile>> {
    Ok(builtin_profiles()?
        .into_iter()
        .find(|p| p.gpu.as_deref() == Some(gpu_id) && p.model.as_deref() == Some(model_id) && p.engine == engine))
}

/// The profile a scenario uses when none is given: the built-in one fitted on this GPU, model
/// and engine; else the host-side terms fitted for this model and engine on another GPU over this
/// GPU's roofline ([`Profile::transferred_to`]); else `None` (the engine's roofline prior).
pub fn builtin_profile_or_transfer(
    gpu: &crate::spec::GpuSpec,
    model_id: &str,
    engine: EngineVersion,
    line: crate::spec::engine::ReleaseLine,
) -> Result<Option<Profile>> {
    let gpu_id = gpu.id.as_str();
    let profiles = builtin_profiles()?;
    let same = |p: &&Profile| p.model.as_deref() == Some(model_id) && p.engine == engine;
    if let Some(p) = profiles.iter().filter(same).find(|p| p.gpu.as_deref() == Some(gpu_id)) {
        return Ok(Some(p.clone()));
    }
    Ok(profiles
        .iter()
        .filter(same)
        .find(|p| p.kind == ProfileKind::Fitted)
        .map(|p| p.transferred_to(gpu, line)))
}

/// Finds a profile by id among the built-in ones.
pub fn builtin_profile_by_id(id: &str) -> Result<Option<Profile>> {
    Ok(builtin_profiles()?.into_iter().find(|p| p.id == id))
}
