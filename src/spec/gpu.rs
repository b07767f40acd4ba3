//! GPU specifications: memory as CUDA reports it, DRAM bandwidth, tensor throughput, link and price.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Bytes in one MiB.
const MIB: f64 = 1024.0 * 1024.0;
/// Bytes in one GiB.
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
/// Bytes per second in one GB/s.
const GB_S: f64 = 1e9;
/// FLOP/s in one TFLOP/s.
const TFLOPS: f64 = 1e12;

/// Kind of GPU-to-GPU link used for tensor-parallel collectives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// PCI Express through the host (no peer bridge).
    Pcie,
    /// NVLink (SXM boards through NVSwitch, or a bridge).
    Nvlink,
    /// AMD Infinity Fabric (xGMI) links between Instinct OAM modules: a full mesh of eight GPUs,
    /// one link to each peer (no switch), so a GPU's bandwidth is the sum over its seven links.
    Xgmi,
}

/// GPU architecture generation: GPUs of one generation share kernels, cache sizes and
/// tensor-core (matrix-core) behaviour, so servecast learns one set of roofline efficiencies per
/// generation. A generation with no measured setup in the corpus (`data/priors.yaml` has no group
/// for it) runs on the physics hyperprior ([`crate::cost::prior::Term::hyperprior`]): an unfitted
/// prior, not a calibration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GpuArch {
    /// V100 (sm_70).
    Volta,
    /// T4 (sm_75).
    Turing,
    /// A100, A10, A10G, A40, RTX 3090, RTX A6000 (sm_80, sm_86).
    Ampere,
    /// L4, L40, L40S, RTX 4090, RTX 6000 Ada (sm_89).
    Ada,
    /// H100, H200, H20 (sm_90).
    Hopper,
    /// Datacenter Blackwell: B200, GB200, B300 (sm_100, sm_103).
    Blackwell,
    /// RTX Blackwell: RTX 5090 and the RTX PRO 6000 cards (sm_120). Learned apart from the
    /// datacenter parts: vLLM runs other kernels on them (no tcgen05 / TMEM, so no CUTLASS MLA,
    /// FlashInfer's TRT-LLM paths or DeepGEMM; FlashAttention 2 and Triton instead), so their
    /// reachable fractions of the datasheet are another family's.
    BlackwellRtx,
    /// AMD Instinct MI300X, MI325X (gfx942, ROCm vLLM).
    Cdna3,
    /// AMD Instinct MI355X (gfx950, ROCm vLLM).
    Cdna4,
}

impl GpuArch {
    /// Every generation, NVIDIA's oldest first, then AMD's.
    pub const ALL: [GpuArch; 9] = [
        GpuArch::Volta,
        GpuArch::Turing,
        GpuArch::Ampere,
        GpuArch::Ada,
        GpuArch::Hopper,
        GpuArch::Blackwell,
        GpuArch::BlackwellRtx,
        GpuArch::Cdna3,
        GpuArch::Cdna4,
    ];

    /// Lower-case name (`ampere`).
    pub fn as_str(self) -> &'static str {
        match self {
            GpuArch::Volta => "volta",
            GpuArch::Turing => "turing",
            GpuArch::Ampere => "ampere",
            GpuArch::Ada => "ada",
            GpuArch::Hopper => "hopper",
            GpuArch::Blackwell => "blackwell",
            GpuArch::BlackwellRtx => "blackwell_rtx",
            GpuArch::Cdna3 => "cdna3",
            GpuArch::Cdna4 => "cdna4",
        }
    }
}

impl GpuArch {
    /// Whether the device is an AMD Instinct one (ROCm reports its memory; amd-smi shows it).
    pub fn is_amd(self) -> bool {
        matches!(self, GpuArch::Cdna3 | GpuArch::Cdna4)
    }
}

impl std::fmt::Display for GpuArch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The GPU-to-GPU link of one GPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interconnect {
    /// Link kind.
    pub kind: LinkKind,
    /// Bandwidth per direction, bytes/s.
    pub bandwidth_bytes_s: f64,
}

