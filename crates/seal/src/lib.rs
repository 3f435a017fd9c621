//! obscura-seal (in progress).
