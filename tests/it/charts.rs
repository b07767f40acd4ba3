//! Charts are valid images of the requested size, with their text (the embedded font) present.

use std::path::PathBuf;

use servecast::charts::{
    draw_panels, measured_panels, memory_breakdown, plan_panels, prediction_panels, sweep_panels, ttft_distribution,
};
use servecast::measured::builtin_reports;
use servecast::scenario::Scenario;
use servecast::sweep::{run_sweep, Axis, SweepDesign, SweepSpec};
use servecast::uncertainty::{predict_with_intervals, UncertaintyOptions};

fn out_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("servecast-charts-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Checks the PNG decodes at `size`, has more than a few colours (something was drawn, text
/// included), and that the SVG holds `<text>` with `label`.
fn check(stem: &str, size: (u32, u32), label: &str, draw: impl Fn(&std::path::Path)) {
    let dir = out_dir();
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));
    draw(&png);
    draw(&svg);
    let img = image::open(&png)
        .unwrap_or_else(|e| panic!("{}: {e}", png.display()))
        .to_rgb8();
    assert_eq!(img.dimensions(), size, "{stem}");
    let dark = img.pixels().filter(|p| p.0.iter().all(|&c| c < 80)).count();
    assert!(dark > 500, "{stem}: {dark} dark pixels: no text or axes drawn");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.starts_with("<svg") && text.contains("<text"),
        "{stem}: no SVG text"
    );
    assert!(text.contains(label), "{stem}: SVG lacks '{label}'");
}

#[test]
fn every_chart_kind_is_a_valid_png_and_svg_with_its_labels() {
    let scenario = Scenario::builder()
        .gpu("a10")
        .from_builtin_report()
        .unwrap()
        .build()
        .unwrap();
    let p = predict_with_intervals(
        &scenario,
        &UncertaintyOptions {
            replications: 3,
            ..Default::default()
        },
    )
    .unwrap();
    check("curves", (1500, 600), "TTFT (ms)", |path| {
        draw_panels("A10 load curves", &prediction_panels(&p), path, (1500, 600)).unwrap()
    });
    check("memory", (1200, 320), "KV cache", |path| {
        memory_breakdown("A10 memory", &[("a10".into(), p.memory.clone())], path, (1200, 320)).unwrap()
    });
    let ttfts: Vec<f64> = (0..200).map(|i| 50.0 + (i % 37) as f64 * 3.0).collect();
    check("ttft", (1000, 500), "time to first token (ms)", |path| {
        ttft_distribution("TTFT", &ttfts, path, (1000, 500)).unwrap()
    });
    let base = Scenario::builder().gpu("a10").from_builtin_report().unwrap();
    let spec = SweepSpec {
        axes: vec![
            Axis::parse("seqs=8,16,64", "t").unwrap(),
            Axis::parse("concurrency=5,20", "t").unwrap(),
        ],
        design: SweepDesign::Grid,
    };
    let rows = run_sweep(&base, &spec, false).unwrap();
    check("sweep", (1400, 600), "output throughput (tok/s)", |path| {
        draw_panels("sweep", &sweep_panels(&rows), path, (1400, 600)).unwrap()
    });
    let curve = vec![
        (1.0, 60.0, 200.0),
        (2.0, 70.0, 390.0),
        (4.0, 90.0, 700.0),
        (8.0, 4000.0, 800.0),
    ];
    check("plan", (1400, 600), "offered load (req/s)", |path| {
        draw_panels(
            "plan",
            &plan_panels(&curve, "req/s", Some(4.0), Some(8.0)),
            path,
            (1400, 600),
        )
        .unwrap()
    });
    let reports = builtin_reports().unwrap();
    let a10: Vec<_> = reports
        .iter()
        .filter(|r| r.id == "a10-qwen2.5-7b-vllm0.6")
        .cloned()
        .collect();
    let panels = measured_panels(&a10, 2).unwrap();
    assert!(panels.len() >= 3, "throughput, latency and TTFT panels");
    check("measured", (1800, 620), "measured", |path| {
        draw_panels("seed 002", &panels, path, (1800, 620)).unwrap()
    });
}

#[test]
fn a_chart_path_must_be_png_or_svg() {
    let e = draw_panels("x", &[], &out_dir().join("a.png"), (100, 100)).unwrap_err();
    assert!(e.to_string().contains("nothing to draw"), "{e}");
    let curve = vec![(1.0, 1.0, 1.0), (2.0, 2.0, 2.0)];
    let e = draw_panels(
        "x",
        &plan_panels(&curve, "req/s", None, None),
        &out_dir().join("a.gif"),
        (100, 100),
    )
    .unwrap_err();
    assert!(e.to_string().contains(".png or .svg"), "{e}");
}

#[test]
fn validation_classes_draw_as_cumulative_error_curves() {
    use servecast::fit::classes::{Class, ClassReport, ClassRow};
    use servecast::fit::validate::Headline;
    use servecast::report::FigureComparison;
    let fig = |e: f64| {
        Some(FigureComparison {
            name: "x".into(),
            measured: 100.0,
            predicted: 100.0 + e,
            error_pct: e,
        })
    };
    let row = |e: f64| ClassRow {
        setup: "s".into(),
        gpu: "a10".into(),
        model: "m".into(),
        line: "l".into(),
        level: "c1".into(),
        headline: Headline {
            throughput: fig(e),
            e2e_latency: None,
            ttft: fig(3.0 * e),
        },
    };
    let report = ClassReport {
        class: Class::UnseenSetup,
        rows: vec![row(-4.0), row(2.0), row(250.0)],
    };
    let panels = servecast::charts::validation_panels(&[&report]);
    assert_eq!(panels.len(), 3);
    // Throughput: 0, then |errors| sorted, capped at 100%, against the share of levels.
    let expected = [(0.0, 0.0), (2.0, 100.0 / 3.0), (4.0, 200.0 / 3.0), (100.0, 100.0)];
    assert_eq!(panels[0].series[0].points.len(), expected.len());
    for (p, e) in panels[0].series[0].points.iter().zip(expected) {
        assert!((p.0 - e.0).abs() < 1e-9 && (p.1 - e.1).abs() < 1e-9, "{p:?} vs {e:?}");
    }
    assert!(panels[1].series.is_empty(), "no level has an E2E figure");
    let dir = std::env::temp_dir().join(format!("servecast-validation-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("classes.svg");
    servecast::charts::draw_panels("classes", &panels, &path, (1200, 400)).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.contains("unseen setup") && svg.contains("Mean time to first token"));
}
