//! `obscura`: privacy-safe, encrypted, signed exports of surveillance footage.
//!
//! Exit codes: 0 success, 1 findings (a check that ran and failed, such as `verify` on a
//! tampered export), 2 error (bad input, missing file, I/O failure).

mod cmd_audit;
mod cmd_cut;
mod cmd_export;
mod cmd_inspect;
mod cmd_keygen;
mod cmd_models;
mod cmd_open;
mod cmd_probe;
mod cmd_purge;
mod cmd_redact;
mod cmd_review;
mod cmd_seal;
mod cmd_tracks;
mod cmd_trust;
mod cmd_verify;
mod detection_args;
mod masking_args;
mod output;
mod people;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Obscura turns surveillance footage into privacy-safe, encrypted, signed exports for GDPR
/// access (Art. 15) and erasure (Art. 17) requests. Everything runs offline.
#[derive(Parser, Debug)]
#[command(name = "obscura", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Silence progress bars (errors and results are still printed).
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Log on stderr what runs and how long each stage takes (`-v`: debug, `-vv`: trace).
    /// `RUST_LOG` (e.g. `obscura_pipeline=debug`) overrides it. Logs never carry file
    /// contents, keys, passphrases or names of people.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)] // parsed once per run; boxing buys nothing
enum Command {
    /// Manage the sha256-pinned detection models (fetch, list).
    #[command(subcommand)]
    Models(cmd_models::ModelsCommand),
    /// Show what a media file holds: streams, codec, size, frame rate, duration, frames.
    Probe(cmd_probe::ProbeArgs),
    /// Erasure export: keep only chosen time ranges, frame-exact, one MP4 per period.
    Cut(cmd_cut::CutArgs),
    /// Find and track every person and face; write tracks JSON and a contact sheet.
    Tracks(cmd_tracks::TracksArgs),
    /// Mask everyone but the data subject in videos, stills and folders of them.
    Redact(cmd_redact::RedactArgs),
    /// Review and correct the masking of a clip in a local web page; writes the edits file.
    Review(cmd_review::ReviewArgs),
    /// Create a signing key pair and a recipient key pair (text files; secrets mode 0600).
    Keygen(cmd_keygen::KeygenArgs),
    /// Encrypt and sign files into one export (.obx) for recipients and/or a passphrase.
    Seal(cmd_seal::SealArgs),
    /// Check an export's signature and hashes without any key (exit 1 when it fails).
    Verify(cmd_verify::VerifyArgs),
    /// Verify, then decrypt an export's payloads into a folder.
    Open(cmd_open::OpenArgs),
    /// Trusted signer keys (`open` and `verify` accept only these without --signer).
    #[command(subcommand)]
    Trust(cmd_trust::TrustCommand),
    /// Show an export's manifest without decrypting.
    Inspect(cmd_inspect::InspectArgs),
    /// Audit log: `obscura audit verify LOG` checks its hash chain.
    #[command(subcommand)]
    Audit(cmd_audit::AuditCommand),
    /// One data-subject request (access or erasure) into one sealed, audited package.
    Export(Box<cmd_export::ExportArgs>),
    /// Retention: delete packages whose signed expiry date has passed.
    Purge(cmd_purge::PurgeArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on standard output.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of obscura, or of one of its commands, on standard output
    /// (`obscura man redact | man -l -`).
    Man {
        /// A command (e.g. `redact`); none: the top-level page.
        command: Option<String>,
    },
}

/// `obscura completions SHELL`.
fn print_completions(shell: clap_complete::Shell) -> anyhow::Result<Outcome> {
    use clap::CommandFactory;
    clap_complete::generate(
        shell,
        &mut Cli::command(),
        "obscura",
        &mut std::io::stdout(),
    );
    Ok(Outcome::Ok)
}

/// `obscura man [COMMAND]`.
fn print_man(command: Option<&str>) -> anyhow::Result<Outcome> {
    use clap::CommandFactory;
    let top = Cli::command();
    let page = match command {
        None => top,
        Some(name) => {
            let Some(sub) = top.find_subcommand(name) else {
                anyhow::bail!("man: no command {name:?} (see obscura --help)");
            };
            sub.clone().display_name(format!("obscura-{name}"))
        }
    };
    clap_mangen::Man::new(page).render(&mut std::io::stdout())?;
    Ok(Outcome::Ok)
}

/// Outcome of a command that ran without error.
pub enum Outcome {
    /// Everything checked out (exit 0).
    Ok,
    /// A check ran and found a problem, already reported (exit 1).
    Findings,
}

/// Logs to stderr: `RUST_LOG` when set, else warnings only, `-v` debug, `-vv` trace (for
/// the obscura crates; other crates stay at warnings).
fn init_logs(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let level = match verbose {
        0 => "warn",
        1 => "warn,obscura=debug,obscura_cli=debug,obscura_pipeline=debug,obscura_request=debug",
        _ => "warn,obscura=trace,obscura_cli=trace,obscura_pipeline=trace,obscura_request=trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .try_init();
}

/// The command line, with `--version` (the long form) saying which FFmpeg, ONNX Runtime and
/// models this binary runs with; worked out only when asked for (it loads ONNX Runtime).
fn parse_cli() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let mut cmd = Cli::command();
    if std::env::args_os().any(|a| a == "--version") {
        cmd = cmd.long_version(String::leak(long_version()) as &str); // once per process
    }
    let matches = cmd.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// `obscura --version`: the version, the FFmpeg libraries, ONNX Runtime and each model's
/// pinned sha256 with whether it is installed and matches.
fn long_version() -> String {
    let mut out = format!(
        "{}\nFFmpeg: {}\n",
        env!("CARGO_PKG_VERSION"),
        obscura_media::ffmpeg_versions()
    );
    match obscura_detect::runtime::init(None) {
        Ok(path) => {
            // The wheel's library is named by its version (libonnxruntime.so.1.31.1).
            let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            let name = real
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let version = name
                .strip_prefix("libonnxruntime.so.")
                .unwrap_or("(version not in the file name)");
            out += &format!(
                "ONNX Runtime: {version} ({}; {})\n",
                path.display(),
                obscura_detect::runtime::build_info()
            );
        }
        Err(e) => out += &format!("ONNX Runtime: not loaded ({e})\n"),
    }
    match obscura_detect::models::ModelStore::discover() {
        Ok(store) => {
            out += &format!("models ({}):\n", store.dir().display());
            for m in store.entries() {
                let state = match store.path(&m.name) {
                    Ok(_) => "installed, sha256 ok",
                    Err(_) => "not installed or different",
                };
                out += &format!("  {} sha256 {} ({state})\n", m.name, m.sha256);
            }
        }
        Err(e) => out += &format!("models: {e}\n"),
    }
    out.trim_end().to_string()
}

fn main() -> ExitCode {
    // A closed pipe (`obscura verify x | head`) ends the process quietly, as it does for
    // other Unix tools, instead of a panic in `println!`. Outputs are atomic, so being
    // stopped there leaves nothing partial (as any kill does).
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = parse_cli();
    init_logs(cli.verbose);
    let quiet = cli.quiet;
    let result = match cli.command {
        Command::Models(c) => cmd_models::run(c, quiet),
        Command::Probe(a) => cmd_probe::run(a, quiet),
        Command::Cut(a) => cmd_cut::run(a, quiet),
        Command::Tracks(a) => cmd_tracks::run(a, quiet),
        Command::Redact(a) => cmd_redact::run(a, quiet),
        Command::Review(a) => cmd_review::run(a, quiet),
        Command::Keygen(a) => cmd_keygen::run(a, quiet),
        Command::Seal(a) => cmd_seal::run(a, quiet),
        Command::Verify(a) => cmd_verify::run(a, quiet),
        Command::Open(a) => cmd_open::run(a, quiet),
        Command::Trust(c) => cmd_trust::run(c, quiet),
        Command::Inspect(a) => cmd_inspect::run(a, quiet),
        Command::Audit(c) => cmd_audit::run(c, quiet),
        Command::Export(a) => cmd_export::run(*a, quiet),
        Command::Purge(a) => cmd_purge::run(a, quiet),
        Command::Completions { shell } => print_completions(shell),
        Command::Man { command } => print_man(command.as_deref()),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) => {
            // One line whatever the message holds (a file name with a newline or escape).
            let text: String = format!("{e:#}")
                .chars()
                .flat_map(|c| {
                    if c.is_control() {
                        c.escape_default().collect::<Vec<_>>()
                    } else {
                        vec![c]
                    }
                })
                .collect();
            eprintln!("obscura: error: {text}");
            ExitCode::from(2)
        }
    }
}
