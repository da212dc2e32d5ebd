"""The report in a real headless Chromium, opened from disk: no console errors, items, class switcher, sorting,
a colour bar per item (one scale for all its classes), a picture enlarged on click, misclassified items of a
folder labelled by its sub-folders, and a sentence containing <script> shown as inert text."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from runs_browser import chromium
from runs_fixtures import EVIL, EVIL_NAME

from peephole.batch.report import write_report


def severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_report_in_headless_chromium(image_run, text_run, folder_run, detection_run):
    index = write_report(image_run)
    data = json.loads(re.search(r'id="data">(.*?)</script>', index.read_text(), re.S).group(1))
    driver = chromium()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    try:
        driver.get(index.resolve().as_uri())
        assert severe(driver) == []
        cards = driver.find_elements(By.CSS_SELECTOR, "#grid .card")
        assert len(cards) == len(data["items"]) == 7
        assert driver.find_element(By.ID, "count").text == "7 of 7 items"
        # a file name that is HTML shows as text
        assert sum(c.find_element(By.CSS_SELECTOR, ".name").text.endswith(EVIL_NAME) for c in cards) == 1
        # every picture loaded from the folder (file://, relative paths)
        imgs = driver.find_elements(By.CSS_SELECTOR, "#grid img")
        assert len(imgs) == 12 and all(driver.execute_script("return arguments[0].naturalWidth", i) > 0 for i in imgs)

        # the class switcher shows another class's map: another picture
        card = driver.find_element(By.CSS_SELECTOR, f'.card[data-id="{data["items"][0]["id"]}"]')
        overlay = card.find_element(By.CSS_SELECTOR, "img.overlay")
        before = overlay.get_attribute("src")
        Select(card.find_element(By.CSS_SELECTOR, "select.class-switch")).select_by_index(2)
        after = overlay.get_attribute("src")
        assert after != before and after.endswith(data["items"][0]["views"][2]["img"])

        # one colour bar per card, spanning the item's one scale: the same whichever class the switcher shows
        bar = card.find_element(By.CSS_SELECTOR, ".colour-bar")
        lo, hi = data["items"][0]["scale"]
        assert lo < hi and [float(bar.find_element(By.CSS_SELECTOR, s).text) for s in (".lo", ".hi")] == [
            pytest.approx(lo, abs=1e-3),
            pytest.approx(hi, abs=1e-3),
        ]
        gradient = driver.execute_script(
            "return getComputedStyle(arguments[0]).backgroundImage", bar.find_element(By.CSS_SELECTOR, ".ramp")
        )
        assert gradient.startswith("linear-gradient") and gradient.count("rgb(") == len(data["ramp"]) == 11
        assert len(driver.find_elements(By.CSS_SELECTOR, "#grid .card .colour-bar")) == 6  # every explained item
        Select(card.find_element(By.CSS_SELECTOR, "select.class-switch")).select_by_index(1)
        assert card.find_element(By.CSS_SELECTOR, ".colour-bar .hi").text == bar.find_element(By.CSS_SELECTOR, ".hi").text
        # the legend explains the switcher's mark
        assert "* marks a class the run explained" in driver.find_element(By.ID, "legend").text

        # a click enlarges the picture: a dialog with the same map, several times larger, and its scale
        zoom = driver.find_element(By.ID, "zoom")
        assert not zoom.is_displayed()
        overlay.click()
        big = driver.find_element(By.ID, "zoom-img")
        assert zoom.is_displayed() and big.get_attribute("src") == overlay.get_attribute("src")
        assert big.size["width"] >= 3 * overlay.size["width"]
        assert data["items"][0]["views"][1]["name"] in driver.find_element(By.ID, "zoom-caption").text
        assert zoom.find_element(By.CSS_SELECTOR, ".colour-bar .hi").text == bar.find_element(By.CSS_SELECTOR, ".hi").text
        zoom.click()
        assert not zoom.is_displayed()

        # sorting: lowest confidence first; misclassified first
        Select(driver.find_element(By.ID, "sort")).select_by_value("confidence-asc")
        conf = {i["id"]: i["confidence"] for i in data["items"] if i["status"] == "done"}
        order = [c.get_attribute("data-id") for c in driver.find_elements(By.CSS_SELECTOR, "#grid .card")]
        assert [conf[i] for i in order[:6]] == sorted(conf.values())
        Select(driver.find_element(By.ID, "sort")).select_by_value("misclassified")
        first = driver.find_elements(By.CSS_SELECTOR, "#grid .card")[0]
        assert "failed" in first.get_attribute("class")  # failures, then misclassified, then the rest
        wrong = {i["id"] for i in data["items"] if i["correct"] == 0}
        order = [c.get_attribute("data-id") for c in driver.find_elements(By.CSS_SELECTOR, "#grid .card")]
        assert set(order[1 : 1 + len(wrong)]) == wrong
        driver.find_element(By.ID, "only-wrong").click()
        assert len(driver.find_elements(By.CSS_SELECTOR, "#grid .card")) == len(wrong)

        assert driver.execute_script("return window.__pwned === undefined")
        shot = os.environ.get("PEEPHOLE_SCREENSHOT")
        if shot:
            driver.find_element(By.ID, "only-wrong").click()
            driver.save_screenshot(str(Path(shot)))

        # a folder of class sub-folders: labelled by them, so its misclassified items are found
        fdata = json.loads(re.search(r'id="data">(.*?)</script>', write_report(folder_run).read_text(), re.S).group(1))
        wrong = {i["id"] for i in fdata["items"] if i["correct"] == 0}
        assert wrong and all(i["label"] == i["id"].split("/")[0] for i in fdata["items"])
        driver.get((folder_run / "report" / "index.html").resolve().as_uri())
        assert severe(driver) == [] and not driver.find_elements(By.ID, "labels-note")
        driver.find_element(By.ID, "only-wrong").click()
        shown = {c.get_attribute("data-id") for c in driver.find_elements(By.CSS_SELECTOR, "#grid .card")}
        assert shown == wrong
        assert all("(misclassified)" in c.text for c in driver.find_elements(By.CSS_SELECTOR, "#grid .card"))

        # a text run: the <script> sentence is inert text, its words highlighted
        driver.get(write_report(text_run).resolve().as_uri())
        assert severe(driver) == []
        texts = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#grid .card .html")]
        assert any("<script>window.__pwned = 1</script>" in t for t in texts), texts
        assert driver.execute_script("return window.__pwned === undefined")
        assert len(driver.find_elements(By.CSS_SELECTOR, "script")) == 2
        spans = driver.find_elements(By.CSS_SELECTOR, "#grid .card .html span")
        assert len(spans) == sum(len(s.split()) for s in ["good good film", EVIL, "bad & worse <b>plot</b>"])

        # a detection run: every box over the input with its class and score, the shown box over its map, one map per box
        dindex = write_report(detection_run)
        ddata = json.loads(re.search(r'id="data">(.*?)</script>', dindex.read_text(), re.S).group(1))
        driver.get(dindex.resolve().as_uri())
        assert severe(driver) == []
        both = driver.find_element(By.CSS_SELECTOR, '.card[data-id="both.png"]')
        item = next(i for i in ddata["items"] if i["id"] == "both.png")
        scores = [b["score"] for b in item["boxes"]]
        assert [b["box"] for b in item["boxes"]] == [[4, 4, 16, 16], [18, 18, 30, 28]]
        frame = both.find_element(By.CSS_SELECTOR, ".framed:has(img.input)")
        labels = [t.text for t in frame.find_elements(By.CSS_SELECTOR, "svg.boxes .box text")]
        assert labels == [f"square 0 {scores[0]:.2f}", f"block 1 {scores[1]:.2f}"]
        img = frame.find_element(By.CSS_SELECTOR, "img.input").rect
        for rect, b in zip(frame.find_elements(By.CSS_SELECTOR, "svg.boxes rect"), item["boxes"]):
            r, (x0, y0, x1, y1), s = rect.rect, b["box"], img["width"] / 32  # drawn where the box is on the picture
            assert r["x"] - img["x"] == pytest.approx(x0 * s, abs=2) and r["width"] == pytest.approx((x1 - x0) * s, abs=2)
            assert r["y"] - img["y"] == pytest.approx(y0 * s, abs=2) and r["height"] == pytest.approx((y1 - y0) * s, abs=2)
        shown = lambda: [g.is_displayed() for g in both.find_elements(By.CSS_SELECTOR, ".framed:has(img.overlay) svg .box")]  # noqa: E731
        switch = Select(both.find_element(By.CSS_SELECTOR, "select.class-switch"))
        assert [o.text for o in switch.options] == [f"square 0 (score {scores[0]:.2f}) *", f"block 1 (score {scores[1]:.2f}) *"]
        assert shown() == [True, False]
        overlay = both.find_element(By.CSS_SELECTOR, "img.overlay")
        first = overlay.get_attribute("src")
        switch.select_by_index(1)  # the other box's map, from the same queries, with that box drawn
        assert overlay.get_attribute("src") != first and shown() == [False, True]
        overlay.click()
        assert len(driver.find_elements(By.CSS_SELECTOR, "#zoom-boxes svg .box")) == 2
        assert "map of block 1 (score" in driver.find_element(By.ID, "zoom-caption").text
    finally:
        driver.quit()
