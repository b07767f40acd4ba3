//! SGLang bench_serving JSONL (importer under construction).

use super::{ImportedRun, Importer, Source};
use crate::error::{Error, Result};

/// The SGLang bench_serving JSONL format.
pub struct SglangBench;

impl Importer for SglangBench {
    fn name(&self) -> &'static str {
        "SGLang bench_serving JSONL"
    }

    fn detect(&self, _origin: &str, _text: &str) -> bool {
        false
    }

    fn import(&self, source: &Source<'_>) -> Result<Vec<ImportedRun>> {
        Err(Error::invalid(source.origin, "(format)", "not read yet"))
    }
}
