//! Tests of the llmperf importer (written by its importer's owner).
