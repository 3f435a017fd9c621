//! The grammar every command shares: where outputs go (`-o/--output`, `--force`), the one
//! JSON document `--json` prints, and what `--threads` means.
//!
//! * An existing output is refused (exit 2, the message names the file and says that
//!   `--force` overwrites it) unless `--force` is given; the replacement is still atomic (the
//!   writers publish a finished temporary file in one step and never follow a symlink).
//! * An output that is one of the command's inputs is refused even with `--force`.
//! * `--json` prints exactly one JSON object on standard output whose first field is
//!   `"format": "obscura-COMMAND/1"` (docs/JSON.md); progress, notes and warnings go to
//!   standard error.
//! * `--threads 0` (the default everywhere) means one inference thread per core.

use std::path::Path;

use anyhow::{Result, bail};
use serde::Serialize;

/// Fails when `output` exists (a file, a folder or a symlink, dangling or not) and `force`
/// is not set.
pub fn refuse_existing(output: &Path, force: bool) -> Result<()> {
    if !force && output.symlink_metadata().is_ok() {
        bail!(
            "{}: already exists (not overwritten; pass --force to overwrite it)",
            output.display()
        );
    }
    Ok(())
}

/// True when `a` and `b` name the same file (after links; false when either is missing).
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Fails when `output` is one of `inputs` (inputs are never modified, not even with
/// `--force`).
pub fn refuse_input<'a>(output: &Path, inputs: impl IntoIterator<Item = &'a Path>) -> Result<()> {
    for i in inputs {
        if same_file(output, i) {
            bail!(
                "{}: is the input {} (inputs are never overwritten, not even with --force)",
                output.display(),
                i.display()
            );
        }
    }
    Ok(())
}

/// [`refuse_input`] then [`refuse_existing`].
pub fn check_output<'a>(
    output: &Path,
    force: bool,
    inputs: impl IntoIterator<Item = &'a Path>,
) -> Result<()> {
    refuse_input(output, inputs)?;
    refuse_existing(output, force)
}

/// The `format` of command `command`'s JSON document (`obscura-verify/1`).
pub fn format_of(command: &str) -> String {
    format!("obscura-{command}/1")
}

/// `body` (which must serialize to a JSON object) as the JSON document of `command`: the
/// object with `"format": "obscura-COMMAND/1"` as its first field.
pub fn json_document(command: &str, body: &impl Serialize) -> Result<String> {
    let serde_json::Value::Object(fields) = serde_json::to_value(body)? else {
        bail!("internal error: the JSON of {command} is not an object");
    };
    let mut out = String::from("{\n  \"format\": ");
    out += &serde_json::to_string(&format_of(command))?;
    if fields.contains_key("format") {
        bail!("internal error: the JSON of {command} has its own `format` field");
    }
    for (k, v) in &fields {
        out += ",\n  ";
        out += &serde_json::to_string(k)?;
        out += ": ";
        // Nested values pretty-printed and indented one level.
        let pretty = serde_json::to_string_pretty(v)?;
        out += &pretty.replace('\n', "\n  ");
    }
    out += "\n}";
    Ok(out)
}

/// Prints [`json_document`] on standard output.
pub fn print_json(command: &str, body: &impl Serialize) -> Result<()> {
    use std::io::Write;
    let doc = json_document(command, body)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{doc}")?;
    out.flush()?;
    Ok(())
}

/// Inference threads for `--threads n` shared by `jobs` files at once: `n` itself, or for 0
/// one per core divided among the jobs (at least 1).
pub fn threads(n: usize, jobs: usize) -> usize {
    if n > 0 {
        return n;
    }
    let cores = std::thread::available_parallelism().map_or(2, |c| c.get());
    (cores / jobs.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_starts_with_its_format() {
        #[derive(Serialize)]
        struct B {
            z: u32,
            a: Vec<u32>,
        }
        let doc = json_document(
            "probe",
            &B {
                z: 1,
                a: vec![2, 3],
            },
        )
        .unwrap();
        assert!(
            doc.starts_with("{\n  \"format\": \"obscura-probe/1\","),
            "{doc}"
        );
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(v["z"], 1);
        assert_eq!(v["a"][1], 3);
        assert!(json_document("probe", &3).is_err());
    }

    #[test]
    fn existing_outputs_and_inputs_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("in.mp4");
        std::fs::write(&f, b"x").unwrap();
        let e = refuse_existing(&f, false).unwrap_err().to_string();
        assert!(e.contains("in.mp4") && e.contains("--force"), "{e}");
        refuse_existing(&f, true).unwrap();
        refuse_existing(&d.path().join("new.mp4"), false).unwrap();
        let link = d.path().join("link.mp4");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        let e = check_output(&link, true, [f.as_path()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("not even with --force"), "{e}");
        assert_eq!(threads(3, 8), 3);
        assert!(threads(0, 1) >= 1 && threads(0, 1000) == 1);
    }
}
