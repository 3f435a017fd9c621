//! obscura-render (in progress).
