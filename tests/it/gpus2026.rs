//! The GPUs of 2026 in data/gpus.yaml (issue 12, item 4): each found by id and by the name its
//! driver prints, its memory within the datasheet's class, its bandwidth and tensor rates equal to
//! the datasheet figures its `source` cites, and an 8B model simulated on an H20 and an MI300X.

use servecast::cost::prior::{LearnedPriors, Term, TermGroup};
use servecast::cost::ProfileKind;
use servecast::scenario::Scenario;
use servecast::spec::engine::{EngineVersion, ReleaseLine};
use servecast::spec::{Catalog, GpuArch, GpuSpec, LinkKind};
use servecast::workload::arrivals::WorkloadSpec;
use servecast::workload::lengths::LengthDist;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// One new GPU as its datasheet states it.
struct Sheet {
    id: &'static str,
    /// The name nvidia-smi / `torch.cuda.get_device_name()` prints.
    driver_name: &'static str,
    arch: GpuArch,
    /// The memory the datasheet sells, GB. HBM stacks and GDDR chips come in binary sizes, so a
    /// marketed "96 GB" is 96 GiB of DRAM (6 HBM3 stacks of 16 GiB); the driver keeps 0.5–1.5% of it
    /// (page tables, ECC bookkeeping), so the CUDA or ROCm total lies in [0.985, 1.0] × this many
    /// GiB. GDDR6 with ECC on (the L20's default) loses another 1/16 to the ECC bits.
    datasheet_gb: f64,
    gddr6_ecc: bool,
    bandwidth_gb_s: f64,
    fp16_tflops: f64,
    fp8_tflops: f64,
    fp4_tflops: Option<f64>,
    link: LinkKind,
    link_gb_s: f64,
}

