//! AIPerf profile export (importer under construction).

use super::{ImportedRun, Importer, Source};
use crate::error::{Error, Result};

/// The AIPerf profile export format.
pub struct AiPerf;

impl Importer for AiPerf {
    fn name(&self) -> &'static str {
        "AIPerf profile export"
    }

    fn detect(&self, _origin: &str, _text: &str) -> bool {
        false
    }

    fn import(&self, source: &Source<'_>) -> Result<Vec<ImportedRun>> {
        Err(Error::invalid(source.origin, "(format)", "not read yet"))
    }
}
