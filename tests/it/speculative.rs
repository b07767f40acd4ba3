//! Speculative decoding (vLLM V1 `--speculative-config`): each decoding request verifies K
//! drafts per step and keeps the accepted prefix plus one token, so a user sees the step's time
//! spread over `1 + Σ per-position acceptance` tokens; what vLLM refuses is refused in its words.

use servecast::error::Error;
use servecast::scenario::Scenario;
use servecast::spec::engine::EngineFlags;
use servecast::spec::speculative::SpeculativeConfig;
use servecast::workload::arrivals::WorkloadSpec;
use servecast::workload::lengths::LengthDist;

fn spec(json: &str) -> SpeculativeConfig {
    SpeculativeConfig::parse(json, "test").unwrap()
}

fn run(speculative: Option<SpeculativeConfig>, users: u32) -> servecast::scenario::Prediction {
    Scenario::builder()
        .gpu("h100-sxm")
        .model("llama-3.1-8b")
        .release("0.11.0")
        .flags(EngineFlags {
            speculative_config: speculative,
            ..EngineFlags::default()
        })
        .workload(WorkloadSpec::closed_loop(
            vec![users],
            20,
            LengthDist::Fixed { tokens: 512 },
            LengthDist::Fixed { tokens: 400 },
        ))
        .build()
        .unwrap()
        .run()
        .unwrap()
}

#[test]
fn acceptance_positions_give_the_mean_acceptance_length() {
    let s = spec(r#"{"method": "eagle3", "num_speculative_tokens": 3, "per_position_acceptance": [0.8, 0.6, 0.45]}"#)
        .resolve("test")
        .unwrap();
    assert!((s.mean_acceptance_length() - 2.85).abs() < 1e-12);
    assert_eq!(s.lookahead_tokens, 3, "EAGLE reserves K lookahead slots");
    assert_eq!(
        (
            s.accepted_for(0.9),
            s.accepted_for(0.7),
            s.accepted_for(0.5),
            s.accepted_for(0.1)
        ),
        (0, 1, 2, 3)
    );
    let a = spec(r#"{"method": "ngram", "num_speculative_tokens": 2, "acceptance_rate": 0.5, "prompt_lookup_max": 4}"#)
        .resolve("test")
        .unwrap();
    assert_eq!(a.per_position, vec![0.5, 0.25]);
    assert_eq!(a.lookahead_tokens, 0, "n-gram proposes on the CPU without lookahead");
}

#[test]
fn one_user_sees_the_step_spread_over_the_accepted_tokens() {
    let base = run(None, 1);
    let eagle = run(
        Some(spec(
            r#"{"method": "eagle3", "num_speculative_tokens": 3, "per_position_acceptance": [0.8, 0.6, 0.45]}"#,
        )),
        1,
    );
    let (b, e) = (&base.levels[0], &eagle.levels[0]);
    let (tpot_b, tpot_e) = (b.tpot_ms.mean, e.tpot_ms.mean);
    let (itl_e,) = (e.itl_ms.mean,);
    // A step verifies 4 tokens and runs 3 draft passes, so it is longer than a plain step, but
    // it yields 2.85 tokens on average: TPOT ≈ step ÷ 2.85, and the chunk gap (ITL) is the step.
    assert!(
        itl_e > tpot_b,
        "a speculative step ({itl_e} ms) outlasts a plain one ({tpot_b} ms)"
    );
    let ratio = tpot_e * 2.85 / itl_e;
    assert!((ratio - 1.0).abs() < 0.08, "TPOT {tpot_e} ms × 2.85 vs step {itl_e} ms");
    assert!(
        tpot_e < 0.5 * tpot_b,
        "EAGLE-3 at 2.85 tokens/step more than halves TPOT: {tpot_e} vs {tpot_b}"
    );
}

#[test]
fn what_vllm_refuses_with_speculation() {
    let with = |json: &str, flags: EngineFlags| {
        Scenario::builder()
            .gpu("h100-sxm")
            .model("llama-3.1-8b")
            .release("0.14.0")
            .flags(EngineFlags {
                speculative_config: Some(spec(json)),
                ..flags
            })
            .workload(WorkloadSpec::closed_loop(
                vec![1],
                1,
                LengthDist::Fixed { tokens: 64 },
                LengthDist::Fixed { tokens: 8 },
            ))
            .build()
    };
    match with(
        r#"{"method": "ngram", "num_speculative_tokens": 3, "acceptance_rate": 0.4}"#,
        EngineFlags {
            async_scheduling: Some(true),
            ..EngineFlags::default()
        },
    ) {
        Err(e @ Error::EngineRefused { .. }) => assert_eq!(
            e.to_string(),
            "ValueError: Currently, async scheduling is only supported with EAGLE/MTP kind of speculative decoding."
        ),
        other => panic!("expected vLLM's refusal, got {other:?}"),
    }
    // Left to its default, async scheduling is turned off for an n-gram proposer.
    let s = with(
        r#"{"method": "ngram", "num_speculative_tokens": 3, "acceptance_rate": 0.4}"#,
        EngineFlags::default(),
    )
    .unwrap();
    assert!(!s.engine.async_scheduling);
    let s = with(
        r#"{"method": "eagle", "num_speculative_tokens": 3, "acceptance_rate": 0.7}"#,
        EngineFlags::default(),
    )
    .unwrap();
    assert!(s.engine.async_scheduling, "EAGLE keeps 0.14's async scheduling");
    match with(
        r#"{"method": "eagle3", "num_speculative_tokens": 3}"#,
        EngineFlags::default(),
    ) {
        Err(Error::InvalidField { field, .. }) => assert_eq!(field, "speculative_config.acceptance_rate"),
        other => panic!("expected the missing acceptance named, got {other:?}"),
    }
    match with(
        r#"{"method": "eagle3", "num_speculative_tokens": 3, "acceptance_rate": 1.5}"#,
        EngineFlags::default(),
    ) {
        Err(Error::InvalidField { field, message, .. }) => {
            assert_eq!(field, "speculative_config.acceptance_rate");
            assert!(message.contains("(0, 1]"), "{message}");
        }
        other => panic!("expected an acceptance above 1 refused, got {other:?}"),
    }
    match with(
        r#"{"method": "eagle3", "num_speculative_tokens": 2, "per_position_acceptance": [0.5, 0.7]}"#,
        EngineFlags::default(),
    ) {
        Err(Error::InvalidField { field, message, .. }) => {
            assert_eq!(field, "speculative_config.per_position_acceptance");
            assert!(message.contains("not increase"), "{message}");
        }
        other => panic!("expected increasing acceptance refused, got {other:?}"),
    }
}
