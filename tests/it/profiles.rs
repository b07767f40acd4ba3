//! Which profile a scenario runs on: the one fitted on its GPU, else the host-side terms fitted for
//! the same model and engine on another GPU over this GPU's roofline, else the engine's prior.

use servecast::cost::{CostParams, ProfileKind};
use servecast::measured::builtin_reports;
use servecast::profiles::builtin_profile_for;
use servecast::report::compare::compare_level;
use servecast::scenario::Scenario;
use servecast::spec::engine::EngineVersion;

/// VoxCPM 1.5 under nano-vllm at seed 003's §5 settings (util 0.5, 64 sequences, 29 characters).
fn voxcpm_on(gpu: &str) -> Scenario {
    let reports = builtin_reports().unwrap();
    let r = reports.iter().find(|r| r.id == "voxcpm-u0.5-s64").unwrap();
    Scenario::builder()
        .from_report(r)
        .without_report()
        .gpu(gpu)
        .build()
        .unwrap()
}

fn x_realtime(s: &Scenario) -> f64 {
    s.run().unwrap().levels[0].tts.as_ref().unwrap().throughput_x_realtime
}

#[test]
fn another_gpu_gets_the_host_side_terms_fitted_for_the_model_and_its_own_roofline() {
    let fitted = builtin_profile_for("rtx-4090", "voxcpm-1.5", EngineVersion::NanoVllm)
        .unwrap()
        .unwrap();
    let prior = CostParams::prior(EngineVersion::NanoVllm);
    for gpu in ["l40s", "h100-sxm", "a10"] {
        let s = voxcpm_on(gpu);
        let p = &s.profile;
        assert_eq!(p.kind, ProfileKind::Transferred, "{gpu}: {}", p.id);
        assert_eq!(p.gpu.as_deref(), Some(s.gpu.id.as_str()));
        // Host-side terms from the fit; efficiencies (GPU-side) from the prior; no card memory.
        assert_eq!(p.cost.overhead_terms(), fitted.cost.overhead_terms(), "{gpu}");
        assert_eq!(p.cost.compute_efficiency, prior.compute_efficiency);
        assert_eq!(p.cost.weights_bandwidth_efficiency, prior.weights_bandwidth_efficiency);
        assert_eq!(p.memory, Default::default(), "{gpu}: card memory stays with its card");
        assert!(p.source.contains("fitted on rtx-4090"), "{}", p.source);
    }
    // At 32 sequences per engine VoxCPM's step is compute-bound (its diffusion head), so the GPU's
    // FLOPs order the predictions: H100 (989 TFLOPS dense BF16) > L40S (362) > 4090 (165) > A10 (125).
    let x: Vec<f64> = ["h100-sxm", "l40s", "rtx-4090", "a10"]
        .iter()
        .map(|g| x_realtime(&voxcpm_on(g)))
        .collect();
    println!("VoxCPM §5 setting (64 in flight), × real time on H100 / L40S / 4090 / A10: {x:.1?}");
    assert!(x.windows(2).all(|w| w[0] > w[1]), "{x:?}");
}

#[test]
fn the_fitted_terms_carry_the_model_s_host_path_and_the_roofline_the_rest() {
    // Moved onto its own GPU, the transferred profile loses nothing that §5 measures: every cell
    // stays within 10%. The engine's generic prior, which lacks VoxCPM's eager prefill, API server
    // and per-sequence host work, misses by more than half.
    let fitted = builtin_profile_for("rtx-4090", "voxcpm-1.5", EngineVersion::NanoVllm)
        .unwrap()
        .unwrap();
    let catalog = servecast::spec::catalog::Catalog::builtin().unwrap();
    let moved = fitted.transferred_to(
        catalog.gpu("rtx-4090").unwrap(),
        servecast::spec::engine::ReleaseLine::NanoVllm,
    );
    let reports = builtin_reports().unwrap();
    for r in reports
        .iter()
        .filter(|r| r.id.starts_with("voxcpm-u0.5-s") && r.id.len() <= 16)
    {
        let run = |p: servecast::cost::Profile| {
            let s = Scenario::builder().from_report(r).profile(p).build().unwrap();
            let pred = s.run().unwrap();
            compare_level(&r.levels[0], &pred.levels[0])
                .figure("audio_throughput_x_realtime")
                .unwrap()
                .error_pct
        };
        let (e_moved, e_prior) = (
            run(moved.clone()),
            run(servecast::cost::Profile::roofline(EngineVersion::NanoVllm)),
        );
        println!("{}: transferred {e_moved:+.1}%, prior {e_prior:+.1}%", r.id);
        assert!(e_moved.abs() <= 10.0, "{}: {e_moved:+.1}%", r.id);
        assert!(e_prior.abs() > 50.0, "{}: {e_prior:+.1}%", r.id);
    }
}

