//! Progress bars shared by the subcommands.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The look of a bar whose length is known.
const BAR: &str = "{msg:>12} [{bar:40}] {pos}/{len} ({per_sec}, ETA {eta})";

/// A bar of `len` steps with ETA, drawn on stderr, or hidden when `quiet` or `len` is 0
/// and unknown (a spinner then).
pub fn bar(len: Option<u64>, quiet: bool, what: &str) -> ProgressBar {
    let pb = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    if quiet {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    let template = if len.is_some() {
        BAR
    } else {
        "{msg:>12} {spinner} {pos} ({per_sec})"
    };
    pb.set_style(
        ProgressStyle::with_template(template)
            .expect("static template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// Gives a spinner from [`bar`] its length once it is known: it becomes a bar with ETA.
pub fn set_length(pb: &ProgressBar, len: u64) {
    pb.set_length(len);
    pb.set_style(
        ProgressStyle::with_template(BAR)
            .expect("static template")
            .progress_chars("=> "),
    );
}
