use servecast::scenario::Scenario;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = std::path::Path::new(&args[1]);
    let docs = servecast::measured::corpus_reports(path.parent().unwrap().parent().unwrap()).unwrap();
    for report in docs.iter().filter(|r| r.id.contains(&args[2])) {
        let scenario = Scenario::builder().from_report(report).build().unwrap();
        let run = scenario.run().unwrap();
        for (m, r) in report.levels.iter().zip(&run.levels) {
            let c = servecast::report::compare::compare_level(m, r);
            println!(
                "{} [{}] steps {} busy {:.2}s dur {:.2}s maxseqs {} maxtok {}",
                report.id,
                scenario.profile.id,
                r.engine.steps,
                r.engine.busy_ns as f64 / 1e9,
                r.duration_s,
                r.engine.max_step_seqs,
                r.engine.max_step_tokens
            );
            for f in &c.figures {
                println!(
                    "   {:28} meas {:10.2} pred {:10.2} {:+6.1}%",
                    f.name, f.measured, f.predicted, f.error_pct
                );
            }
        }
    }
}
