//! `obscura seal` without `--expires` gets the same retention as `obscura export`
//! (today + `DEFAULT_RETENTION_DAYS`); `--never-expires` is the explicit way to have none.

use assert_cmd::Command;

fn obscura(dir: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("obscura").unwrap();
    c.current_dir(dir)
        .env("OBSCURA_AUDIT_LOG", dir.join("audit.jsonl"));
    c
}

fn expires(dir: &std::path::Path, obx: &str) -> serde_json::Value {
    let a = obscura(dir)
        .args(["inspect", obx, "--json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    find_expires(&v)
}

/// The `expires` field wherever the inspect JSON puts it.
fn find_expires(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => m
            .get("expires")
            .cloned()
            .or_else(|| m.values().map(find_expires).find(|x| !x.is_null()))
            .unwrap_or(serde_json::Value::Null),
        _ => serde_json::Value::Null,
    }
}

#[test]
fn seal_defaults_to_the_export_retention() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    obscura(d).args(["keygen", "-o", "k"]).assert().success();
    std::fs::write(d.join("a.txt"), b"evidence").unwrap();
    let base = [
        "--sign",
        "k/obscura.sign.key",
        "--recipient",
        "k/obscura.recipient.pub",
    ];
    obscura(d)
        .args(["seal", "a.txt", "-o", "default.obx"])
        .args(base)
        .assert()
        .success();
    let want = obscura_seal::Date::today_utc()
        .plus_days(i64::from(obscura_request::DEFAULT_RETENTION_DAYS))
        .to_string();
    assert_eq!(expires(d, "default.obx"), serde_json::Value::String(want));
    obscura(d)
        .args(["seal", "a.txt", "-o", "week.obx", "--retention-days", "7"])
        .args(base)
        .assert()
        .success();
    let week = obscura_seal::Date::today_utc().plus_days(7).to_string();
    assert_eq!(expires(d, "week.obx"), serde_json::Value::String(week));
    obscura(d)
        .args(["seal", "a.txt", "-o", "never.obx", "--never-expires"])
        .args(base)
        .assert()
        .success();
    assert_eq!(expires(d, "never.obx"), serde_json::Value::Null);
    obscura(d)
        .args([
            "seal",
            "a.txt",
            "-o",
            "x.obx",
            "--never-expires",
            "--expires",
            "2099-01-01",
        ])
        .args(base)
        .assert()
        .code(2);
}
