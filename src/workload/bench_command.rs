//! A pasted load-test command: `vllm bench serve …` (or `benchmarks/benchmark_serving.py …`
//! before it), read into the load it sends: its dataset and lengths, prompts, request rate,
//! concurrency cap, burstiness and endpoint.
//!
//! A planner has the exact command the team will run; pasting it saves translating each flag
//! (and getting a default wrong: `vllm bench serve` draws from `random` by default,
//! `benchmark_serving.py` from ShareGPT). Flags that change nothing the simulation models
//! (host, port, result files, percentiles, sampling temperature) are listed, not refused.

use crate::spec::cmdline::shell_words;
use crate::workload::arrivals::Endpoint;
use crate::workload::datasets::{random_range_lengths, RandomRangeEra};
use crate::workload::lengths::LengthDist;
use crate::{Error, Result};

/// Where errors in a pasted client command are reported.
const ORIGIN: &str = "--client";

/// The dataset a client command draws its prompts from.
#[derive(Debug, Clone, PartialEq)]
pub enum BenchDataset {
    /// `--dataset-name sharegpt`: first turns of ShareGPT conversations, `max_tokens` the
    /// reference answer's length, or `--sharegpt-output-len` for every request.
    Sharegpt {
        /// `--sharegpt-output-len`, tokens.
        output_len: Option<u32>,
    },
    /// `--dataset-name random`: synthetic prompts of `--random-input-len` tokens, answers of
    /// `--random-output-len`, spread by `--random-range-ratio`.
    Random {
        /// Prompt tokens (default 1024).
        input_len: u32,
        /// Output tokens (default 128).
        output_len: u32,
        /// `--random-range-ratio` (default: the client's, a fixed length).
        range_ratio: Option<f64>,
    },
}

/// A client command as servecast reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchCommand {
    /// Prompts and their lengths.
    pub dataset: BenchDataset,
    /// `--num-prompts` (default 1000).
    pub num_prompts: u32,
    /// `--request-rate`, requests per second (default inf: all sent at once).
    pub request_rate: f64,
    /// `--max-concurrency`: most requests outstanding.
    pub max_concurrency: Option<u32>,
    /// `--burstiness`: the gamma shape of the gaps (default 1, Poisson).
    pub burstiness: f64,
    /// The endpoint (`--backend openai-chat` or an `--endpoint …/chat/completions`: chat).
    pub endpoint: Endpoint,
    /// `--model`: the model the command asks the server for.
    pub model: Option<String>,
    /// Flags read but without effect on the simulation (host, result files, …), as written.
    pub ignored: Vec<String>,
}

