//! Tests of the aiperf importer (written by its importer's owner).
