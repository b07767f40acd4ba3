//! llmperf summary / individual responses (importer under construction).

use super::{ImportedRun, Importer, Source};
use crate::error::{Error, Result};

/// The llmperf summary / individual responses format.
pub struct LlmPerf;

impl Importer for LlmPerf {
    fn name(&self) -> &'static str {
        "llmperf summary / individual responses"
    }

    fn detect(&self, _origin: &str, _text: &str) -> bool {
        false
    }

    fn import(&self, source: &Source<'_>) -> Result<Vec<ImportedRun>> {
        Err(Error::invalid(source.origin, "(format)", "not read yet"))
    }
}
