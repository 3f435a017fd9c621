#!/usr/bin/env python3
"""Drives headless Chromium (Selenium + chromedriver) through the offline opener page.

Called by scripts/test-opener.sh, which builds `obscura`, makes a real export and passes
the paths here. What it checks, each in a fresh page loaded from disk (file://):

* the real export opens with the passphrase and with the recipient key file; every saved
  file's sha256 equals the file `obscura open` wrote (an independent decryption);
* the report is shown and the clip plays (currentTime advances);
* a bit-flipped copy and a wrong passphrase are refused, with the reason shown;
* every seal test vector (crates/seal/tests/vectors) gives the outcome the Rust reader
  gives (ok, damaged, bad-signature, unknown-signer, expired, no-match);
* the page cannot fetch anything (its CSP refuses a fetch, a connection and an image);
* optionally (--big FILE.obx --big-pass F --big-sha SHA) a large package: time to verify
  and decrypt, and the saved file's sha256.

Exit status 0 when every check passed; one FAILED line per failed check otherwise.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

FAILURES = []
RESULTS = {}


def check(cond, what):
    print(("ok      " if cond else "FAILED  ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


class Page:
    def __init__(self, driver, url, shots):
        self.d = driver
        self.url = url
        self.shots = shots

    def load(self):
        self.d.get(self.url)
        self.wait(lambda: self.d.execute_script("return document.body.dataset.ready") == "1", 20, "page ready")

    def wait(self, cond, timeout, what):
        end = time.time() + timeout
        while time.time() < end:
            try:
                if cond():
                    return True
            except Exception:
                pass
            time.sleep(0.05)
        raise TimeoutError(what)

    def status(self, which):
        return self.d.execute_script(
            "const s=document.getElementById(arguments[0]);return [s.dataset.state||'',s.dataset.kind||'',s.textContent,s.dataset.ms||'']",
            which,
        )

    def wait_status(self, which, timeout):
        self.wait(lambda: self.status(which)[0] in ("verified", "refused", "decrypted"), timeout, which)
        return self.status(which)

    def choose(self, obx, pinned=""):
        fp = self.d.find_element(By.ID, "expected-fp")
        fp.clear()
        if pinned:
            fp.send_keys(pinned)
        self.d.find_element(By.ID, "package").send_keys(os.path.abspath(obx))

    def decrypt(self, passphrase=None, keyfile=None, timeout=120):
        if passphrase is not None:
            box = self.d.find_element(By.ID, "passphrase")
            box.clear()
            box.send_keys(passphrase)
        if keyfile is not None:
            self.d.find_element(By.ID, "keyfile").send_keys(os.path.abspath(keyfile))
        self.d.execute_script("document.getElementById('decrypt-status').dataset.state=''")
        self.d.find_element(By.ID, "decrypt").click()
        return self.wait_status("decrypt-status", timeout)

    def save_all(self, folder, names, timeout=300):
        os.makedirs(folder, exist_ok=True)
        self.d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": os.path.abspath(folder)})
        self.d.find_element(By.ID, "save-all").click()

        def done():
            have = set(os.listdir(folder))
            return all(n in have for n in names) and not any(n.endswith(".crdownload") for n in have)

        self.wait(done, timeout, "downloads")
        return {n: sha256_file(os.path.join(folder, n)) for n in names}

    def shot(self, name):
        if self.shots:
            path = os.path.join(self.shots, name)
            # Full page: grow the window to the document height first.
            h = self.d.execute_script("return Math.max(document.body.scrollHeight, 900)")
            self.d.set_window_size(1280, min(int(h) + 40, 4000))
            time.sleep(0.5)  # let the resized page (and its frames) repaint
            self.d.save_screenshot(path)
            self.d.set_window_size(1280, 900)
            print(f"        screenshot {path}")


def parse_vector(path):
    raw = open(path, "rb").read()
    sep = raw.index(b"\n---\n") + 5
    head = raw[:sep].decode()
    meta = {"payloads": []}
    for line in head.splitlines()[1:]:
        if ": " not in line:
            continue
        k, v = line.split(": ", 1)
        if k == "payload":
            n, h = v.split(" ", 1)
            meta["payloads"].append((n, h))
        else:
            meta[k] = v
    return meta, raw[sep:]


def fingerprint_of_key_line(line):
    return hashlib.sha256(bytes.fromhex(line.split(":", 1)[1].strip())).hexdigest()


def run_vectors(page, folder, tmp):
    names = sorted(n for n in os.listdir(folder) if n.endswith(".vec"))
    check(len(names) >= 25, f"found {len(names)} seal test vectors")
    for i, name in enumerate(names):
        meta, body = parse_vector(os.path.join(folder, name))
        obx = os.path.join(tmp, f"v{i}.obx")
        with open(obx, "wb") as f:
            f.write(body)
        ident = {}
        if "passphrase" in meta:
            ident["passphrase"] = meta["passphrase"]
        if "identity" in meta:
            kf = os.path.join(tmp, f"v{i}.recipient.key")
            with open(kf, "w") as f:
                f.write("# test identity\n" + meta["identity"] + "\n")
            ident["keyfile"] = kf
        pinned = fingerprint_of_key_line(meta["signer"])
        runs = [(pinned, meta["expect-verify"])]
        if meta["expect-verify"] == "unknown-signer":
            runs.append(("", "ok"))  # unpinned: the signature itself is valid
        for pin, want_verify in runs:
            page.load()
            page.choose(obx, pin)
            st = page.wait_status("verify-status", 60)
            got = "ok" if st[0] == "verified" else st[1]
            label = f"vector {name}{' (pinned)' if pin else ' (unpinned)'}"
            if not check(got == want_verify, f"{label}: verify {got}, expected {want_verify} [{st[2]}]"):
                continue
            if want_verify != "ok":
                continue
            st = page.decrypt(**ident)
            got = "ok" if st[0] == "decrypted" else st[1]
            if not check(got == meta["expect-open"], f"{label}: open {got}, expected {meta['expect-open']} [{st[2]}]"):
                continue
            if got == "ok":
                want = dict(meta["payloads"])
                saved = page.save_all(os.path.join(tmp, f"dl-v{i}-{bool(pin)}"), list(want))
                check(saved == want, f"{label}: saved files' sha256 equal the vector's")


def csp_blocks_network(page):
    page.load()
    r = page.d.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const seen = [];
        document.addEventListener('securitypolicyviolation', (e) => seen.push(e.effectiveDirective));
        const out = {};
        fetch('http://127.0.0.1:9/x').then(() => (out.fetch = 'allowed'), () => (out.fetch = 'refused'));
        try { new WebSocket('ws://127.0.0.1:9/'); out.ws = 'created'; } catch (e) { out.ws = 'refused'; }
        const img = new Image(); img.src = 'http://127.0.0.1:9/p.png';
        setTimeout(() => { out.violations = seen; done(out); }, 1500);
        """
    )
    check(r.get("fetch") == "refused", f"CSP: fetch refused ({r})")
    v = set(r.get("violations", []))
    check({"connect-src", "img-src"} <= v, f"CSP: violations reported for connect-src and img-src ({sorted(v)})")


