//! Typed errors of the library: every failure a user can cause names its origin.

use std::fmt;

/// Result alias used across servecast.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why vLLM (or nano-vllm) would refuse to start with a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RefusalKind {
    /// `max_num_batched_tokens` below `max_model_len` without chunked prefill.
    BatchedTokensBelowModelLen,
    /// `max_num_batched_tokens` below `max_num_seqs`.
    BatchedTokensBelowNumSeqs,
    /// The KV cache cannot hold one request of `max_model_len` tokens.
    KvCacheTooSmall,
    /// Nothing left for KV blocks after weights, activations and runtime memory.
    NoMemoryForCache,
    /// The requested memory is more than what is free on the device.
    NotEnoughFreeMemory,
    /// Any other configuration vLLM rejects (e.g. bad block size, TP not dividing heads).
    InvalidConfig,
    /// The release's model registry has no class for the checkpoint's `architectures`.
    UnsupportedArchitecture,
}

/// Every error servecast returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A GPU name not in the catalog.
    #[error(
        "unknown GPU '{name}'{}; servecast list gpus names the catalog, and SERVECAST_GPUS=file.yaml adds one it lacks",
        suggestion_text(.suggestions)
    )]
    UnknownGpu {
        /// The name as given.
        name: String,
        /// Closest catalog names.
        suggestions: Vec<String>,
    },
    /// A model name not in the catalog (and not a path to a config.json).
    #[error(
        "unknown model '{name}'{}; give a catalog id exactly (servecast list models) or the path to the model's config.json",
        suggestion_text(.suggestions)
    )]
    UnknownModel {
        /// The name as given.
        name: String,
        /// Closest catalog names.
        suggestions: Vec<String>,
    },
    /// A value out of its allowed range, or otherwise invalid.
    #[error("{origin}: field `{field}`: {message}")]
    InvalidField {
        /// Where the value came from: a file path, `--flag`, or `scenario`.
        origin: String,
        /// The field name (vLLM's flag name where there is one).
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A file that does not parse.
    #[error("{origin}:{line}:{column}: {message}")]
    Parse {
        /// The file path (or `<embedded …>`).
        origin: String,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// 1-based column, 0 when unknown.
        column: usize,
        /// The parser's message, naming the field where it can.
        message: String,
    },
    /// The engine would refuse this configuration; `message` is the engine's own text.
    #[error("{message}")]
    EngineRefused {
        /// Which rule refused it.
        kind: RefusalKind,
        /// The engine's message, verbatim (e.g. vLLM's `ValueError: …`).
        message: String,
    },
    /// A file that could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A fit that could not be carried out (too little data, degenerate problem).
    #[error("fit: {0}")]
    Fit(String),
}

fn suggestion_text(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

impl Error {
    /// Shorthand for [`Error::InvalidField`].
    pub fn invalid(origin: impl fmt::Display, field: impl fmt::Display, message: impl fmt::Display) -> Self {
        Error::InvalidField {
            origin: origin.to_string(),
            field: field.to_string(),
            message: message.to_string(),
        }
    }

    /// Converts a serde-saphyr error into [`Error::Parse`] with line and column.
    pub fn from_yaml(origin: impl fmt::Display, err: &serde_saphyr::Error) -> Self {
        let text = err.to_string();
        let (line, column) = match err.location() {
            Some(loc) => (loc.line() as usize, loc.column() as usize),
            None => find_line_column(&text),
        };
        Error::Parse {
            origin: origin.to_string(),
            line,
            column,
            message: text,
        }
    }

    /// Converts a serde_json error into [`Error::Parse`] with line and column.
    pub fn from_json(origin: impl fmt::Display, err: &serde_json::Error) -> Self {
        Error::Parse {
            origin: origin.to_string(),
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
        }
    }

    /// Names where an unknown catalog name came from: an [`Error::UnknownGpu`] or
    /// [`Error::UnknownModel`] becomes an [`Error::InvalidField`] of `origin` (a file, or the
    /// flag) and its `gpu` / `model` field, keeping the suggestions; other errors pass unchanged.
    pub fn located(self, origin: impl fmt::Display) -> Self {
        match &self {
            Error::UnknownGpu { .. } => Error::invalid(origin, "gpu", &self),
            Error::UnknownModel { .. } => Error::invalid(origin, "model", &self),
            _ => self,
        }
    }

    /// The process exit code the CLI uses for this error: 2 for refused or invalid input and for
    /// a file that cannot be read or written (the user named it); 1 for a fit that failed.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Fit(_) => 1,
            _ => 2,
        }
    }
}

/// Finds "line N" and "column M" in a parser message (serde-saphyr prints them in its text).
fn find_line_column(text: &str) -> (usize, usize) {
    fn number_after(text: &str, key: &str) -> usize {
        text.find(key)
            .map(|i| {
                text[i + key.len()..]
                    .trim_start_matches([' ', ':'])
                    .chars()
                    .take_while(|c| c.is_ascii_digit())
                    .collect::<String>()
            })
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
    (number_after(text, "line"), number_after(text, "column"))
}
