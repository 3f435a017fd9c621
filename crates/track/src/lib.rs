//! obscura-track (in progress).
