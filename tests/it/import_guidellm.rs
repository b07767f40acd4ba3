//! Tests of the guidellm importer (written by its importer's owner).