/// The datasheet figures cited in each entry's `source` (dense, no sparsity).
const SHEETS: [Sheet; 12] = [
    Sheet {
        id: "h200",
        driver_name: "NVIDIA H200",
        arch: GpuArch::Hopper,
        datasheet_gb: 141.0,
        gddr6_ecc: false,
        bandwidth_gb_s: 4800.0,
        fp16_tflops: 989.4,
        fp8_tflops: 1978.9,
        fp4_tflops: None,
        link: LinkKind::Nvlink,
        link_gb_s: 450.0,
    },
    Sheet {
        id: "h200-nvl",
        driver_name: "NVIDIA H200 NVL",
        arch: GpuArch::Hopper,
        datasheet_gb: 141.0,
        gddr6_ecc: false,
        bandwidth_gb_s: 4800.0,
        fp16_tflops: 835.5,
        fp8_tflops: 1670.5,
        fp4_tflops: None,
        link: LinkKind::Nvlink,
        link_gb_s: 450.0,
    },
    Sheet {
        id: "h20",
        driver_name: "NVIDIA H20",
        arch: GpuArch::Hopper,
        datasheet_gb: 96.0,
        gddr6_ecc: false,
        bandwidth_gb_s: 4000.0,
        fp16_tflops: 148.0,
        fp8_tflops: 296.0,
        fp4_tflops: None,
        link: LinkKind::Nvlink,
        link_gb_s: 450.0,
    },
    Sheet {
        id: "b200",
        driver_name: "NVIDIA B200",
        arch: GpuArch::Blackwell,
        // DGX B200: 1,440 GB for 8 GPUs.
        datasheet_gb: 180.0,
        gddr6_ecc: false,
        bandwidth_gb_s: 8000.0,
        fp16_tflops: 2250.0,
        fp8_tflops: 4500.0,
        fp4_tflops: Some(9000.0),
        link: LinkKind::Nvlink,
        link_gb_s: 900.0,
    },
    Sheet {
        id: "b300",
        driver_name: "NVIDIA B300 SXM6 AC",
        arch: GpuArch::Blackwell,
        // 288 GB of HBM3e, 270 GB of it exposed per HGX B300 GPU.
        datasheet_gb: 270.0,
        gddr6_ecc: false,
        bandwidth_gb_s: 8000.0,
        fp16_tflops: 2250.0,
        fp8_tflops: 4500.0,
        fp4_tflops: Some(13125.0),
        link: LinkKind::Nvlink,
        link_gb_s: 900.0,
    },
    Sheet {
        id: "gb200",
        driver_name: "NVIDIA GB200",
        arch: GpuArch::Blackwell,
        // GB200 NVL72: 13.4 TB for 72 GPUs.
        datasheet_gb: 186.0,
        gddr6_ecc: false,
        bandwidth_gb_s: 8000.0,
        fp16_tflops: 2500.0,
        fp8_tflops: 5000.0,
        fp4_tflops: Some(10000.0),
        link: LinkKind::Nvlink,
        link_gb_s: 900.0,
    },
    Sheet {
        id: "rtx-pro-6000-blackwell-server",
        driver_name: "NVIDIA RTX PRO 6000 Blackwell Server Edition",
        arch: GpuArch::BlackwellRtx,
        datasheet_gb: 96.0,
        gddr6_ecc: false,
        bandwidth_gb_s: 1597.0,
        fp16_tflops: 467.8,
        fp8_tflops: 935.6,
        fp4_tflops: Some(1871.3),
        link: LinkKind::Pcie,
        link_gb_s: 64.0,
    },
    Sheet {
        id: "rtx-pro-6000-blackwell-workstation",
        driver_name: "NVIDIA RTX PRO 6000 Blackwell Workstation Edition",
        arch: GpuArch::BlackwellRtx,
        datasheet_gb: 96.0,
        gddr6_ecc: false,
        bandwidth_gb_s: 1792.0,
        fp16_tflops: 503.8,
        fp8_tflops: 1007.6,
        fp4_tflops: Some(2015.2),
        link: LinkKind::Pcie,
        link_gb_s: 64.0,
    },
    Sheet {
        id: "l20",
        driver_name: "NVIDIA L20",
        arch: GpuArch::Ada,
        datasheet_gb: 48.0,
        gddr6_ecc: true,
        bandwidth_gb_s: 864.0,
        fp16_tflops: 119.5,
        fp8_tflops: 239.0,
        fp4_tflops: None,
        link: LinkKind::Pcie,
        link_gb_s: 32.0,
    },
    Sheet {
        id: "mi300x",
        driver_name: "AMD Instinct MI300X",
        arch: GpuArch::Cdna3,
        datasheet_gb: 192.0,
        gddr6_ecc: false,
        bandwidth_gb_s: 5300.0,
        fp16_tflops: 1307.4,
        fp8_tflops: 2614.9,
        fp4_tflops: None,
        link: LinkKind::Xgmi,
        link_gb_s: 448.0,
    },
    Sheet {
        id: "mi325x",
        driver_name: "AMD Instinct MI325X",
        arch: GpuArch::Cdna3,
        datasheet_gb: 256.0,
        gddr6_ecc: false,
        bandwidth_gb_s: 6000.0,
        fp16_tflops: 1307.4,
        fp8_tflops: 2614.9,
        fp4_tflops: None,
        link: LinkKind::Xgmi,
        link_gb_s: 448.0,
    },
    Sheet {
        id: "mi355x",
        driver_name: "AMD Instinct MI355X",
        arch: GpuArch::Cdna4,
        datasheet_gb: 288.0,
        gddr6_ecc: false,
        bandwidth_gb_s: 8000.0,
        fp16_tflops: 2516.6,
        fp8_tflops: 5033.2,
        fp4_tflops: Some(10066.3),
        link: LinkKind::Xgmi,
        link_gb_s: 537.6,
    },
];

fn close(a: f64, b: f64) -> bool {
    (a / b - 1.0).abs() < 1e-9
}

fn gpu(name: &str) -> &'static GpuSpec {
    Catalog::builtin().unwrap().gpu(name).unwrap()
}

