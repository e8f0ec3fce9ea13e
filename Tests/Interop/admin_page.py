"""Drives Latch's approval page (/admin/) in headless Chromium, the way an operator would.

Debian's chromium package, driven by Playwright (PyPI `playwright`, pinned in requirements.txt)
through `executable_path`: no browser is downloaded. Prints one JSON object:

  shown       the text of each field of the approval's entry on the page
  images      how many <img> elements the document holds (the arguments carry an <img> tag: 0)
  pwned       whether any onerror handler ran
  first       the entry's outcome text after Approve
  second      the outcome text after Approve again (the page shows the API's 409)
  api_again   the status of one more approve sent straight to the API (409)
  cookies     cookies the page set (none: the token is a bearer header)
  stored      whether the token is in sessionStorage
  console     console errors (e.g. a Content-Security-Policy violation)

Usage: admin_page.py --base http://HOST:PORT --token TOKEN --approve ID [--chromium PATH]
"""

import argparse
import json
import os
import shutil
import sys
import urllib.error
import urllib.request

from playwright.sync_api import sync_playwright

FIELDS = ("tool", "agent", "task", "expires", "reason", "policies", "risk", "arguments", "prompt")


def chromium_path(given):
    for candidate in (given, os.environ.get("LATCH_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.path.exists(candidate):
            return candidate
    sys.exit("no chromium: apt-get install chromium (or set LATCH_CHROMIUM)")


def api_approve(base, token, approval):
    request = urllib.request.Request(
        f"{base}/admin/approvals/{approval}/approve", data=b"{}", method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--approve", required=True)
    parser.add_argument("--chromium")
    args = parser.parse_args()
    report = {"console": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(args.chromium), headless=True, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.on("console", lambda message: report["console"].append(message.text) if message.type == "error" else None)
        page.goto(args.base + "/admin/")
        page.fill("#token", args.token)
        page.click("#save-token")
        entry = page.locator(f'li.approval[data-approval-id="{args.approve}"]')
        entry.wait_for()
        report["shown"] = {name: entry.locator("." + name).text_content() for name in FIELDS}
        report["images"] = page.locator("img").count()
        report["pwned"] = page.evaluate("() => window.__pwned === true")
        entry.locator(".note").fill("approved on the page")
        entry.locator(".approve").click()
        page.wait_for_function(
            "id => { const e = document.querySelector(`li.approval[data-approval-id='${id}']`); return e && e.dataset.outcome; }", arg=args.approve)
        report["first"] = entry.locator(".outcome").text_content()
        page.evaluate("id => { delete document.querySelector(`li.approval[data-approval-id='${id}']`).dataset.outcome; }", args.approve)
        entry.locator(".approve").click()
        page.wait_for_function(
            "id => { const e = document.querySelector(`li.approval[data-approval-id='${id}']`); return e && e.dataset.outcome; }", arg=args.approve)
        report["second"] = entry.locator(".outcome").text_content()
        report["cookies"] = context.cookies()
        report["stored"] = page.evaluate("() => sessionStorage.getItem('latch-operator-token') !== null")
        browser.close()
    report["api_again"] = api_approve(args.base, args.token, args.approve)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
