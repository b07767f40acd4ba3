//! Tests of the sglang importer (written by its importer's owner).
