//! Predicted versus measured, metric by metric, with the relative error.

use serde::Serialize;

use crate::measured::{MeasuredLevel, MeasuredReport, MetricStats};
use crate::metrics::level::LevelResult;
use crate::metrics::summary::Summary;

/// One figure: measured, predicted and the signed relative error (predicted ÷ measured − 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureComparison {
    /// Metric and statistic, e.g. `e2e_latency_ms.mean`.
    pub name: String,
    /// What the report printed.
    pub measured: f64,
    /// What servecast predicts.
    pub predicted: f64,
    /// predicted ÷ measured − 1, as a percentage.
    pub error_pct: f64,
}

/// The figures of one level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelComparison {
    /// Concurrency (closed loop) of the level, if any.
    pub concurrency: Option<u32>,
    /// Request rate of the level, if any.
    pub qps: Option<f64>,
    /// Every figure the report has and a simulation produces.
    pub figures: Vec<FigureComparison>,
}

impl LevelComparison {
    /// The comparison of one named figure, e.g. `output_throughput_tok_s`.
    pub fn figure(&self, name: &str) -> Option<&FigureComparison> {
        self.figures.iter().find(|f| f.name == name)
    }
}

fn push(out: &mut Vec<FigureComparison>, name: String, measured: Option<f64>, predicted: f64) {
    if let Some(m) = measured {
        if m != 0.0 && m.is_finite() {
            out.push(FigureComparison {
                name,
                measured: m,
                predicted,
                error_pct: (predicted / m - 1.0) * 100.0,
            });
        }
    }
}

fn push_stats(out: &mut Vec<FigureComparison>, metric: &str, measured: &Option<MetricStats>, predicted: &Summary) {
    if let Some(m) = measured {
        for (stat, mv, pv) in [
            ("min", m.min, predicted.min),
            ("max", m.max, predicted.max),
            ("mean", m.mean, predicted.mean),
            ("p50", m.p50, predicted.p50),
            ("p90", m.p90, predicted.p90),
            ("p95", m.p95, predicted.p95),
            ("p99", m.p99, predicted.p99),
        ] {
            push(out, format!("{metric}.{stat}"), mv, pv);
        }
    }
}

/// Compares one measured level with its simulated counterpart.
pub fn compare_level(measured: &MeasuredLevel, predicted: &LevelResult) -> LevelComparison {
    let mut figures = Vec::new();
    push(
        &mut figures,
        "total_time_s".into(),
        measured.total_time_s,
        predicted.duration_s,
    );
    push(
        &mut figures,
        "output_throughput_tok_s".into(),
        measured.output_throughput_tok_s,
        predicted.output_throughput_tok_s,
    );
    push(
        &mut figures,
        "request_throughput_req_s".into(),
        measured.request_throughput_req_s,
        predicted.request_throughput_req_s,
    );
    push(
        &mut figures,
        "total_token_throughput_tok_s".into(),
        measured.total_token_throughput_tok_s,
        predicted.total_throughput_tok_s,
    );
    push_stats(&mut figures, "ttft_ms", &measured.ttft_ms, &predicted.ttft_ms);
    push_stats(
        &mut figures,
        "e2e_latency_ms",
        &measured.e2e_latency_ms,
        &predicted.e2e_latency_ms,
    );
    push_stats(&mut figures, "tpot_ms", &measured.tpot_ms, &predicted.tpot_ms);
    push_stats(&mut figures, "itl_ms", &measured.itl_ms, &predicted.itl_ms);
    push_stats(
        &mut figures,
        "output_tokens",
        &measured.output_tokens,
        &predicted.output_tokens,
    );
    if let Some(tts) = &predicted.tts {
        push(
            &mut figures,
            "audio_throughput_x_realtime".into(),
            measured.audio_throughput_x_realtime,
            tts.throughput_x_realtime,
        );
        push_stats(&mut figures, "ttfb_ms", &measured.ttfb_ms, &tts.ttfb_ms);
        push(
            &mut figures,
            "ttfb_lowest_quarter_mean_ms".into(),
            measured.ttfb_lowest_quarter_mean_ms,
            tts.ttfb_lowest_quarter_mean_ms,
        );
        push(
            &mut figures,
            "ttfb_highest_quarter_mean_ms".into(),
            measured.ttfb_highest_quarter_mean_ms,
            tts.ttfb_highest_quarter_mean_ms,
        );
        push_stats(&mut figures, "rtf", &measured.rtf, &tts.rtf);
        let requests = (predicted.requests + predicted.failed).max(1) as f64;
        if predicted.requests > 0 {
            push(
                &mut figures,
                "audio_s".into(),
                measured.audio_s,
                tts.audio_s / predicted.requests as f64,
            );
        }
        // The report's RTF column is n ÷ (8 × throughput) (see the measured file's assumptions).
        if tts.throughput_x_realtime > 0.0 {
            push(
                &mut figures,
                "reported_rtf".into(),
                measured.reported_rtf,
                requests / (8.0 * tts.throughput_x_realtime),
            );
        }
        push(
            &mut figures,
            "success_rate".into(),
            measured.success_rate,
            predicted.requests as f64 / requests,
        );
    }
    LevelComparison {
        concurrency: measured.concurrency,
        qps: measured.qps,
        figures,
    }
}

/// Compares every level of a report with a prediction of the same scenario (levels in the same order).
pub fn compare(report: &MeasuredReport, levels: &[LevelResult]) -> Vec<LevelComparison> {
    report
        .levels
        .iter()
        .zip(levels)
        .map(|(m, p)| compare_level(m, p))
        .collect()
}