#[test]
fn a_model_fitted_nowhere_runs_on_its_engine_prior() {
    let reports = builtin_reports().unwrap();
    let r = reports.iter().find(|r| r.id == "a10-qwen2.5-7b-vllm0.6").unwrap();
    let s = Scenario::builder()
        .from_report(r)
        .without_report()
        .model("llama-3.1-8b")
        .build()
        .unwrap();
    assert_eq!(s.profile.kind, ProfileKind::Roofline);
    assert_eq!(s.profile.engine, s.engine.version);
}

#[test]
fn no_shipped_profile_has_a_term_at_a_bound_or_beyond_3_sigma_without_its_reason() {
    use servecast::cost::prior::Term;
    for profile in servecast::profiles::builtin_profiles().unwrap() {
        if profile.engine == EngineVersion::NanoVllm {
            // nano-vllm is fitted on its own (no learned prior to correct); its terms must still
            // sit inside their ranges.
            assert!(profile.prior.is_empty(), "{}", profile.id);
        } else {
            assert!(
                !profile.prior.is_empty(),
                "{}: a vLLM fit records its prior shifts",
                profile.id
            );
        }
        for t in Term::ALL {
            let v = t.get(&profile.cost);
            let shift = profile.prior.iter().find(|s| s.term == t.name());
            let applies = shift.is_some() || profile.engine == EngineVersion::NanoVllm;
            if !applies {
                continue;
            }
            let at_bound = match t.transform() {
                servecast::cost::prior::Transform::Logit => !(0.005..=0.995).contains(&v),
                servecast::cost::prior::Transform::Log => v < 1e-8,
            };
            let beyond = shift.is_some_and(|s| s.sigmas.abs() > 3.0);
            let reason = shift.map_or("", |s| s.reason.as_str());
            println!(
                "{}: {} = {v:.3e}{}",
                profile.id,
                t.name(),
                shift.map_or(String::new(), |s| format!(" ({:+.2}σ from {:.3e})", s.sigmas, s.prior))
            );
            if profile.engine == EngineVersion::NanoVllm
                && matches!(
                    t,
                    Term::ApiServerItemS
                        | Term::ApiServerInlineItemS
                        | Term::ApiServerRequestS
                        | Term::ApiServerChatRequestS
                )
            {
                continue;
            }
            assert!(
                !(at_bound || beyond) || !reason.is_empty(),
                "{}: {} = {v} is at a bound or beyond 3σ with no reason",
                profile.id,
                t.name()
            );
        }
    }
}