impl BenchCommand {
    /// Parses a pasted command line (quoted as a shell would; `--flag=value` accepted).
    pub fn parse(line: &str) -> Result<BenchCommand> {
        let words = shell_words(line).map_err(|_| Error::invalid(ORIGIN, "command", "an unterminated quote"))?;
        let first_flag = words.iter().position(|w| w.starts_with("--")).unwrap_or(words.len());
        let program = words[..first_flag].join(" ");
        if !(program.contains("bench") || program.is_empty()) {
            return Err(Error::invalid(
                ORIGIN,
                "command",
                format!(
                    "'{program}' is not vLLM's load tester: paste a `vllm bench serve …` or \
                     `python benchmarks/benchmark_serving.py …` command"
                ),
            ));
        }
        // benchmark_serving.py drew ShareGPT unless told otherwise; `vllm bench serve` draws `random`.
        let mut dataset_name = if program.contains("benchmark_serving") {
            "sharegpt".to_string()
        } else {
            "random".to_string()
        };
        let mut cmd = BenchCommand {
            dataset: BenchDataset::Random {
                input_len: 1024,
                output_len: 128,
                range_ratio: None,
            },
            num_prompts: 1000,
            request_rate: f64::INFINITY,
            max_concurrency: None,
            burstiness: 1.0,
            endpoint: Endpoint::Completions,
            model: None,
            ignored: Vec::new(),
        };
        let (mut random_input, mut random_output, mut range_ratio) = (1024u32, 128u32, None);
        let mut sharegpt_output = None;
        let mut it = words[first_flag..].iter().peekable();
        while let Some(word) = it.next() {
            let (flag, inline) = match word.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.replace('_', "-"), Some(v.to_string())),
                _ => (word.replace('_', "-"), None),
            };
            if !flag.starts_with("--") {
                return Err(Error::invalid(
                    ORIGIN,
                    "command",
                    format!("'{word}' is no flag nor a flag's value"),
                ));
            }
            // The flag's value: after '=', else the next word unless it is a flag.
            let take = |it: &mut std::iter::Peekable<std::slice::Iter<'_, String>>| -> Option<String> {
                inline.clone().or_else(|| it.next_if(|w| !w.starts_with("--")).cloned())
            };
            let need = |it: &mut std::iter::Peekable<std::slice::Iter<'_, String>>| -> Result<String> {
                take(it).ok_or_else(|| Error::invalid(ORIGIN, &flag, "needs a value"))
            };
            match flag.as_str() {
                "--dataset-name" => dataset_name = need(&mut it)?.to_ascii_lowercase(),
                "--model" => cmd.model = Some(need(&mut it)?),
                // benchmark_serving.py before 0.5: `--dataset PATH` was a ShareGPT file.
                "--dataset" => {
                    need(&mut it)?;
                    dataset_name = "sharegpt".into();
                }
                "--random-input-len" => random_input = count(&flag, &need(&mut it)?)?,
                "--random-output-len" => random_output = count(&flag, &need(&mut it)?)?,
                "--random-range-ratio" => range_ratio = Some(number(&flag, &need(&mut it)?)?),
                "--random-prefix-len" => {
                    if count_or_zero(&flag, &need(&mut it)?)? > 0 {
                        return Err(Error::invalid(
                            ORIGIN,
                            "--random-prefix-len",
                            "a shared prefix is not read from a client command: give the lengths with \
                             --input-len and the workload's prefix in a workload file",
                        ));
                    }
                }
                "--sharegpt-output-len" => sharegpt_output = Some(count(&flag, &need(&mut it)?)?),
                "--num-prompts" => cmd.num_prompts = count(&flag, &need(&mut it)?)?,
                "--request-rate" => {
                    let v = need(&mut it)?;
                    cmd.request_rate = if v.trim().eq_ignore_ascii_case("inf") {
                        f64::INFINITY
                    } else {
                        let r = number(&flag, &v)?;
                        if r <= 0.0 {
                            return Err(Error::invalid(ORIGIN, &flag, format!("'{v}' must be > 0 or inf")));
                        }
                        r
                    };
                }
                "--max-concurrency" => cmd.max_concurrency = Some(count(&flag, &need(&mut it)?)?),
                "--burstiness" => {
                    let v = need(&mut it)?;
                    let b = number(&flag, &v)?;
                    if b <= 0.0 {
                        return Err(Error::invalid(ORIGIN, &flag, format!("'{v}' must be > 0")));
                    }
                    cmd.burstiness = b;
                }
                "--backend" | "--endpoint-type" => {
                    if need(&mut it)?.eq_ignore_ascii_case("openai-chat") {
                        cmd.endpoint = Endpoint::Chat;
                    }
                }
                "--endpoint" => {
                    if need(&mut it)?.contains("chat/completions") {
                        cmd.endpoint = Endpoint::Chat;
                    }
                }
                _ => {
                    let shown = match take(&mut it) {
                        Some(v) => format!("{flag} {v}"),
                        None => flag.clone(),
                    };
                    cmd.ignored.push(shown);
                }
            }
        }
        cmd.dataset = match dataset_name.as_str() {
            "sharegpt" => BenchDataset::Sharegpt {
                output_len: sharegpt_output,
            },
            "random" => BenchDataset::Random {
                input_len: random_input,
                output_len: random_output,
                range_ratio,
            },
            other => {
                return Err(Error::invalid(
                    ORIGIN,
                    "--dataset-name",
                    format!(
                        "'{other}': servecast reads the sharegpt and random datasets from a client command; \
                         for another, give --input-len/--output-len, a workload file or the run's result file"
                    ),
                ))
            }
        };
        Ok(cmd)
    }

    /// Prompt and output length distributions, the random dataset's spread as `era`'s client
    /// draws it.
    pub fn lengths(&self, era: RandomRangeEra) -> Result<(LengthDist, LengthDist)> {
        match &self.dataset {
            BenchDataset::Sharegpt { output_len } => Ok((
                LengthDist::Dataset {
                    name: "sharegpt".into(),
                    part: None,
                    mean: None,
                    max: None,
                },
                match output_len {
                    Some(n) => LengthDist::Fixed { tokens: *n },
                    None => LengthDist::Dataset {
                        name: "sharegpt".into(),
                        part: None,
                        mean: None,
                        max: None,
                    },
                },
            )),
            BenchDataset::Random {
                input_len,
                output_len,
                range_ratio,
            } => {
                let ratio = range_ratio.unwrap_or(match era {
                    RandomRangeEra::Y2024 => 1.0,
                    _ => 0.0,
                });
                Ok((
                    random_range_lengths(*input_len, ratio, era, ORIGIN)?,
                    random_range_lengths(*output_len, ratio, era, ORIGIN)?,
                ))
            }
        }
    }
}

