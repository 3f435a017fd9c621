//! obscura-media (in progress).
