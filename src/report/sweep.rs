//! Renders a sweep: the best configurations as a table, the refusals grouped by the engine's
//! message, or every row as CSV / JSON.

use std::collections::BTreeMap;
use std::fmt::Write;

use comfy_table::{presets, Table};

use super::Format;
use crate::error::{Error, Result};
use crate::sweep::{to_csv, RankMetric, SweepOutcome, SweepRow};

/// Renders ranked rows: `top` best rows for table and markdown, every row for CSV and JSON.
pub fn render_sweep(rows: &[SweepRow], metric: RankMetric, top: usize, format: Format) -> Result<String> {
    match format {
        Format::Csv => return Ok(to_csv(rows)),
        Format::Json => {
            return serde_json::to_string_pretty(rows).map_err(|e| Error::invalid("--format", "json", e.to_string()))
        }
        Format::Table | Format::Markdown => {}
    }
    let terminal = format == Format::Table;
    let ran: Vec<&SweepRow> = rows
        .iter()
        .filter(|r| r.metrics().is_some_and(|m| m.requests > 0))
        .collect();
    let all_failed: Vec<&SweepRow> = rows
        .iter()
        .filter(|r| r.metrics().is_some_and(|m| m.requests == 0))
        .collect();
    let refused: Vec<&SweepRow> = rows
        .iter()
        .filter(|r| matches!(r.outcome, SweepOutcome::Refused { .. }))
        .collect();
    let failed: Vec<&SweepRow> = rows
        .iter()
        .filter(|r| matches!(r.outcome, SweepOutcome::Failed { .. }))
        .collect();
    let configs = rows
        .iter()
        .map(|r| r.config)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{configs} configurations: {} simulated rows, {} refused at start-up{}{}; best {} by {} ({}; ties: fewer \
         failed requests, then more req/s, then lower TTFT P95):\n",
        ran.len(),
        refused.len(),
        if failed.is_empty() {
            String::new()
        } else {
            format!(", {} stopped before their last level (listed below)", failed.len())
        },
        if all_failed.is_empty() {
            String::new()
        } else {
            format!(
                ", {} not ranked because every request failed (e.g. prompt + output over max_model_len)",
                all_failed.len()
            )
        },
        top.min(ran.len()),
        metric.name(),
        if metric.higher_is_better() {
            "higher is better"
        } else {
            "lower is better"
        }
    );
    let params: Vec<String> = rows
        .first()
        .map(|r| r.settings.iter().map(|(p, _)| p.short().to_string()).collect())
        .unwrap_or_default();
    let mut header: Vec<String> = vec!["#".into()];
    header.extend(params);
    header.extend(
        [
            "level",
            "req/s",
            "out tok/s",
            "TTFT mean (ms)",
            "TTFT P95 (ms)",
            "TPOT P95 (ms)",
            "E2E P95 (ms)",
            "× RT",
            "$/h",
        ]
        .map(String::from),
    );
    let mut body: Vec<Vec<String>> = Vec::new();
    for (i, r) in ran.iter().take(top).enumerate() {
        let Some(m) = r.metrics() else { continue };
        let mut cells = vec![(i + 1).to_string()];
        cells.extend(r.settings.iter().map(|(_, v)| v.to_string()));
        cells.extend([
            m.level.clone(),
            format!("{:.2}", m.request_throughput_req_s),
            format!("{:.0}", m.output_throughput_tok_s),
            format!("{:.1}", m.ttft_ms_mean),
            format!("{:.1}", m.ttft_ms_p95),
            format!("{:.2}", m.tpot_ms_p95),
            format!("{:.0}", m.e2e_ms_p95),
            m.x_realtime.map_or("–".into(), |x| format!("{x:.1}")),
            m.price_usd_per_hour.map_or("–".into(), |p| format!("{p:.2}")),
        ]);
        body.push(cells);
    }
    table(&mut out, &header, &body, terminal);
    if !refused.is_empty() {
        // Group by the rule that refused (the messages differ only in their numbers).
        let mut by_rule: BTreeMap<String, (usize, usize, &str)> = BTreeMap::new();
        for r in &refused {
            if let SweepOutcome::Refused { kind, message } = &r.outcome {
                let rule = kind.map_or_else(|| "invalid configuration".to_string(), |k| format!("{k:?}"));
                let e = by_rule.entry(rule).or_insert((0, r.config, message.as_str()));
                e.0 += 1;
            }
        }
        let _ = writeln!(
            out,
            "\nRefused at start-up ({} configurations), by rule, with the first one's message:\n",
            refused.len()
        );
        let mut groups: Vec<_> = by_rule.into_iter().collect();
        groups.sort_by_key(|g| std::cmp::Reverse(g.1 .0));
        for (rule, (count, first, message)) in &groups {
            let _ = writeln!(out, "  {count:>5} × {rule} (config {first}): {message}");
        }
    }
    if !failed.is_empty() {
        let _ = writeln!(
            out,
            "\nStopped before their last level ({} configurations; the levels they finished are ranked above):\n",
            failed.len()
        );
        const SHOWN: usize = 20;
        for r in failed.iter().take(SHOWN) {
            if let SweepOutcome::Failed { reason } = &r.outcome {
                let settings = r
                    .settings
                    .iter()
                    .map(|(p, v)| format!("{}={v}", p.short()))
                    .collect::<Vec<_>>()
                    .join(" ");
                let _ = writeln!(out, "  config {} ({settings}): {reason}", r.config);
            }
        }
        if failed.len() > SHOWN {
            let _ = writeln!(out, "  … and {} more (every row is in -o FILE)", failed.len() - SHOWN);
        }
    }
    Ok(out)
}

fn table(out: &mut String, header: &[String], body: &[Vec<String>], terminal: bool) {
    if terminal {
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED);
        t.set_header(header.to_vec());
        for r in body {
            t.add_row(r.clone());
        }
        let _ = writeln!(out, "{t}");
    } else {
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(out, "|{}|", header.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
        for r in body {
            let _ = writeln!(out, "| {} |", r.join(" | "));
        }
    }
}