#[test]
fn new_gpus_are_found_by_id_and_by_the_driver_name() {
    for s in &SHEETS {
        assert_eq!(gpu(s.id).id, s.id);
        assert_eq!(gpu(s.driver_name).id, s.id, "{}", s.driver_name);
        assert_eq!(gpu(s.id).name, s.driver_name);
    }
    // Names the drivers print with a suffix still find their GPU: an Azure MI300X virtual
    // function, a GB200 NVL72 tray.
    assert_eq!(gpu("AMD Instinct MI300X VF").id, "mi300x");
    assert_eq!(gpu("NVIDIA GB200 NVL72").id, "gb200");
    // Short names where one GPU is meant; "H20" is not "H200".
    assert_eq!(gpu("H20").id, "h20");
    assert_eq!(gpu("H200").id, "h200");
    assert_eq!(gpu("B300").id, "b300");
    assert_eq!(gpu("MI355X").id, "mi355x");
    // "RTX PRO 6000" names two boards with different memory clocks: refused with both suggested.
    match Catalog::builtin().unwrap().gpu("RTX PRO 6000") {
        Err(servecast::Error::UnknownGpu { suggestions, .. }) => {
            assert!(
                suggestions.iter().any(|s| s == "rtx-pro-6000-blackwell-server"),
                "{suggestions:?}"
            );
            assert!(
                suggestions.iter().any(|s| s == "rtx-pro-6000-blackwell-workstation"),
                "{suggestions:?}"
            );
        }
        other => panic!("'RTX PRO 6000' is ambiguous, got {other:?}"),
    }
}

#[test]
fn memory_is_within_the_datasheet_class() {
    for s in &SHEETS {
        let g = gpu(s.id);
        let total_gib = g.memory_total_bytes as f64 / GIB;
        let sold = if s.gddr6_ecc {
            s.datasheet_gb * 15.0 / 16.0
        } else {
            s.datasheet_gb
        };
        println!(
            "{:<36} {total_gib:7.2} GiB of {sold:6.1} ({:.2}%)",
            s.id,
            total_gib / sold * 100.0
        );
        assert!(
            total_gib <= sold && total_gib >= 0.985 * sold,
            "{}: {total_gib:.2} GiB is not within [0.985, 1] x {sold} GiB",
            s.id
        );
    }
    // The MI300X's 192 GB is 8 HBM3 stacks of 24 GiB; ROCm keeps a few MiB of it.
    assert!((gpu("mi300x").memory_total_bytes as f64 / GIB - 191.98).abs() < 0.005);
}

#[test]
fn rates_and_links_are_the_datasheet_figures() {
    for s in &SHEETS {
        let g = gpu(s.id);
        assert_eq!(g.architecture, s.arch, "{}", s.id);
        assert!(close(g.memory_bandwidth_bytes_s, s.bandwidth_gb_s * 1e9), "{}", s.id);
        assert!(close(g.dense_fp16_flops, s.fp16_tflops * 1e12), "{}", s.id);
        assert!(close(g.dense_fp8_flops.unwrap(), s.fp8_tflops * 1e12), "{}", s.id);
        match (g.dense_fp4_flops, s.fp4_tflops) {
            (Some(a), Some(b)) => assert!(close(a, b * 1e12), "{}", s.id),
            (None, None) => {}
            (a, b) => panic!(
                "{}: FP4 {a:?} FLOP/s in the catalog, {b:?} TFLOP/s on the datasheet",
                s.id
            ),
        }
        assert_eq!(g.interconnect.kind, s.link, "{}", s.id);
        assert!(close(g.interconnect.bandwidth_bytes_s, s.link_gb_s * 1e9), "{}", s.id);
        assert!(!g.source.trim().is_empty());
    }
    // FP4 tensor cores: Blackwell (datacenter and RTX) and CDNA4 only, in the whole catalog.
    for g in &Catalog::builtin().unwrap().gpus {
        let has_fp4 = matches!(
            g.architecture,
            GpuArch::Blackwell | GpuArch::BlackwellRtx | GpuArch::Cdna4
        );
        assert_eq!(g.dense_fp4_flops.is_some(), has_fp4, "{}", g.id);
    }
    // Ratios the architectures fix: FP8 twice FP16 on Hopper, CDNA and datacenter Blackwell;
    // FP4 twice FP8 on datacenter Blackwell and CDNA4 (the B300 raised FP4 alone).
    for id in ["h20", "h200-nvl", "b200", "gb200", "mi300x", "mi325x", "mi355x"] {
        let g = gpu(id);
        assert!(
            (g.dense_fp8_flops.unwrap() / g.dense_fp16_flops - 2.0).abs() < 1e-3,
            "{id}"
        );
    }
    for id in ["b200", "gb200", "mi355x"] {
        let g = gpu(id);
        assert!(
            (g.dense_fp4_flops.unwrap() / g.dense_fp8_flops.unwrap() - 2.0).abs() < 1e-3,
            "{id}"
        );
    }
}