/// One GPU model as servecast sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuSpec {
    /// Short id, e.g. `rtx-4090`, `a100-80g-sxm`, `h100-sxm`.
    pub id: String,
    /// Full name as the driver prints it (nvidia-smi, `torch.cuda.get_device_name()`), e.g.
    /// `NVIDIA GeForce RTX 4090`, `AMD Instinct MI300X`.
    pub name: String,
    /// Other names the GPU is known by (matched loosely by the catalog).
    pub aliases: Vec<String>,
    /// GpuArch generation.
    pub architecture: GpuArch,
    /// Total memory as CUDA (or ROCm/HIP) reports it (`cudaMemGetInfo`,
    /// `torch.cuda.mem_get_info()[1]`), bytes; vLLM multiplies this by `gpu_memory_utilization`.
    /// Smaller than nvidia-smi's total.
    pub memory_total_bytes: u64,
    /// Peak DRAM bandwidth, bytes/s.
    pub memory_bandwidth_bytes_s: f64,
    /// Dense BF16/FP16 tensor throughput with FP32 accumulate, no sparsity, FLOP/s
    /// (FP16 for GPUs without BF16).
    pub dense_fp16_flops: f64,
    /// Dense FP32 matmul/convolution throughput, FLOP/s: TF32 tensor cores where the GPU has them
    /// (PyTorch runs cuDNN convolutions in TF32 by default), else plain FP32.
    pub dense_fp32_flops: f64,
    /// Dense FP8 tensor-core throughput (FP32 accumulate), FLOP/s; `None` on GPUs without FP8
    /// tensor cores (Ampere and older), where FP8 weights run as W8A16.
    #[serde(default)]
    pub dense_fp8_flops: Option<f64>,
    /// Dense 4-bit floating-point tensor throughput (NVFP4 on Blackwell, MXFP4 on CDNA4; FP32
    /// accumulate, no sparsity), FLOP/s; `None` on GPUs without FP4 tensor cores.
    #[serde(default)]
    pub dense_fp4_flops: Option<f64>,
    /// GPU-to-GPU link.
    pub interconnect: Interconnect,
    /// On-demand price, US dollars per GPU-hour, if known.
    pub price_usd_per_hour: Option<f64>,
    /// The price list and its date.
    pub price_source: Option<String>,
    /// Where the numbers come from.
    pub source: String,
}

impl GpuSpec {
    /// Whether this is a consumer / workstation Blackwell part (compute capability 12.x: the RTX
    /// 50-series and RTX PRO Blackwell cards, named "RTX"), which vLLM's kernel choices treat
    /// apart from the datacenter sm_100 parts (B200, B300, GB200) that share its architecture.
    pub fn is_consumer_blackwell(&self) -> bool {
        self.architecture == GpuArch::BlackwellRtx
    }