/// A GPU's learned prior says how many testers' machines stand behind it, from the shipped
/// priors: every GPU group's machines are at least one and its largest machine at most its
/// setups; together the GPU groups count every pooled setup once; and a prior drawn for the
/// GPU whose setups come mostly from one machine says so.
#[test]
fn a_gpu_prior_names_the_machines_behind_it() {
    use servecast::cost::prior::LearnedPriors;
    use servecast::spec::engine::UsageContext;
    let priors = LearnedPriors::builtin().unwrap();
    let mut total = 0;
    for g in &priors.gpus {
        assert!(
            g.machines >= 1 && g.machines <= g.setups,
            "{}: {} machines",
            g.group,
            g.machines
        );
        assert!(
            g.largest_machine_setups >= g.setups.div_ceil(g.machines) && g.largest_machine_setups <= g.setups,
            "{}: largest machine {} of {} setups on {} machines",
            g.group,
            g.largest_machine_setups,
            g.setups,
            g.machines
        );
        total += g.setups;
    }
    assert_eq!(total, priors.corpus.len());
    // The GPU with the most setups on one machine: its prior's description names that share.
    let g = priors
        .gpus
        .iter()
        .filter(|g| g.machines >= 2 && 2 * g.largest_machine_setups > g.setups)
        .max_by_key(|g| g.largest_machine_setups)
        .unwrap();
    let gpu = servecast::spec::Catalog::builtin()
        .unwrap()
        .gpu(&g.group)
        .unwrap()
        .clone();
    let p = servecast::cost::Profile::learned_prior(
        EngineVersion::Vllm010,
        servecast::spec::engine::ReleaseLine::V1,
        UsageContext::default(),
        &gpu,
        "",
    );
    let expected = format!(
        "corrected by {} on this GPU from {} testers' machines, {} of them from one",
        g.setups, g.machines, g.largest_machine_setups
    );
    assert!(p.source.contains(&expected), "{}", p.source);
}

/// A model the corpus measured starts from its learned effect: the GPU-side centres shifted by
/// what its setups showed (gpt-oss-120b's MoE layers, MXFP4 experts, took about twice the
/// centres' floor in GPUStack's runs on A100 and H100: the largest model effect of the corpus,
/// 1.7 prior σ), the host-side terms untouched; an unmeasured model gets no shift.
#[test]
fn a_measured_model_starts_from_its_learned_effect() {
    use servecast::cost::prior::{LearnedPriors, Term};
    use servecast::spec::engine::{ReleaseLine, UsageContext};
    let priors = LearnedPriors::builtin().expect("data/priors.yaml holds learned priors");
    let effect = priors.model_effect("gpt-oss-120b").expect("gpt-oss-120b is measured");
    let shift = effect.terms["moe_layer_floor_s"].shift;
    assert!(shift > 0.3, "gpt-oss-120b's MoE floor shift {shift}");
    assert!(
        !effect.terms.contains_key("step_overhead_s"),
        "a model effect has GPU-side terms only"
    );
    let gpu = servecast::spec::Catalog::builtin()
        .unwrap()
        .gpu("h100-sxm")
        .unwrap()
        .clone();
    let prior = |model: &str| {
        servecast::cost::Profile::learned_prior(
            EngineVersion::Vllm010,
            ReleaseLine::V1,
            UsageContext::default(),
            &gpu,
            model,
        )
    };
    let (with, without) = (prior("gpt-oss-120b"), prior(""));
    let t = Term::MoeLayerFloorS;
    let moved = t.to_z(with.cost.moe_layer_floor_s) - t.to_z(without.cost.moe_layer_floor_s);
    assert!((moved - shift).abs() < 1e-9, "moved {moved} z, shift {shift}");
    assert_eq!(with.cost.step_overhead_s, without.cost.step_overhead_s);
    assert!(with.source.contains("setups of gpt-oss-120b"), "{}", with.source);
    let unmeasured = prior("no-such-model");
    assert_eq!(unmeasured.cost.moe_layer_floor_s, without.cost.moe_layer_floor_s);
}

/// A priors file whose model effect names a host-side term is refused, naming the field.
#[test]
fn a_model_effect_on_a_host_term_is_refused() {
    use servecast::cost::prior::LearnedPriors;
    let text =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/priors.yaml")).unwrap();
    let at = "models:\n- model: indextts2-gpt\n  setups: 1\n  terms:\n";
    assert!(text.contains(at));
    let bad = text.replace(
        at,
        &format!("{at}    step_overhead_s:\n      shift: 0.1\n      shift_sd: 0.1\n"),
    );
    let err = LearnedPriors::from_yaml(&bad, "priors.yaml").unwrap_err().to_string();
    assert!(
        err.contains("models.indextts2-gpt.terms") && err.contains("step_overhead_s"),
        "{err}"
    );
}
