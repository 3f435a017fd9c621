#!/usr/bin/env python3
"""Drives headless Chromium (Selenium + chromedriver) through the `obscura review` page.

Called by scripts/test-review.sh, which starts the real `obscura review` server on a real
clip and passes its URL here. Steps, each with a screenshot (--shots DIR):

1. the page opens (people listed with thumbnails, a frame shown, source time shown);
2. a request without the token is refused (403);
3. the requester is picked by clicking them on the frame;
4. a manual box is drawn on a region the detector misses (no person there), on frame 0;
5. the box is moved on the last frame (a second keyframe);
6. a region for 1 s is added, then removed;
7. the person is split, the two parts merged and the merge undone, the second part left
   visible with a reason;
8. Play runs to the end at the source's pace; a flagged frame is jumped to;
9. the reviewer pseudonym is typed and Save writes the edits file.

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
    ap.add_argument("--reason", default="second requester, consent on file REQ-2026-078", help="why the split-off person is left visible")
    a = ap.parse_args()
    if a.shots:
        os.makedirs(a.shots, exist_ok=True)

    opts = webdriver.ChromeOptions()
    for o in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1500,950"):
        opts.add_argument(o)
    opts.binary_location = "/usr/bin/chromium"
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    n = [0]

    def settled():
        # The frame on screen is the current one, with the current edits applied.
        wait(lambda: d.execute_script("return document.getElementById('frame').dataset.shown === cur + ':' + version"), 10, "frame shown")

    def shot(name):
        settled()
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
            d.execute_script("jump(arguments[0])", i)
            wait(lambda: d.execute_script("return document.getElementById('frame').dataset.frame") == str(i), 10, "frame %d" % i)
            settled()

        def shown_mean(x0, y0, x1, y1):
            # Mean luma of the masked preview on screen over a box in source pixels.
            return d.execute_script(
                "const i=document.getElementById('frame'),c=document.createElement('canvas');c.width=i.naturalWidth;c.height=i.naturalHeight;"
                "const g=c.getContext('2d');g.drawImage(i,0,0);const a=arguments,p=g.getImageData(a[0],a[1],a[2]-a[0],a[3]-a[1]).data;"
                "let s=0;for(let k=0;k<p.length;k+=4)s+=0.299*p[k]+0.587*p[k+1]+0.114*p[k+2];return s/(p.length/4);",
                x0, y0, x1, y1)

        # 3. the list's Requester button picks a person (and shows their best frame); then the
        # requester is picked again by clicking them on the frame where they are seen best.
        p = state["people"][0]
        v0 = d.execute_script("return version")
        d.find_element(By.CSS_SELECTOR, '#people li[data-identity="%d"] button.pick' % p["id"]).click()
        wait(lambda: d.execute_script("return version") > v0 and d.find_elements(By.CSS_SELECTOR, "#people li.subject"), 10, "picked from the list")
        check(d.execute_script("return edits.subject.identity") == p["id"], "the list's Requester button makes person %d the requester" % p["id"])
        d.execute_script("edits.subject = null")
        v0 = d.execute_script("return version")
        d.execute_script("push()")
        wait(lambda: d.execute_script("return version") > v0 and not d.find_elements(By.CSS_SELECTOR, "#people li.subject"), 10, "requester cleared")
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

        # A region for a time range: 1 s from frame 5 (0.5 s), on the floor; then removed.
        goto(5)
        d.find_element(By.ID, "mode-region").click()
        secs = d.find_element(By.ID, "region-seconds")
        secs.clear()
        secs.send_keys("1")
        drag("600,300,700,400")
        wait(lambda: d.execute_script("return edits.masks.length") == 2, 10, "region added")
        region = d.execute_script("return edits.masks[1]")
        check(region.get("from") == state["clip"]["times"][5] and abs(float(region["until"]) - float(region["from"]) - 1.0) < 1e-6,
              "a region mask covers 1 s from the frame it was drawn on: %s" % region)
        settled()
        check(len(d.execute_script("return boxes.manual")) == 2, "the region is outlined on its first frame")
        m = shown_mean(604, 304, 696, 396)
        check(m < 20, "the preview masks the region on its first frame (mean luma %.1f)" % m)
        shot("region")
        goto(16)
        m = shown_mean(604, 304, 696, 396)
        check(len(d.execute_script("return boxes.manual")) == 1 and m > 60,
              "the region is not on a frame after its range (frame 16, 1.6 s; mean luma %.1f)" % m)
        d.find_element(By.CSS_SELECTOR, '#masks li[data-mask="%s"] button.remove' % region["id"]).click()
        wait(lambda: d.execute_script("return edits.masks.length") == 1, 10, "region removed")
        check(d.execute_script("return edits.masks[0].id") == "mask-1", "Remove takes the region away and keeps the keyframed box")
        shot("region-removed")

        # Split the person at frame 15, merge the two parts and undo the merge; then leave
        # the second part visible with a reason (kept: the export below checks that the reason
        # reaches the report, the manifest and the audit log).
        def pushed(act, what):
            v = d.execute_script("return version")
            act()
            wait(lambda: d.execute_script("return version") > v, 10, what)

        def click(css):
            return lambda: d.find_element(By.CSS_SELECTOR, css).click()

        goto(15)
        pushed(click('#people li[data-identity="%d"] button.split' % p["id"]), "split applied")
        ids = d.execute_script("return S.people.map(x=>x.id)")
        check(len(ids) == 2, "Split here makes two people: %s" % ids)
        shot("split")
        for i in ids:
            d.find_element(By.CSS_SELECTOR, '#people li[data-identity="%d"] input[type=checkbox]' % i).click()
        pushed(click("#merge"), "merge applied")
        check(d.execute_script("return S.people.length") == 1, "Merge selected people makes them one again")
        shot("merged")
        pushed(click("#corrections li:last-child button.undo"), "merge undone")
        check(d.execute_script("return S.people.length") == 2 and d.execute_script("return edits.merges.length") == 0, "Undo takes the merge back")
        other = [i for i in ids if i != p["id"]][0]

        def leave_visible():
            d.find_element(By.CSS_SELECTOR, '#people li[data-identity="%d"] button.unmask' % other).click()
            alert = wait(lambda: d.switch_to.alert, 5, "reason prompt")
            alert.send_keys(a.reason)
            alert.accept()

        pushed(leave_visible, "unmask applied")
        check(a.reason in d.find_element(By.ID, "corrections").text, "Leave visible asks for the reason and lists it")
        check(d.execute_script("return S.people.find(x=>x.id===arguments[0]).kept", other), "the person left visible is marked so")
        check(d.execute_script("return edits.subject.identity") == p["id"], "the requester is still person %d" % p["id"])
        shot("unmask-with-reason")

        # Play: frames advance at the source's pace with the source time shown.
        goto(0)
        t0 = time.time()
        d.find_element(By.ID, "play").click()
        wait(lambda: d.execute_script("return document.getElementById('frame').dataset.frame") == str(frames - 1), 30, "played to the end")
        took = time.time() - t0
        want = float(state["clip"]["times"][-1]) - float(state["clip"]["times"][0])
        check(took >= want * 0.9, "Play shows the %d frames at the source's pace (%.2f s for %.2f s of video)" % (frames, took, want))
        check("source time " + state["clip"]["times"][-1] in d.find_element(By.ID, "time").text, "the last frame's source time is shown")

        # A flagged frame can be jumped to.
        flags = d.find_elements(By.CSS_SELECTOR, "#flags li[data-frame]")
        if flags:
            want = flags[0].get_attribute("data-frame")
            # Jump while playing (from a frame away from the flag), as a reviewer would.
            goto(0 if int(want) >= frames // 2 else frames // 2)
            start = int(d.execute_script("return cur"))
            d.find_element(By.ID, "play").click()
            wait(lambda: int(d.execute_script("return document.getElementById('frame').dataset.frame")) >= start + 3, 30, "playing")
            flags[0].click()
            wait(lambda: d.execute_script("return document.getElementById('frame').dataset.frame") == want, 30, "flag jump")
            check(True, "clicking a flagged frame shows it (frame %s)" % want)
            # A jump ends playback: the page stays on the flagged frame (it once played on).
            time.sleep(1.0)
            now = d.execute_script("return document.getElementById('frame').dataset.frame")
            check(now == want and d.find_element(By.ID, "play").text == "Play", "the page stays on the flagged frame, playback stopped (frame %s)" % now)
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
