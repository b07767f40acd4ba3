//! The `servecast` command line: arguments mapped onto the library's commands ([`servecast::app`]).

mod args;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};
use servecast::app::{self, Outcome};
use servecast::error::Result;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(outcome) => {
            for note in &outcome.notes {
                note_err(note);
            }
            emit(&outcome.text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            note_err(&format!("error: {e}"));
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn run(command: Command) -> Result<Outcome> {
    match command {
        Command::Simulate(a) => app::simulate::simulate(&a.deployment(), &a.simulate_options()?),
        Command::Sweep(a) => app::sweep::sweep(&a.base.deployment(), &a.command()?),
        Command::SweepMerge(a) => app::sweep::merge(&a.command()?),
        Command::Plan(a) => app::plan::plan(&a.base.deployment(), &a.command()?),
        Command::Plot {
            what,
            output,
            replications,
            formats,
        } => app::corpus::plot(&what, &output, replications, &formats),
        Command::Fit(a) => app::fit::fit(&a.command()?),
        Command::List { what } => app::list(&what),
        Command::Validate {
            corpus,
            output,
            plot,
            calibration,
        } => app::corpus::validate(
            &corpus,
            output.as_deref(),
            plot.as_deref(),
            calibration.as_deref(),
            true,
        ),
        Command::Priors { corpus, output } => app::corpus::priors(&corpus, output.as_deref(), true),
    }
}

/// Prints a line to stderr; a closed pipe (`2>&1 | head`) drops it instead of panicking, so the
/// exit code stays the command's own (2 for bad input).
fn note_err(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Prints to stdout; a closed pipe (e.g. `| head`) ends the output quietly instead of panicking.
fn emit(text: &str) {
    use std::io::Write;
    if text.is_empty() {
        return;
    }
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{}", text.trim_end_matches('\n')).is_err() {
        std::process::exit(0);
    }
}
