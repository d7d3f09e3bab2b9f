#!/usr/bin/env python3
"""The sandbox page in a real browser: relbot-sim --web runs the real relbot, and Debian's
headless Chromium (driven by chromedriver through Selenium) plays a release manager and an
owner as a person would: types /release commands, clicks buttons, fills modals, switches who
they are, opens App Home. Every wait is bounded; nothing sleeps.

  sandbox_test.py --sim build/relbot-sim --bot build/relbot [--screenshot docs/sandbox.png]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT = 20  # seconds: every wait on the page is bounded by this
passed = 0


def check(condition, what):
    global passed
    if not condition:
        raise AssertionError(what)
    passed += 1
    print("ok:", what, flush=True)


def start_sandbox(sim, bot, work):
    proc = subprocess.Popen(
        [sim, "--web", bot, "--web-port", "0", "--db", os.path.join(work, "relbot.db"),
         "--log", os.path.join(work, "relbot.log")],
        stdout=subprocess.PIPE, stderr=open(os.path.join(work, "sim.log"), "w"), text=True)
    url = proc.stdout.readline().strip()  # the first line is the page's URL
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        raise AssertionError("relbot-sim --web did not print its URL first: %r" % url)
    return proc, url


def status_of(url, data=None, headers=None):
    """The HTTP status the sandbox answers a request with (no browser involved)."""
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=WAIT) as res:
            return res.status
    except urllib.error.HTTPError as e:
        return e.code


def refuses_what_it_should(url):
    json_type = {"Content-Type": "application/json"}
    check(status_of(url + "api/command", b'{"user":"UALEX","text":5}', json_type) == 400,
          "a command of the wrong shape is refused with 400")
    check(status_of(url + "api/command", b"user=UALEX&text=help",
                    {"Content-Type": "application/x-www-form-urlencoded"}) == 415,
          "an action that is not JSON (a form from another site) is refused")
    check(status_of(url, headers={"Host": "attacker.example"}) == 403,
          "a request naming another host (DNS rebinding) is refused")
    check(status_of(url + "api/home", b'{"user":"UALEX"}',
                    dict(json_type, Origin="http://attacker.example")) == 403,
          "an action from another site's page is refused")
    check(status_of(url + "api/state?user=UNOBODY") == 400, "only the cast has a view")
    check(status_of(url + "api/click", b'{"user":"UALEX","in":"channel","ts":"1.2",'
                    b'"action_id":"item.done:1"}', json_type) == 409,
          "a click on a control that is not there is answered, not sent")


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--window-size=1280,900"):
        options.add_argument(flag)
    options.add_argument("--user-data-dir=" + tempfile.mkdtemp(prefix="relbot-chromium-"))
    # The page's console: a script error, a refused resource or a failed request shows there.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


class page:
    def __init__(self, driver):
        self.d = driver

    def wait(self, condition, what):
        """Waits (bounded) until condition() is true; the page redraws what changed, so an
        element found a moment ago may be gone: that look counts as false and is retried."""
        try:
            return WebDriverWait(self.d, WAIT, poll_frequency=0.1,
                                 ignored_exceptions=(StaleElementReferenceException,)).until(
                                     lambda d: condition())
        except TimeoutException:
            raise AssertionError("timed out waiting for: " + what)

    def click(self, xpath, what):
        """Clicks the last element `xpath` finds, once it is there (again if it was redrawn
        between being found and being clicked)."""
        def attempt():
            found = self.d.find_elements(By.XPATH, xpath)
            if not found:
                return False
            found[-1].click()
            return True
        self.wait(attempt, what)

    def messages_text(self):
        return self.d.find_element(By.ID, "messages").text

    def say(self, text):
        box = self.d.find_element(By.ID, "box")
        box.clear()
        box.send_keys(text, Keys.ENTER)
        self.wait(lambda: box.get_attribute("value") == "", "the box to be cleared after " + text)

    def be(self, user_id, view):
        Select(self.d.find_element(By.ID, "user")).select_by_value(user_id)
        self.d.find_element(By.ID, "nav-" + view).click()
        box = self.d.find_element(By.ID, "messages")
        self.wait(lambda: box.get_attribute("data-user") == user_id
                  and box.get_attribute("data-view") == view,
                  "the page to show %s's %s" % (user_id, view))

    # Clicks the control labelled `label` on item `ref` ("1.2") of the newest message that has
    # one: the button in the actions block right after the section that names the item.
    def click_item(self, ref, label, scope="//*[@id='messages']"):
        xpath = (scope + "//div[contains(@class,'block-section')][.//code[normalize-space()='"
                 + ref + "']]/following-sibling::div[1][contains(@class,'block-actions')]"
                 "//button[normalize-space()='" + label + "']")
        self.click(xpath, label + " on item " + ref)

    def click_control(self, label, scope="//*[@id='messages']"):
        xpath = scope + "//button[contains(@class,'control')][normalize-space()='" + label + "']"
        self.click(xpath, "a control " + label)

    def modal(self):
        return self.wait(lambda: self.d.find_element(By.ID, "modal-layer").is_displayed()
                         and self.d.find_element(By.ID, "modal"), "the modal to open")

    def modal_closed(self):
        self.wait(lambda: not self.d.find_element(By.ID, "modal-layer").is_displayed(),
                  "the modal to close")

    def status_message(self):
        """The text of the pinned living status message."""
        rows = self.d.find_elements(By.CSS_SELECTOR, "#messages .message.pinned")
        return rows[-1].text if rows else ""


def run(args, work):
    sandbox, url = start_sandbox(args.sim, args.bot, work)
    driver = browser()
    p = page(driver)
    try:
        driver.get(url)
        p.wait(lambda: "connected" in driver.find_element(By.ID, "connection").text
               and "connecting" not in driver.find_element(By.ID, "connection").text,
               "relbot to connect")
        check(driver.title == "relbot sandbox", "the page is the relbot sandbox")
        refuses_what_it_should(url)

        # The release manager starts a release by typing, as in Slack.
        p.say("/release start v9.9")
        p.wait(lambda: "Release v9.9" in p.status_message(), "the pinned status message")
        check("Pinned" in p.status_message(), "the status message is marked pinned")

        # Done on 1.1: the status message is edited in place to show it checked.
        p.click_item("1.1", "Done")
        p.wait(lambda: "1/9" in p.status_message(), "1.1 counted done in the status message")
        check("(edited)" in p.status_message(), "the status message is marked edited")

        # Assign… on 1.3: a person and a due time in the modal (the picker's value set as a
        # person would pick it, in UTC as the page says); what comes next shows beside.
        p.click_item("1.3", "Assign…")
        p.modal()
        p.wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#modal select"), "the owner picker")
        Select(driver.find_element(By.CSS_SELECTOR, "#modal select")).select_by_value("UPAT")
        due = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() + 2 * 3600 + 60))
        picker = driver.find_element(By.CSS_SELECTOR, "#modal input[type=datetime-local]")
        driver.execute_script("arguments[0].value = arguments[1]", picker, due)
        driver.find_element(By.CSS_SELECTOR, "#modal .modal-submit").click()
        p.modal_closed()
        p.wait(lambda: "Smoke Tests" in driver.find_element(By.ID, "upcoming-list").text,
               "1.3's due time under Coming up")
        upcoming = driver.find_element(By.ID, "upcoming-list").text
        check("in 2 h" in upcoming or "in 119 min" in upcoming or "in 120 min" in upcoming,
              "Coming up says when 1.3 falls due")

        # Skip… on 1.2: an empty reason is answered next to the field; a reason skips it.
        p.click_item("1.2", "Skip…")
        modal = p.modal()
        check("Skip" in modal.text, "Skip… opens its modal")
        modal.find_element(By.CSS_SELECTOR, ".modal-submit").click()
        p.wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#modal .error"),
               "the empty reason's error next to the field")
        check(driver.find_element(By.ID, "modal-layer").is_displayed(),
              "the modal stays open on an error")
        if args.screenshot:
            driver.save_screenshot(args.screenshot)
        field = driver.find_element(By.CSS_SELECTOR, "#modal textarea, #modal input[type=text]")
        field.send_keys("covered by the nightly scan")
        driver.find_element(By.CSS_SELECTOR, "#modal .modal-submit").click()
        p.modal_closed()
        p.wait(lambda: "2/9" in p.status_message(), "1.2 counted skipped")
        check("covered by the nightly scan" in p.messages_text(), "the skip's reason is shown")

        # The next modal starts empty (nothing typed in the last one comes back), and Cancel
        # closes it with nothing done.
        p.click_item("1.5", "Skip…")
        p.modal()
        field = p.wait(lambda: driver.find_elements(
            By.CSS_SELECTOR, "#modal textarea, #modal input[type=text]"), "the reason field")[0]
        check(field.get_attribute("value") == "", "a new modal does not carry the last one's text")
        driver.find_element(By.CSS_SELECTOR, "#modal .modal-close").click()
        p.modal_closed()
        check("2/9" in p.status_message(), "Cancel changes nothing")

        # Notes that look like markup are text, in the report, and nothing runs.
        p.say("/release note 1.4 <script>alert(1)</script>")
        p.say("/release note 1.4 <img src=x onerror=alert(2)>")
        p.say("/release report")
        p.wait(lambda: "<img src=x onerror=alert(2)>" in p.messages_text(), "the notes in the report")
        check("<script>alert(1)</script>" in p.messages_text(), "the <script> note is shown as text")
        check(not driver.find_elements(By.CSS_SELECTOR, "#messages script, #messages img"),
              "notes with <script> and <img onerror> add no element")

        # The owner clicks Done in their own DM, as them.
        p.be("UPAT", "dm")
        p.click_item("1.3", "Done")
        p.wait(lambda: "Done by" in p.messages_text(), "the DM updated in place to say Done by")
        p.be("UALEX", "channel")
        p.wait(lambda: "3/9" in p.status_message(), "1.3 counted done after the owner's click")

        # Someone not on the release is refused, only they see why; the admin may act.
        p.be("UMAX", "channel")
        p.click_item("1.4", "Done")
        p.wait(lambda: any("@Alex Rivera" in r.text for r in driver.find_elements(
            By.CSS_SELECTOR, "#messages .message.ephemeral")), "max's refusal, naming alex")
        check("3/9" in p.status_message(), "max's click changed nothing")
        p.be("UROBIN", "channel")
        p.click_item("1.4", "Done")
        p.wait(lambda: "4/9" in p.status_message(), "the admin's Done counted")
        p.be("UALEX", "channel")

        # App Home: the viewer's page, published by relbot when the tab opens.
        driver.find_element(By.ID, "nav-home").click()
        p.wait(lambda: "Start a release" in p.messages_text(), "App Home published")
        check("v9.9" in p.messages_text(), "App Home lists the active release")

        # The rest of phase 1 by clicks, then Next phase: phase 2 is announced.
        driver.find_element(By.ID, "nav-channel").click()
        for i in range(5, 10):
            p.click_item("1.%d" % i, "Done")
            p.wait(lambda: "%d/9" % i in p.status_message(), "1.%d counted done" % i)
        p.click_control("Next phase", "//*[@id='messages']//div[contains(@class,'pinned')]")
        p.wait(lambda: "Phase 2 of 6" in p.status_message(), "phase 2 in the status message")
        p.wait(lambda: p.messages_text().count("Deployment Steps") >= 2,
               "the phase 2 announcement")
        text = p.messages_text()
        for announcement in ("Phase 1 of 6", "Phase 2 of 6"):
            rows = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#messages .message")
                    if announcement in r.text and "pinned" not in (r.get_attribute("class") or "")]
            check(len(rows) == 1, "%s is announced once in the channel (%d)" % (announcement,
                                                                               len(rows)))
        check(text.count("Started release") == 1, "the start is answered once")

        # Finish: the timeline picture relbot draws is shared after the summary and shown
        # inline; the whole report, asked for as a file, is a download in the asker's DM.
        p.say("/release finish force the browser test ends here")
        p.wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#messages figure.file-image img"),
               "the timeline picture in the channel")

        def picture_width():
            imgs = driver.find_elements(By.CSS_SELECTOR, "#messages figure.file-image img")
            return imgs and driver.execute_script(
                "return arguments[0].complete ? arguments[0].naturalWidth : 0", imgs[-1])
        p.wait(lambda: picture_width() == 1200, "the picture to load, 1200 pixels wide")
        img = driver.find_elements(By.CSS_SELECTOR, "#messages figure.file-image img")[-1]
        check("Timeline of release v9.9" in (img.get_attribute("alt") or ""),
              "the picture has its alt text")
        p.say("/release report file")
        p.be("UALEX", "dm")
        links = p.wait(lambda: driver.find_elements(
            By.XPATH, "//*[@id='messages']//a[@download='relbot-v9.9-report.md']"),
            "the report file in alex's DM")
        with urllib.request.urlopen(links[-1].get_attribute("href"), timeout=WAIT) as res:
            report = res.read().decode("utf-8")
        check("v9.9" in report and "covered by the nightly scan" in report,
              "the downloaded report holds the release and the skip's reason")
        errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        check(not errors, "the page's console shows no error (script, request, policy): %r"
              % errors)
    finally:
        driver.quit()
        sandbox.send_signal(signal.SIGTERM)
        try:
            code = sandbox.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            sandbox.kill()
            raise AssertionError("relbot-sim --web did not stop within %d s of SIGTERM" % WAIT)
    check(code == 0, "Ctrl-C stops relbot cleanly and the sandbox exits 0 (got %d)" % code)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sim", required=True)
    parser.add_argument("--bot", required=True)
    parser.add_argument("--screenshot", default="")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="relbot-browser-")
    try:
        run(args, work)
    except AssertionError as e:
        print("FAILED:", e, file=sys.stderr)
        for name in ("sim.log", "relbot.log"):
            path = os.path.join(work, name)
            if os.path.exists(path):
                print("--- " + name, file=sys.stderr)
                print(open(path).read()[-4000:], file=sys.stderr)
        print("%d passed, 1 failed" % passed)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, 0 failed" % passed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
