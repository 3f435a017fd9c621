//! `obscura export`'s data-subject side, by running the binary: the opener page written
//! beside the package (or not, with `--no-opener`; never over an existing file), the signer
//! fingerprint printed for the covering letter, and the report's language and site
//! configuration (`--lang`, `--site`, `$OBSCURA_SITE`). The page itself is exercised in a
//! real browser by scripts/test-opener.sh.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use obscura_testkit::clips::IndexedClip;
use predicates::prelude::*;

fn obscura(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("obscura").unwrap();
    c.current_dir(dir)
        .env("OBSCURA_AUDIT_LOG", dir.join("audit.jsonl"))
        .env_remove("OBSCURA_OPERATOR")
        .env_remove("OBSCURA_SITE")
        .env("OBSCURA_TRUST_FILE", dir.join("trusted-signers"));
    c
}

fn setup() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    obscura(t.path())
        .args(["keygen", "-o", "keys"])
        .assert()
        .success();
    obscura(t.path())
        .args(["trust", "add", "keys/obscura.sign.pub"])
        .assert()
        .success();
    IndexedClip::write_with(
        t.path(),
        "cam.mp4",
        25,
        25,
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "18",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/site.example.toml");
    fs::copy(site, t.path().join("site.toml")).unwrap();
    t
}

fn export(dir: &Path, out: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    obscura(dir)
        .args([
            "export",
            "--mode",
            "erasure",
            "cam.mp4",
            "--exclude",
            "0.2..0.4",
            "--recipient",
            "keys/obscura.recipient.pub",
            "--sign",
            "keys/obscura.sign.key",
            "-o",
            out,
        ])
        .args(extra)
        .assert()
}

fn report(dir: &Path, obx: &str, out: &str) -> String {
    obscura(dir)
        .args([
            "open",
            obx,
            "--identity",
            "keys/obscura.recipient.key",
            "-o",
            out,
        ])
        .assert()
        .success();
    fs::read_to_string(dir.join(out).join("report.html")).unwrap()
}

#[test]
fn opener_is_written_beside_the_package_never_over_a_file_and_not_with_no_opener() {
    let t = setup();
    let d = t.path();
    let out = export(d, "a.obx", &["--site", "site.toml"]).success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let page = fs::read_to_string(d.join("a.opener.html")).unwrap();
    assert!(
        page.starts_with("<!DOCTYPE html>")
            && page.contains("default-src 'none'")
            && page.contains("connect-src 'none'")
    );
    assert!(stdout.contains("a.opener.html"), "{stdout}");
    // The fingerprint printed for the covering letter is the one `verify` reports.
    let v: serde_json::Value = serde_json::from_slice(
        &obscura(d)
            .args(["verify", "a.obx", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    let fp = v["signer_fingerprint"].as_str().unwrap();
    assert!(stdout.contains(&format!("signer:     {fp}")), "{stdout}");

    // An existing file at the opener's path: refused before anything is exported.
    fs::write(d.join("b.opener.html"), "mine").unwrap();
    export(d, "b.obx", &["--site", "site.toml"]).code(2).stderr(
        predicate::str::contains("b.opener.html").and(predicate::str::contains("already exists")),
    );
    assert!(!d.join("b.obx").exists());
    assert_eq!(fs::read_to_string(d.join("b.opener.html")).unwrap(), "mine");

    // --no-opener: the package only.
    export(d, "c.obx", &["--site", "site.toml", "--no-opener"]).success();
    assert!(d.join("c.obx").exists() && !d.join("c.opener.html").exists());
}

#[test]
fn report_language_and_site_configuration() {
    let t = setup();
    let d = t.path();
    export(
        d,
        "de.obx",
        &["--site", "site.toml", "--lang", "de", "--operator", "op-3"],
    )
    .success();
    let html = report(d, "de.obx", "o-de");
    for needle in [
        "<html lang=de>",
        "Ihre Rechte",
        "Wer Ihnen das geschickt hat",
        "Beispiel Handels GmbH",
        "Berliner Beauftragte",
        "Art. 6(1)(f) GDPR",
        "Anhang: technisches Protokoll",
    ] {
        assert!(html.contains(needle), "German report lacks {needle:?}");
    }
    assert!(
        !html.contains("op-3"),
        "operator shown without --show-operator"
    );

    // $OBSCURA_SITE when --site is absent; English by default.
    obscura(d)
        .env("OBSCURA_SITE", d.join("site.toml"))
        .args([
            "export",
            "--mode",
            "erasure",
            "cam.mp4",
            "--exclude",
            "0.2..0.4",
            "--recipient",
            "keys/obscura.recipient.pub",
            "--sign",
            "keys/obscura.sign.key",
            "-o",
            "en.obx",
        ])
        .args(["--operator", "op-3", "--show-operator"])
        .assert()
        .success();
    let html = report(d, "en.obx", "o-en");
    for needle in [
        "<html lang=en>",
        "Your rights",
        "Beispiel Handels GmbH",
        "How to watch the clips",
        "op-3",
    ] {
        assert!(html.contains(needle), "English report lacks {needle:?}");
    }

    // No site configuration: a warning, and the report says whom to ask.
    export(d, "none.obx", &[])
        .success()
        .stderr(predicate::str::contains("no site configuration"));
    assert!(report(d, "none.obx", "o-none").contains("did not include their contact details"));

    // A bad site file or language: exit 2, one line naming the problem, no package.
    fs::write(
        d.join("bad.toml"),
        "[controller]\nname = \"X\"\nfax = \"1\"\n",
    )
    .unwrap();
    export(d, "bad.obx", &["--site", "bad.toml"])
        .code(2)
        .stderr(predicate::str::contains("bad.toml").and(predicate::str::contains("fax")));
    export(d, "fr.obx", &["--lang", "fr"])
        .code(2)
        .stderr(predicate::str::contains("use en or de"));
    assert!(!d.join("bad.obx").exists() && !d.join("fr.obx").exists());
}