/// Eight closed-loop users, four requests each of 512 prompt and 128 output tokens.
fn closed_loop() -> WorkloadSpec {
    WorkloadSpec::closed_loop(
        vec![8],
        4,
        LengthDist::Fixed { tokens: 512 },
        LengthDist::Fixed { tokens: 128 },
    )
}

#[test]
fn an_8b_model_runs_on_an_h20_and_an_mi300x() {
    for name in ["NVIDIA H20", "AMD Instinct MI300X"] {
        let s = Scenario::builder()
            .gpu(name)
            .model("llama-3.1-8b")
            .engine(EngineVersion::Vllm010)
            .workload(closed_loop())
            .build()
            .unwrap();
        assert_eq!(s.profile.kind, ProfileKind::Roofline, "{name}: nothing fitted on it");
        let p = s.run().unwrap();
        let l = &p.levels[0];
        println!(
            "{name}: {} ({}), {:.0} output tok/s, TPOT {:.2} ms; {}",
            p.memory.max_concurrency_line(),
            s.profile.id,
            l.output_throughput_tok_s,
            l.tpot_ms.mean,
            s.profile.source
        );
        assert_eq!(l.failed, 0, "{name}");
        assert!(l.output_throughput_tok_s > 0.0, "{name}");
        assert!(l.tpot_ms.mean > 0.0 && l.tpot_ms.mean.is_finite(), "{name}");
    }
}

/// An architecture no measured setup taught: the shipped priors have no group for it (or one
/// learned from no setup), and its roofline efficiencies fall back to the physics hyperprior.
/// CDNA 3 (MI300X) has been taught by the vLLM blog's two single-step MI300X setups; CDNA 4
/// (MI355X) by none.
#[test]
fn unmeasured_amd_architectures_run_on_the_hyperprior() {
    let priors = LearnedPriors::builtin().expect("data/priors.yaml holds learned priors");
    let cdna3 = priors
        .group(GpuArch::Cdna3.as_str())
        .expect("MI300X setups in the corpus");
    assert_eq!(
        cdna3.setups, 2,
        "the MI300X post's default and no-chunked-prefill setups"
    );
    for arch in [GpuArch::Cdna4] {
        let learned = priors.group(arch.as_str());
        assert!(
            learned.is_none_or(|g| g.setups == 0),
            "{arch}: no measured setup exists"
        );
        if learned.is_some() {
            continue;
        }
        let line = ReleaseLine::of(EngineVersion::Vllm010, None);
        for p in priors.for_gpu(line, arch, "mi300x") {
            if p.term.group() == TermGroup::Gpu {
                let (centre, width) = p.term.hyperprior(line);
                assert_eq!(p.centre_z, centre, "{arch} {}", p.term.name());
                assert_eq!(p.sd_z, width, "{arch} {}", p.term.name());
            }
        }
        assert!(Term::ALL.iter().any(|t| t.group() == TermGroup::Gpu));
    }
}
