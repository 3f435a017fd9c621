#!/usr/bin/env python3
"""Drives headless Chromium (Selenium + chromedriver) through the `obscura review` page.

Called by scripts/test-review.sh, which starts the real `obscura review` server on a real
clip and passes its URL here. Steps, each with a screenshot (--shots DIR):

1. the page opens (people listed with thumbnails, a frame shown, source time shown);
2. a request without the token is refused (403);
3. the requester is picked by clicking them on the frame;
4. a manual box is drawn on a region the detector misses (no person there), on frame 0;
5. the box is moved on the last frame (a second keyframe);
6. the reviewer pseudonym is typed and Save writes the edits file.

Prints the saved edits file's path; the shell script then exports with it and checks the
output pixels. Exit status 0 when every check passed.
"""
import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

FAILURES = []


def check(cond, what):
    print(("ok      " if cond else "FAILED  ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


def wait(cond, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        try:
            v = cond()
            if v:
                return v
        except Exception:
            pass
        time.sleep(0.05)
    raise TimeoutError(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--shots")
    ap.add_argument("--mask", required=True, help="x0,y0,x1,y1 source pixels of the manual box on the first frame")
    ap.add_argument("--mask-last", required=True, help="the same box on the last frame")
    ap.add_argument("--reviewer", default="op-17")
    a = ap.parse_args()
    if a.shots:
        os.makedirs(a.shots, exist_ok=True)

    opts = webdriver.ChromeOptions()
    for o in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1500,950"):
        opts.add_argument(o)
    opts.binary_location = "/usr/bin/chromium"
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    n = [0]

    def shot(name):
        n[0] += 1
        if a.shots:
            d.save_screenshot(os.path.join(a.shots, "%02d-%s.png" % (n[0], name)))

    try:
        # 2. no token: refused (checked first, from Python, on the same server).
        base = a.url.split("?")[0]
        try:
            urllib.request.urlopen(base + "api/state", timeout=5)
            check(False, "a request without the token is refused")
        except urllib.error.HTTPError as e:
            check(e.code == 403, "a request without the token is refused (HTTP %d)" % e.code)

        # 1. open.
        d.get(a.url)
        wait(lambda: d.execute_script("return document.body.dataset.ready") == "1", 30, "page ready")
        wait(lambda: d.execute_script("const i=document.getElementById('frame');return i.complete&&i.naturalWidth>0"), 10, "frame shown")
        people = d.find_elements(By.CSS_SELECTOR, "#people li[data-identity]")
        check(len(people) >= 1, "the people found are listed (%d)" % len(people))
        thumbs_ok = d.execute_script("return [...document.querySelectorAll('#people img')].every(i=>i.complete&&i.naturalWidth>0)")
        check(thumbs_ok, "every person has a thumbnail")
        check("source time" in d.find_element(By.ID, "time").text, "the source time is shown: " + d.find_element(By.ID, "time").text)
        state = json.loads(d.execute_script("return JSON.stringify(S)"))
        frames = state["clip"]["frames"]
        width = state["clip"]["width"]
        shot("opened")

        def to_screen(x, y):
            img = d.find_element(By.ID, "overlay")
            k = img.size["width"] / width
            # Offsets are from the element's centre in Selenium 4.
            return (x * k - img.size["width"] / 2, y * k - img.size["height"] / 2)

        def goto(i):
            d.execute_script("show(arguments[0])", i)
            wait(lambda: d.execute_script("return document.getElementById('frame').dataset.frame") == str(i), 10, "frame %d" % i)

        # 3. pick the requester by clicking them on the frame where they are seen best.
        p = state["people"][0]
        goto(p["point"]["frame"])
        box = wait(lambda: d.execute_script("return boxes.boxes.find(b=>b.identity===arguments[0])", p["id"]), 5, "person box")
        cx, cy = box["box"][0] + box["box"][2] / 2, box["box"][1] + box["box"][3] / 2
        d.find_element(By.ID, "mode-pick").click()
        ov = d.find_element(By.ID, "overlay")
        ox, oy = to_screen(cx, cy)
        ActionChains(d).move_to_element_with_offset(ov, ox, oy).click().perform()
        wait(lambda: d.find_elements(By.CSS_SELECTOR, "#people li.subject"), 10, "subject marked")
        subject = d.execute_script("return edits.subject")
        check(subject and subject["identity"] == p["id"], "clicking the person on the frame makes them the requester: %s" % subject)
        shot("requester-picked")

        # 4. a manual box on frame 0, on a region with no person.
        def drag(spec):
            x0, y0, x1, y1 = [float(v) for v in spec.split(",")]
            sx0, sy0 = to_screen(x0, y0)
            sx1, sy1 = to_screen(x1, y1)
            ov = d.find_element(By.ID, "overlay")
            ActionChains(d).move_to_element_with_offset(ov, sx0, sy0).click_and_hold().move_by_offset((sx1 - sx0) / 2, (sy1 - sy0) / 2).move_by_offset((sx1 - sx0) / 2, (sy1 - sy0) / 2).release().perform()

        goto(0)
        d.find_element(By.ID, "mode-box").click()
        drag(a.mask)
        wait(lambda: d.execute_script("return edits.masks.length") == 1, 10, "mask added")
        wait(lambda: d.execute_script("return boxes.manual.length") == 1, 10, "mask shown")
        check(True, "a manual box was drawn on frame 0")
        shot("manual-box")

        # 5. move it on the last frame (second keyframe).
        goto(frames - 1)
        d.find_element(By.ID, "mode-keyframe").click()
        drag(a.mask_last)
        wait(lambda: d.execute_script("return edits.masks[0].keyframes.length") == 2, 10, "keyframe added")
        goto(frames // 2)
        mid = d.execute_script("return boxes.manual")
        check(len(mid) == 1, "the box is interpolated on the frames between its keyframes: %s" % mid)
        shot("keyframes")

        # A flagged frame can be jumped to.
        flags = d.find_elements(By.CSS_SELECTOR, "#flags li[data-frame]")
        if flags:
            want = flags[0].get_attribute("data-frame")
            flags[0].click()
            wait(lambda: d.execute_script("return document.getElementById('frame').dataset.frame") == want, 10, "flag jump")
            check(True, "clicking a flagged frame shows it (frame %s)" % want)
        check("pixelate" in d.find_element(By.ID, "export").text or "fill" in d.find_element(By.ID, "export").text, "what will be exported is shown")

        # 6. save.
        r = d.find_element(By.ID, "reviewer")
        r.clear()
        r.send_keys(a.reviewer)
        d.find_element(By.ID, "save").click()
        st = wait(lambda: d.execute_script("const s=document.getElementById('status');return s.dataset.state==='saved'||s.dataset.state==='error'?[s.dataset.state,s.textContent]:null"), 10, "saved")
        check(st[0] == "saved", "Save writes the edits file: " + st[1])
        d.execute_script("document.getElementById('status').scrollIntoView()")
        shot("saved")
    finally:
        d.quit()
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
