//! obscura-pipeline (in progress).