    /// Checks that sizes, rates and prices are positive and finite; `origin` names the file or flag.
    pub fn validate(&self, origin: &str) -> Result<()> {
        let who = format!("GPU '{}'", self.id);
        if self.id.trim().is_empty() {
            return Err(Error::invalid(origin, "id", "GPU id must not be empty"));
        }
        if self.name.trim().is_empty() {
            return Err(Error::invalid(origin, "name", format!("{who}: name must not be empty")));
        }
        if self.memory_total_bytes == 0 {
            return Err(Error::invalid(
                origin,
                "memory_total_bytes",
                format!("{who}: total memory must be positive"),
            ));
        }
        // Every RTX Blackwell card (GeForce 50-series, RTX PRO) is sm_120: vLLM runs other kernels
        // there than on the datacenter sm_100 parts, and servecast learns its efficiencies apart.
        if self.architecture == GpuArch::Blackwell && self.name.to_ascii_uppercase().contains("RTX") {
            return Err(Error::invalid(
                origin,
                "architecture",
                format!(
                    "{who}: '{}' is an RTX Blackwell card (sm_120): its architecture is blackwell_rtx; \
                     blackwell is the datacenter parts (B200, B300, GB200; sm_100)",
                    self.name
                ),
            ));
        }
        check_positive(origin, &who, "memory_bandwidth_bytes_s", self.memory_bandwidth_bytes_s)?;
        check_positive(origin, &who, "dense_fp16_flops", self.dense_fp16_flops)?;
        check_positive(origin, &who, "dense_fp32_flops", self.dense_fp32_flops)?;
        if let Some(fp4) = self.dense_fp4_flops {
            if !(fp4.is_finite() && fp4 >= 0.0) {
                return Err(Error::invalid(
                    origin,
                    "dense_fp4_flops",
                    format!("{who}: must be a finite number >= 0, got {fp4}"),
                ));
            }
        }
        check_positive(
            origin,
            &who,
            "interconnect.bandwidth_bytes_s",
            self.interconnect.bandwidth_bytes_s,
        )?;
        if let Some(price) = self.price_usd_per_hour {
            if !price.is_finite() || price < 0.0 {
                return Err(Error::invalid(
                    origin,
                    "price_usd_per_hour",
                    format!("{who}: price must be a finite number >= 0, got {price}"),
                ));
            }
            if self.price_source.as_deref().is_none_or(|s| s.trim().is_empty()) {
                return Err(Error::invalid(
                    origin,
                    "price_source",
                    format!("{who}: a price needs a price_source naming the list and its date"),
                ));
            }
        }
        if self.source.trim().is_empty() {
            return Err(Error::invalid(
                origin,
                "source",
                format!("{who}: source must not be empty"),
            ));
        }
        Ok(())
    }
}

fn check_positive(origin: &str, who: &str, field: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            origin,
            field,
            format!("{who}: must be a finite number > 0, got {value}"),
        ))
    }
}

/// Parses a GPU list in the catalog's friendly units (`gpus:` with `memory_total_gib_cuda`,
/// `memory_bandwidth_gb_s`, `dense_fp16_tflops`, …) into validated specs; `origin` names the file.
pub fn gpus_from_yaml(text: &str, origin: &str) -> Result<Vec<GpuSpec>> {
    let file: GpuFile = serde_saphyr::from_str(text).map_err(|e| Error::from_yaml(origin, &e))?;
    let mut out = Vec::with_capacity(file.gpus.len());
    for entry in file.gpus {
        let spec = entry.into_spec(origin)?;
        spec.validate(origin)?;
        out.push(spec);
    }
    Ok(out)
}

/// Top level of a GPU catalog file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GpuFile {
    gpus: Vec<GpuEntry>,
}

/// One GPU in friendly units, as written in `data/gpus.yaml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GpuEntry {
    id: String,
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    architecture: GpuArch,
    /// CUDA-reported total, GiB (as vLLM and torch print it, 2 decimals).
    #[serde(default)]
    memory_total_gib_cuda: Option<f64>,
    /// CUDA-reported total, MiB (as torch's device properties or llama.cpp print it).
    #[serde(default)]
    memory_total_mib_cuda: Option<u64>,
    /// nvidia-smi memory.total, MiB (informative; must not be below the CUDA total).
    #[serde(default)]
    memory_nvidia_smi_mib: Option<u64>,
    /// GB/s.
    memory_bandwidth_gb_s: f64,
    /// TFLOP/s.
    dense_fp16_tflops: f64,
    /// TFLOP/s; default half the FP16 rate (TF32 on Ampere, Ada, Hopper, Blackwell).
    #[serde(default)]
    dense_fp32_tflops: Option<f64>,
    /// TFLOP/s of FP8 tensor cores (dense, FP32 accumulate); absent on GPUs without them.
    #[serde(default)]
    dense_fp8_tflops: Option<f64>,
    /// TFLOP/s of FP4 tensor cores (NVFP4 / MXFP4, dense, FP32 accumulate); absent on GPUs
    /// without them.
    #[serde(default)]
    dense_fp4_tflops: Option<f64>,
    interconnect: InterconnectEntry,
    #[serde(default)]
    price_usd_per_hour: Option<f64>,
    #[serde(default)]
    price_source: Option<String>,
    source: String,
}

