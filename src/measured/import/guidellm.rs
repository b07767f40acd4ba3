//! GuideLLM benchmarks.json (importer under construction).

use super::{ImportedRun, Importer, Source};
use crate::error::{Error, Result};

/// The GuideLLM benchmarks.json format.
pub struct GuideLlm;

impl Importer for GuideLlm {
    fn name(&self) -> &'static str {
        "GuideLLM benchmarks.json"
    }

    fn detect(&self, _origin: &str, _text: &str) -> bool {
        false
    }

    fn import(&self, source: &Source<'_>) -> Result<Vec<ImportedRun>> {
        Err(Error::invalid(source.origin, "(format)", "not read yet"))
    }
}