def run_export(page, a, tmp):
    names = json.loads(a.export_payloads)  # {name: sha256 from `obscura open`}
    # 1. verify, then the passphrase.
    page.load()
    page.choose(a.export, a.fingerprint)
    st = page.wait_status("verify-status", 60)
    check(st[0] == "verified", f"export: verified with the pinned fingerprint [{st[2]}]")
    fp = page.d.find_element(By.ID, "fingerprint").text
    check(fp == a.fingerprint, f"export: page shows the signer fingerprint the CLI prints ({fp})")
    page.shot("opener-1-verify.png")
    # wrong passphrase first
    st = page.decrypt(passphrase="not the passphrase")
    check(st[0] == "refused" and st[1] == "no-match", f"export: wrong passphrase refused [{st[2]}]")
    page.shot("opener-2-wrong-passphrase.png")
    t0 = time.time()
    st = page.decrypt(passphrase=open(a.passphrase_file).read().splitlines()[0])
    check(st[0] == "decrypted", f"export: decrypted with the passphrase in {time.time() - t0:.1f} s [{st[2]}]")
    # The report frame is sandboxed (an opaque origin): read it from inside.
    def report_text():
        page.d.switch_to.frame(page.d.find_element(By.ID, "report-frame"))
        try:
            return page.d.find_element(By.TAG_NAME, "body").text
        finally:
            page.d.switch_to.default_content()

    page.wait(lambda: len(report_text()) > 100, 20, "report shown")
    text = report_text()
    check(all(w in text for w in a.report_words), f"export: report shown in the page, with {a.report_words}")
    scripts_ran = page.d.execute_script("const f=document.getElementById('report-frame'); return f.sandbox.length === 0 && f.contentDocument === null")
    check(scripts_ran, "export: report frame is sandboxed (no scripts, opaque origin)")
    page.shot("opener-3-decrypted-report.png")
    # playback: the first video plays and its time advances
    played = page.d.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const v = document.querySelector('video');
        if (!v) return done({error: 'no video element'});
        v.muted = true;
        v.scrollIntoView();
        v.play().then(() => setTimeout(() => done({t: v.currentTime, w: v.videoWidth, h: v.videoHeight, err: v.error && v.error.code}), 1500),
                      (e) => done({error: String(e), code: v.error && v.error.code}));
        """
    )
    check(played.get("t", 0) > 0.2 and played.get("w", 0) > 0, f"export: clip plays in the page ({played})")
    page.d.execute_script("const v=document.querySelector('video'); v.pause();")
    page.shot("opener-4-playback.png")
    saved = page.save_all(os.path.join(tmp, "dl-export-pass"), list(names))
    check(saved == names, f"export: saved files' sha256 equal `obscura open`'s ({len(names)} files)")
    if page.shots and "report.html" in names:
        # The saved report on its own, as the data subject sees it when opening the file.
        page.d.get("file://" + os.path.join(tmp, "dl-export-pass", "report.html"))
        page.shot("opener-6-report.png")
    # 2. the recipient key file (a package for key holders, when given)
    keyed = a.export_keys or a.export
    keyed_names = json.loads(a.export_keys_payloads) if a.export_keys else names
    page.load()
    page.choose(keyed, a.fingerprint)
    st = page.wait_status("verify-status", 60)
    check(st[0] == "verified", f"export for key holders: verified [{st[2]}]")
    st = page.decrypt(keyfile=a.keyfile)
    check(st[0] == "decrypted", f"export: decrypted with the recipient key file [{st[2]}]")
    saved = page.save_all(os.path.join(tmp, "dl-export-key"), list(keyed_names))
    check(saved == keyed_names, f"export: key-file decryption saves the bytes `obscura open` wrote ({len(keyed_names)} files)")
    if a.locked_keyfile:
        page.load()
        page.choose(keyed)
        page.wait_status("verify-status", 60)
        st = page.decrypt(passphrase="wrong key passphrase", keyfile=a.locked_keyfile)
        check(st[0] == "refused" and st[1] == "no-match", f"export: protected key file with a wrong passphrase refused [{st[2]}]")
        st = page.decrypt(passphrase=open(a.locked_pass).read().splitlines()[0])
        check(st[0] == "decrypted", f"export: decrypted with the passphrase-protected key file [{st[2]}]")
    # 3. a bit-flipped copy
    page.load()
    page.choose(a.flipped)
    st = page.wait_status("verify-status", 60)
    check(st[0] == "refused" and st[1] in ("damaged", "bad-signature"), f"export: bit-flipped copy refused [{st[2]}]")
    page.shot("opener-5-tampered.png")


def run_big(page, a, tmp):
    size = os.path.getsize(a.big)
    page.load()
    t0 = time.time()
    page.choose(a.big)
    st = page.wait_status("verify-status", 1800)
    tv = time.time() - t0
    check(st[0] == "verified", f"big: {size / 1e6:.0f} MB package verified in {tv:.1f} s [{st[2]}]")
    t1 = time.time()
    st = page.decrypt(passphrase=open(a.big_pass).read().splitlines()[0], timeout=3600)
    td = time.time() - t1
    check(st[0] == "decrypted", f"big: decrypted in {td:.1f} s ({size / 1e6 / max(td, 1e-3):.0f} MB/s) [{st[2]}]")
    t2 = time.time()
    saved = page.save_all(os.path.join(tmp, "dl-big"), [a.big_name], timeout=3600)
    ts = time.time() - t2
    check(saved[a.big_name] == a.big_sha, f"big: saved file ({ts:.1f} s) has the sealed file's sha256")
    RESULTS["big"] = {"bytes": size, "verify_s": round(tv, 1), "decrypt_s": round(td, 1), "save_s": round(ts, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--page", required=True)
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    ap.add_argument("--vectors")
    ap.add_argument("--export")
    ap.add_argument("--export-payloads", help="JSON {name: sha256}")
    ap.add_argument("--export-keys", help="a second package, for the key files (X25519 recipients only)")
    ap.add_argument("--export-keys-payloads", help="JSON {name: sha256} of --export-keys")
    ap.add_argument("--flipped")
    ap.add_argument("--passphrase-file")
    ap.add_argument("--keyfile")
    ap.add_argument("--locked-keyfile", help="a passphrase-protected recipient key file")
    ap.add_argument("--locked-pass", help="the file holding its passphrase")
    ap.add_argument("--fingerprint")
    ap.add_argument("--report-words", type=lambda v: v.split("|"), default=[], help="|-separated texts the report must show")
    ap.add_argument("--big")
    ap.add_argument("--big-pass")
    ap.add_argument("--big-name")
    ap.add_argument("--big-sha")
    ap.add_argument("--shots", help="folder for screenshots")
    ap.add_argument("--results", help="write timings as JSON here")
    ap.add_argument("--browser-lang", default="en-US", help="the browser's language (the page follows it: en or de)")
    a = ap.parse_args()
    if a.shots:
        os.makedirs(a.shots, exist_ok=True)
    o = webdriver.ChromeOptions()
    o.binary_location = a.chromium
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900", f"--lang={a.browser_lang}", "--autoplay-policy=no-user-gesture-required"]:
        o.add_argument(arg)
    o.add_experimental_option("prefs", {"download.prompt_for_download": False, "profile.default_content_setting_values.automatic_downloads": 1, "intl.accept_languages": a.browser_lang})
    tmp = tempfile.mkdtemp(prefix="obscura-opener-")
    o.add_argument(f"--user-data-dir={tmp}/profile")
    d = webdriver.Chrome(service=Service(a.chromedriver), options=o)
    d.set_script_timeout(60)
    try:
        print(f"browser: {d.capabilities.get('browserName')} {d.capabilities.get('browserVersion')}")
        page = Page(d, "file://" + os.path.abspath(a.page), a.shots)
        csp_blocks_network(page)
        if a.export:
            run_export(page, a, tmp)
        if a.vectors:
            run_vectors(page, a.vectors, tmp)
        if a.big:
            run_big(page, a, tmp)
    finally:
        d.quit()
        shutil.rmtree(tmp, ignore_errors=True)
    if a.results:
        with open(a.results, "w") as f:
            json.dump(RESULTS, f, indent=1)
    if FAILURES:
        print(f"{len(FAILURES)} opener check(s) FAILED")
        sys.exit(1)
    print("all opener checks passed")


if __name__ == "__main__":
    main()