/// A link in friendly units.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InterconnectEntry {
    kind: LinkKind,
    /// GB/s per direction.
    bandwidth_gb_s: f64,
}

/// A number as a user would write it: plain, or in exponent form when plain would run to dozens
/// of digits (1e-300, 1e12).
fn readable(v: f64) -> String {
    if v != 0.0 && v.is_finite() && (v.abs() < 1e-3 || v.abs() >= 1e7) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

impl GpuEntry {
    fn into_spec(self, origin: &str) -> Result<GpuSpec> {
        let who = format!("GPU '{}'", self.id);
        // Each rate in the file's own units, within what any device could have (from a tenth of a
        // TFLOP/s and 1 GB/s to a hundred times a B300's), so a typo in a user's file is named,
        // not simulated into an overflowing clock.
        let memory_gib = self
            .memory_total_gib_cuda
            .or(self.memory_total_mib_cuda.map(|m| m as f64 / 1024.0));
        // The optional tensor rates may be 0 (no such tensor cores), as before.
        for (field, value, zero_ok, min, max) in [
            ("memory_total_gib_cuda", memory_gib, false, 0.25, 4096.0),
            (
                "memory_bandwidth_gb_s",
                Some(self.memory_bandwidth_gb_s),
                false,
                1.0,
                1.0e6,
            ),
            ("dense_fp16_tflops", Some(self.dense_fp16_tflops), false, 0.1, 1.0e6),
            ("dense_fp32_tflops", self.dense_fp32_tflops, false, 0.01, 1.0e6),
            ("dense_fp8_tflops", self.dense_fp8_tflops, true, 0.1, 2.0e6),
            ("dense_fp4_tflops", self.dense_fp4_tflops, true, 0.1, 4.0e6),
            (
                "interconnect.bandwidth_gb_s",
                Some(self.interconnect.bandwidth_gb_s),
                false,
                0.1,
                1.0e6,
            ),
        ] {
            if let Some(v) = value {
                let in_range = v.is_finite() && ((zero_ok && v == 0.0) || (min..=max).contains(&v));
                if !in_range {
                    let zero = if zero_ok { "0 or " } else { "" };
                    return Err(Error::invalid(
                        origin,
                        field,
                        format!("{who}: {} is outside {zero}[{min}, {max}]", readable(v)),
                    ));
                }
            }
        }
        let memory_total_bytes = match (self.memory_total_gib_cuda, self.memory_total_mib_cuda) {
            (Some(gib), None) => {
                if !(gib.is_finite() && gib > 0.0) {
                    return Err(Error::invalid(
                        origin,
                        "memory_total_gib_cuda",
                        format!("{who}: must be a finite number > 0, got {gib}"),
                    ));
                }
                (gib * GIB).round() as u64
            }
            (None, Some(mib)) => mib.saturating_mul(MIB as u64),
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    origin,
                    "memory_total_gib_cuda",
                    format!("{who}: give memory_total_gib_cuda or memory_total_mib_cuda, not both"),
                ))
            }
            (None, None) => {
                return Err(Error::invalid(
                    origin,
                    "memory_total_gib_cuda",
                    format!("{who}: required (or memory_total_mib_cuda): the total CUDA reports"),
                ))
            }
        };
        if let Some(smi) = self.memory_nvidia_smi_mib {
            let smi_bytes = smi.saturating_mul(MIB as u64);
            if smi_bytes < memory_total_bytes {
                return Err(Error::invalid(
                    origin,
                    "memory_nvidia_smi_mib",
                    format!(
                        "{who}: nvidia-smi total {smi} MiB is below the CUDA total {:.0} MiB",
                        memory_total_bytes as f64 / MIB
                    ),
                ));
            }
        }
        Ok(GpuSpec {
            id: self.id,
            name: self.name,
            aliases: self.aliases,
            architecture: self.architecture,
            memory_total_bytes,
            memory_bandwidth_bytes_s: self.memory_bandwidth_gb_s * GB_S,
            dense_fp16_flops: self.dense_fp16_tflops * TFLOPS,
            dense_fp32_flops: self.dense_fp32_tflops.unwrap_or(self.dense_fp16_tflops / 2.0) * TFLOPS,
            dense_fp8_flops: self.dense_fp8_tflops.map(|t| t * TFLOPS),
            dense_fp4_flops: self.dense_fp4_tflops.map(|t| t * TFLOPS),
            interconnect: Interconnect {
                kind: self.interconnect.kind,
                bandwidth_bytes_s: self.interconnect.bandwidth_gb_s * GB_S,
            },
            price_usd_per_hour: self.price_usd_per_hour,
            price_source: self.price_source,
            source: self.source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"
gpus:
  - id: toy
    name: Toy GPU
    architecture: ada
    aliases: ["T0"]
    memory_total_gib_cuda: 23.53
    memory_nvidia_smi_mib: 24564
    memory_bandwidth_gb_s: 1008
    dense_fp16_tflops: 165.2
    interconnect: {kind: pcie, bandwidth_gb_s: 32}
    price_usd_per_hour: 0.6
    price_source: "list (Mar 2026)"
    source: "test"
"#;

    #[test]
    fn friendly_units_convert_to_si() {
        let gpus = gpus_from_yaml(ONE, "test.yaml").expect("parses");
        let g = &gpus[0];
        assert_eq!(g.memory_total_bytes, (23.53 * GIB).round() as u64);
        assert_eq!(g.memory_bandwidth_bytes_s, 1008e9);
        assert!((g.dense_fp16_flops - 165.2e12).abs() < 1.0);
        assert_eq!(g.interconnect.kind, LinkKind::Pcie);
        assert_eq!(g.interconnect.bandwidth_bytes_s, 32e9);
        assert_eq!(g.price_usd_per_hour, Some(0.6));
    }

    /// An RTX Blackwell card declared as datacenter Blackwell is refused, naming the field and the
    /// value it takes; declared `blackwell_rtx`, it loads.
    #[test]
    fn an_rtx_blackwell_card_is_blackwell_rtx() {
        let rtx = ONE.replace("name: Toy GPU", "name: NVIDIA GeForce RTX 5080");
        let datacenter = rtx.replace("architecture: ada", "architecture: blackwell");
        match gpus_from_yaml(&datacenter, "g.yaml") {
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.contains("g.yaml") && msg.contains("architecture"), "{msg}");
                assert!(msg.contains("its architecture is blackwell_rtx"), "{msg}");
            }
            Ok(g) => panic!("loaded as {:?}", g[0].architecture),
        }
        let ok = rtx.replace("architecture: ada", "architecture: blackwell_rtx");
        let g = &gpus_from_yaml(&ok, "g.yaml").expect("loads")[0];
        assert_eq!(g.architecture, GpuArch::BlackwellRtx);
        assert!(g.is_consumer_blackwell());
    }

    #[test]
    fn mib_total_is_exact() {
        let text = ONE.replace("memory_total_gib_cuda: 23.53", "memory_total_mib_cuda: 24091");
        let g = &gpus_from_yaml(&text, "t.yaml").expect("parses")[0];
        assert_eq!(g.memory_total_bytes, 24091 * 1024 * 1024);
    }

    #[test]
    fn unknown_field_is_a_parse_error() {
        let text = ONE.replace("source: \"test\"", "source: \"test\"\n    tdp_w: 450");
        match gpus_from_yaml(&text, "t.yaml") {
            Err(Error::Parse { origin, message, .. }) => {
                assert_eq!(origin, "t.yaml");
                assert!(message.contains("tdp_w"), "{message}");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn both_or_neither_memory_keys_are_refused() {
        let both = ONE.replace(
            "memory_total_gib_cuda: 23.53",
            "memory_total_gib_cuda: 23.53\n    memory_total_mib_cuda: 24091",
        );
        assert!(matches!(
            gpus_from_yaml(&both, "t"),
            Err(Error::InvalidField { field, .. }) if field == "memory_total_gib_cuda"
        ));
        let neither = ONE.replace("    memory_total_gib_cuda: 23.53\n", "");
        assert!(matches!(
            gpus_from_yaml(&neither, "t"),
            Err(Error::InvalidField { field, .. }) if field == "memory_total_gib_cuda"
        ));
    }

    #[test]
    fn cuda_total_above_nvidia_smi_is_refused() {
        let text = ONE.replace("memory_nvidia_smi_mib: 24564", "memory_nvidia_smi_mib: 20000");
        assert!(matches!(
            gpus_from_yaml(&text, "t"),
            Err(Error::InvalidField { field, .. }) if field == "memory_nvidia_smi_mib"
        ));
    }

    #[test]
    fn validate_rejects_nonpositive_rates() {
        let mut g = gpus_from_yaml(ONE, "t").expect("parses").remove(0);
        assert!(g.validate("t").is_ok());
        g.dense_fp16_flops = 0.0;
        assert!(matches!(
            g.validate("t"),
            Err(Error::InvalidField { field, .. }) if field == "dense_fp16_flops"
        ));
        g.dense_fp16_flops = 1e12;
        g.memory_bandwidth_bytes_s = f64::NAN;
        assert!(g.validate("t").is_err());
        g.memory_bandwidth_bytes_s = 1e12;
        g.memory_total_bytes = 0;
        assert!(g.validate("t").is_err());
        g.memory_total_bytes = 1;
        g.price_source = None;
        assert!(matches!(
            g.validate("t"),
            Err(Error::InvalidField { field, .. }) if field == "price_source"
        ));
    }

    #[test]
    fn link_kind_serde_names() {
        let k: LinkKind = serde_json::from_str("\"nvlink\"").expect("parses");
        assert_eq!(k, LinkKind::Nvlink);
        assert_eq!(serde_json::to_string(&LinkKind::Pcie).expect("serializes"), "\"pcie\"");
        let x: LinkKind = serde_json::from_str("\"xgmi\"").expect("parses");
        assert_eq!(x, LinkKind::Xgmi);
    }

    #[test]
    fn fp4_rate_converts_and_is_optional() {
        assert_eq!(gpus_from_yaml(ONE, "t").expect("parses")[0].dense_fp4_flops, None);
        let text = ONE.replace(
            "dense_fp16_tflops: 165.2",
            "dense_fp16_tflops: 165.2\n    dense_fp4_tflops: 2015.2",
        );
        let g = &gpus_from_yaml(&text, "t").expect("parses")[0];
        assert!((g.dense_fp4_flops.expect("fp4 given") - 2015.2e12).abs() < 1.0);
        let negative = ONE.replace(
            "dense_fp16_tflops: 165.2",
            "dense_fp16_tflops: 165.2\n    dense_fp4_tflops: -1",
        );
        assert!(matches!(
            gpus_from_yaml(&negative, "t"),
            Err(Error::InvalidField { field, .. }) if field == "dense_fp4_tflops"
        ));
        let zero = ONE.replace(
            "dense_fp16_tflops: 165.2",
            "dense_fp16_tflops: 165.2\n    dense_fp4_tflops: 0",
        );
        assert_eq!(
            gpus_from_yaml(&zero, "t").expect("0 is allowed")[0].dense_fp4_flops,
            Some(0.0)
        );
    }

    #[test]
    fn amd_architectures_parse_and_print() {
        for (text, arch) in [("cdna3", GpuArch::Cdna3), ("cdna4", GpuArch::Cdna4)] {
            let parsed: GpuArch = serde_json::from_str(&format!("\"{text}\"")).expect("parses");
            assert_eq!(parsed, arch);
            assert_eq!(arch.as_str(), text);
            assert!(GpuArch::ALL.contains(&arch));
        }
        let names: Vec<&str> = GpuArch::ALL.iter().map(|a| a.as_str()).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }
}