/// A whole number ≥ 1.
fn count(flag: &str, text: &str) -> Result<u32> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| Error::invalid(ORIGIN, flag, format!("'{text}' must be a whole number ≥ 1")))
}

/// A whole number ≥ 0.
fn count_or_zero(flag: &str, text: &str) -> Result<u32> {
    text.trim()
        .parse::<u32>()
        .map_err(|_| Error::invalid(ORIGIN, flag, format!("'{text}' must be a whole number ≥ 0")))
}

/// A finite number.
fn number(flag: &str, text: &str) -> Result<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| Error::invalid(ORIGIN, flag, format!("'{text}' is not a number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vllm_bench_serve_line_reads_as_the_load_it_sends() {
        let c = BenchCommand::parse(
            "vllm bench serve --model meta-llama/Llama-3.1-8B-Instruct --dataset-name random \
             --random-input-len 2000 --random-output-len=200 --random-range-ratio 0.25 \
             --num-prompts 500 --request-rate 8 --max-concurrency 64 --burstiness 0.5 \
             --backend openai-chat --endpoint /v1/chat/completions --save-result --port 8000",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.num_prompts, 500);
        assert_eq!(c.request_rate, 8.0);
        assert_eq!(c.max_concurrency, Some(64));
        assert_eq!(c.burstiness, 0.5);
        assert_eq!(c.endpoint, Endpoint::Chat);
        assert_eq!(c.model.as_deref(), Some("meta-llama/Llama-3.1-8B-Instruct"));
        assert_eq!(c.ignored, vec!["--save-result".to_string(), "--port 8000".into()]);
        let (input, output) = c.lengths(RandomRangeEra::Current).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(input, LengthDist::Uniform { min: 1500, max: 2500 });
        assert_eq!(output, LengthDist::Uniform { min: 150, max: 250 });
    }

    #[test]
    fn each_programs_defaults_hold() {
        // vllm bench serve: random 1024/128, 1000 prompts, all at once.
        let c = BenchCommand::parse("vllm bench serve --model m").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.request_rate, f64::INFINITY);
        assert_eq!(c.num_prompts, 1000);
        let (input, output) = c.lengths(RandomRangeEra::Current).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (input, output),
            (LengthDist::Fixed { tokens: 1024 }, LengthDist::Fixed { tokens: 128 })
        );
        // benchmark_serving.py: ShareGPT; a fixed answer length when asked.
        let c = BenchCommand::parse(
            "python benchmarks/benchmark_serving.py --backend vllm --dataset-path x.json --sharegpt-output-len 256",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.dataset, BenchDataset::Sharegpt { output_len: Some(256) });
        // 2024's client: range ratio r draws [L·r, L].
        let c = BenchCommand::parse("vllm bench serve --dataset-name random --random-range-ratio 0.5")
            .unwrap_or_else(|e| panic!("{e}"));
        let (input, _) = c.lengths(RandomRangeEra::Y2024).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(input, LengthDist::Uniform { min: 512, max: 1024 });
    }

    #[test]
    fn what_it_cannot_read_is_refused_naming_the_flag() {
        for (line, words) in [
            ("vllm serve m --max-num-seqs 8", "not vLLM's load tester"),
            ("vllm bench serve --dataset-name sonnet", "sharegpt and random"),
            ("vllm bench serve --num-prompts 0", "whole number ≥ 1"),
            ("vllm bench serve --request-rate -1", "> 0 or inf"),
            ("vllm bench serve --burstiness nan", "not a number"),
            ("vllm bench serve --random-prefix-len 100", "shared prefix"),
            ("vllm bench serve --num-prompts", "needs a value"),
            ("vllm bench serve --num-prompts 5 stray", "no flag"),
            ("vllm bench serve --model 'unterminated", "quote"),
        ] {
            match BenchCommand::parse(line) {
                Err(Error::InvalidField { message, .. }) => assert!(message.contains(words), "{line}: {message}"),
                other => panic!("{line}: {other:?}"),
            }
        }
        let c = BenchCommand::parse("vllm bench serve --random-range-ratio 1").unwrap_or_else(|e| panic!("{e}"));
        assert!(c.lengths(RandomRangeEra::Current).is_err());
    }
}
