"""The web page at `/` in a real browser (issue 14): Playwright drives Debian's headless
Chromium against `wan2.2-turbo serve` with the real default bundle.

Two servers start side by side, once for the module: a plain one, and one with `--api-key`
and a small `--max-body-bytes`. Screenshots (and axe's findings) go to
build/test-artifacts/browser/. Skipped only where Chromium is not installed and this is not
CI; under CI=1 or REQUIRE_BROWSER_TESTS=1 (.ci/run) a missing Chromium fails.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from browser_support import (
    ARTIFACTS,
    CHROMIUM,
    INVOICE_TOTAL,
    Server,
    axe_source,
    chromium_problem,
    draw_invoice,
    draw_noise,
    in_ci,
)

pytestmark = pytest.mark.slow

KEY = "page-test-key-7Qx"
BODY_LIMIT = 300_000
ANSWER_S = 120_000  # ms Playwright waits for an answer (2 cores, shared)
CANCELLED = "wan_cancelled_requests_total"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def chromium() -> str:
    problem = chromium_problem()
    if problem is not None:
        if in_ci():
            pytest.fail(f"CI=1 or REQUIRE_BROWSER_TESTS=1, but {problem}")
        pytest.skip(problem)
    return str(CHROMIUM)


@pytest.fixture(scope="module")
def servers(chromium, reader_bundle, tmp_path_factory, request):
    """(plain, guarded): both start at once, so their loading overlaps. Prints what the
    tier cost: server start-up, and everything from then to the servers' shutdown."""
    logs = tmp_path_factory.mktemp("server-logs")
    started = time.monotonic()
    plain = Server(reader_bundle, logs / "plain.log")
    guarded = Server(reader_bundle, logs / "guarded.log", "--max-body-bytes", str(BODY_LIMIT), api_key=KEY)
    try:
        plain.wait_ready()
        guarded.wait_ready()
        ready = time.monotonic() - started
        yield plain, guarded
    finally:
        plain.stop()
        guarded.stop()
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nbrowser tests: servers ready in {ready:.1f} s, whole tier {time.monotonic() - started:.1f} s")


@pytest.fixture(scope="module")
def server(servers) -> Server:
    return servers[0]


@pytest.fixture(scope="module")
def guarded_server(servers) -> Server:
    return servers[1]


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # this run's screenshots only
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser, request):
    """open_page(server, viewport=DESKTOP) -> a fresh tab (own session storage) on the page.
    The test fails on any script error or Content-Security-Policy violation; a screenshot
    named after the test is saved when it ends, pass or fail."""
    contexts, problems, pages = [], [], []

    def open_(server: Server, viewport: dict = DESKTOP):
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("console", lambda message: problems.append(message.text)
                if "Content Security Policy" in message.text else None)
        page.goto(server.url + "/")
        pages.append(page)
        return page

    yield open_
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for index, page in enumerate(pages):
        suffix = f"-{index + 1}" if len(pages) > 1 else ""
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}{suffix}.png"), full_page=True)
    for context in contexts:
        context.close()
    assert not problems, problems


def _connected(page):
    from playwright.sync_api import expect

    expect(page.locator("#model-status")).to_contain_text("precision", timeout=60_000)
    expect(page.locator("#task option").first).to_be_attached()


def _open_with_invoice(server, open_page, tmp_path: Path, viewport: dict = DESKTOP):
    """A tab on the page, connected, with a drawn invoice picked: (page, the invoice's path,
    the box of its total line in image pixels)."""
    invoice = tmp_path / "invoice.png"
    box = draw_invoice(invoice)
    page = open_page(server, viewport)
    _connected(page)
    _pick(page, invoice)
    return page, invoice, box


def _pick(page, image: Path):
    from playwright.sync_api import expect

    page.set_input_files("#file-input", str(image))
    expect(page.locator("#preview")).to_be_visible()
    expect(page.locator("#preview-image")).to_have_attribute("alt", re.compile(image.name))


def _ask(page, task: str, text: str = "", max_tokens: int | None = None):
    page.select_option("#task", task)
    if max_tokens is not None:
        page.fill("#max-tokens", str(max_tokens))
    page.fill("#prompt", text)
    page.locator("#prompt").press("Enter")  # the keyboard way; the Send button is the other


def _last_answer(page):
    return page.locator(".message.assistant .text").last


def _done(page):
    from playwright.sync_api import expect

    expect(page.locator("#send")).to_be_enabled(timeout=ANSWER_S)
    expect(page.locator("#stop")).to_be_disabled()


def _points(polygon) -> list[tuple[float, float]]:
    return [tuple(float(v) for v in pair.split(",")) for pair in polygon.get_attribute("points").split()]


def test_the_page_shows_the_model_its_tasks_precision_and_provider(server, open_page):
    page = open_page(server)
    _connected(page)
    card = server.models()["data"][0]
    status = page.locator("#model-status").inner_text()
    for component in card["components"]:
        assert component["precision"] in status
        assert component["provider"].removesuffix("ExecutionProvider") in status
    offered = page.locator("#task option").evaluate_all("options => options.map(o => o.value)")
    detector = {"detect"} if any(c["name"] == "detector" for c in card["components"]) else set()
    assert set(offered) - {""} <= set(card["tasks"]) | detector  # only what the server can do
    assert {"vqa", "caption", "read", "generate", "rank"} | detector <= set(offered)
    assert page.locator("#components tr").count() == len(card["components"])


def test_an_invoice_total_streams_in_and_the_conversation_keeps_the_image(server, open_page, tmp_path):
    from playwright.sync_api import expect

    page, _, _ = _open_with_invoice(server, open_page, tmp_path)
    _ask(page, "vqa", "What is the total due?")
    expect(_last_answer(page)).to_contain_text(INVOICE_TOTAL, timeout=ANSWER_S)
    _done(page)
    expect(page.locator("#stats")).to_contain_text("first token after")
    expect(page.locator("#announce")).to_have_text(re.compile(r"^Answer: .*42\.50"))  # for screen readers
    # A second turn about the same image: nothing re-uploaded, the conversation keeps it.
    _ask(page, "vqa", "Who issued this invoice?")
    expect(_last_answer(page)).to_contain_text("NORTHWIND", timeout=ANSWER_S)
    _done(page)
    expect(page.locator(".message")).to_have_count(4)
    expect(page.locator("#error")).to_be_hidden()


def test_the_answers_evidence_box_is_drawn_over_the_total(server, open_page, tmp_path):
    from playwright.sync_api import expect

    page, _, (x0, y0, x1, y1) = _open_with_invoice(server, open_page, tmp_path)
    _ask(page, "vqa", "What is the total due?")
    expect(_last_answer(page)).to_contain_text(INVOICE_TOTAL, timeout=ANSWER_S)
    _done(page)
    evidence = page.locator("#overlay polygon.evidence")
    expect(evidence).to_have_count(1, timeout=1000)
    points = _points(evidence.first)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    # The box is the total's line, in image pixels (the overlay's viewBox is the image's size).
    assert min(ys) >= y0 - 15 and max(ys) <= y1 + 15 and min(xs) <= x0 + 15, (points, (x0, y0, x1, y1))
    assert evidence.first.bounding_box()["height"] > 0  # drawn on screen, over the image


_FILE_TRANSFER = """([data, name]) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, {type: "image/png"}));
    return transfer;
}"""


def test_an_image_can_be_dropped_or_pasted_and_a_new_one_starts_over(server, open_page, tmp_path):
    from playwright.sync_api import expect

    invoice = tmp_path / "invoice.png"
    draw_invoice(invoice)
    data = base64.b64encode(invoice.read_bytes()).decode("ascii")
    page = open_page(server)
    _connected(page)
    dropped = page.evaluate_handle(_FILE_TRANSFER, [data, "dropped.png"])
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": dropped})
    expect(page.locator("#preview-caption")).to_contain_text("dropped.png · 800×500 px")
    _ask(page, "read")
    expect(_last_answer(page)).to_contain_text("INV-20417", timeout=ANSWER_S)
    _done(page)
    expect(page.locator("#overlay polygon.ocr")).to_have_count(6)
    pasted = page.evaluate_handle(_FILE_TRANSFER, [data, "pasted.png"])
    page.evaluate("transfer => document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: transfer}))", pasted)
    expect(page.locator("#preview-caption")).to_contain_text("pasted.png")
    expect(page.locator(".message")).to_have_count(0)  # another image: a new conversation
    expect(page.locator("#overlay polygon")).to_have_count(0)
    on_preview = page.evaluate_handle(_FILE_TRANSFER, [data, "on-preview.png"])
    page.dispatch_event("#preview-image", "drop", {"dataTransfer": on_preview})  # dropped on the image shown
    expect(page.locator("#preview-caption")).to_contain_text("on-preview.png")


def test_read_draws_a_box_on_every_line(server, open_page, tmp_path):
    from playwright.sync_api import expect

    page, _, _ = _open_with_invoice(server, open_page, tmp_path)
    _ask(page, "read")
    expect(_last_answer(page)).to_contain_text("INV-20417", timeout=ANSWER_S)
    _done(page)
    boxes = page.locator("#overlay polygon.ocr")
    expect(boxes).to_have_count(6)  # the six lines drawn
    tops = sorted(min(p[1] for p in _points(boxes.nth(i))) for i in range(6))
    assert all(later - earlier > 40 for earlier, later in zip(tops, tops[1:])), tops  # one per line, 70 px apart
    expect(page.locator("#stats")).to_contain_text("answered in")


def test_find_objects_draws_the_detectors_boxes(server, open_page, tmp_path):
    from PIL import Image
    from playwright.sync_api import expect
    from skimage import data

    photo = tmp_path / "chelsea.png"
    Image.fromarray(data.chelsea()).save(photo)  # a real photo of a cat, from scikit-image's wheel
    found = server.post("/v1/detect", {"image": base64.b64encode(photo.read_bytes()).decode("ascii")})["objects"]
    assert found and found[0]["label"] == "cat", found
    page = open_page(server)
    _connected(page)
    _pick(page, photo)
    _ask(page, "detect")
    expect(_last_answer(page)).to_contain_text("cat", timeout=ANSWER_S)
    _done(page)
    boxes = page.locator("#overlay polygon.object")
    expect(boxes).to_have_count(len(found))
    x0, y0, x1, y1 = found[0]["box"]
    assert _points(boxes.first) == [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    labels = page.locator("#overlay text.object")  # each box says what it is
    expect(labels).to_have_count(len(found))
    expect(labels.first).to_have_text(re.compile(r"^cat \d+%$"))
    expect(page.locator("#legend-objects")).to_be_visible()


def test_rank_orders_the_texts_against_the_image(server, open_page, tmp_path):
    from playwright.sync_api import expect

    texts = ["a photo of a cat on a sofa", "an invoice from a hardware shop", "a poem about the sea"]
    page, _, _ = _open_with_invoice(server, open_page, tmp_path)
    page.select_option("#task", "rank")
    page.fill("#prompt", "\n".join(texts))  # one text per line (filled: Enter would send)
    page.click("#send")
    answer = _last_answer(page)
    expect(answer).to_contain_text(texts[1], timeout=ANSWER_S)
    _done(page)
    lines = answer.inner_text().splitlines()
    ranked = [line.split(None, 1)[1] for line in lines]
    assert ranked[0] == texts[1] and sorted(ranked) == sorted(texts), lines  # the invoice's text first
    scores = [float(line.split(None, 1)[0]) for line in lines]
    assert scores == sorted(scores, reverse=True) and len(scores) == 3


def test_stop_ends_a_long_generation_and_the_server_cancels_it(server, open_page):
    from playwright.sync_api import expect

    page = open_page(server)
    _connected(page)
    cancelled = server.metric(CANCELLED)
    _ask(page, "generate", "Write a very long story about the number 3000.", max_tokens=4000)
    answer = _last_answer(page)
    expect(answer).to_have_text(re.compile(r"\S.{40}", re.S), timeout=ANSWER_S)  # the first tokens are shown...
    expect(page.locator("#stop")).to_be_enabled()  # ...while it still generates: streamed
    page.click("#stop")
    expect(answer).to_contain_text("[stopped]")
    _done(page)
    expect(page.locator("#stats")).to_contain_text("Stopped after")
    shown = answer.inner_text()
    deadline = time.monotonic() + 30
    while server.metric(CANCELLED) <= cancelled and time.monotonic() < deadline:
        time.sleep(0.2)
    assert server.metric(CANCELLED) > cancelled, "the server did not cancel the generation"
    assert answer.inner_text() == shown  # nothing arrives after Stop


def test_a_new_image_while_an_answer_streams_ends_it_and_starts_clean(server, open_page, tmp_path):
    from playwright.sync_api import expect

    page, invoice, _ = _open_with_invoice(server, open_page, tmp_path)
    _ask(page, "generate", "Write a very long story about the number 3000.", max_tokens=4000)
    expect(_last_answer(page)).to_have_text(re.compile(r"\S.{40}", re.S), timeout=ANSWER_S)
    data = base64.b64encode(invoice.read_bytes()).decode("ascii")
    pasted = page.evaluate_handle(_FILE_TRANSFER, [data, "second.png"])
    page.evaluate("transfer => document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: transfer}))", pasted)
    expect(page.locator("#preview-caption")).to_contain_text("second.png")
    _done(page)  # the old answer ended with its conversation
    expect(page.locator(".message")).to_have_count(0)
    expect(page.locator("#stats")).not_to_contain_text("Stopped")
    sent = []
    page.on("request", lambda request: sent.append(request.post_data_json) if request.url.endswith("/v1/chat/completions") else None)
    _ask(page, "vqa", "What is the total due?")
    expect(_last_answer(page)).to_contain_text(INVOICE_TOTAL, timeout=ANSWER_S)
    _done(page)
    assert [len(body["messages"]) for body in sent] == [1]  # the story's question did not ride along


def test_with_an_api_key_the_page_asks_for_it_and_keeps_it_in_the_tab_only(guarded_server, open_page):
    from playwright.sync_api import expect

    page = open_page(guarded_server)
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible(timeout=60_000)
    expect(page.locator("#key-reason")).to_contain_text("--api-key")  # the server's own message
    page.fill("#api-key", "not-the-key")
    page.locator("#api-key").press("Enter")
    expect(dialog).to_be_visible()  # refused: asked again
    page.fill("#api-key", KEY)
    page.locator("#api-key").press("Enter")
    expect(dialog).to_be_hidden()
    _connected(page)
    assert page.evaluate("Object.values(sessionStorage)") == [KEY]
    assert page.evaluate("localStorage.length") == 0
    assert page.context.cookies() == []


def test_an_oversized_image_shows_the_servers_413_message(guarded_server, open_page, tmp_path):
    from playwright.sync_api import expect

    noise = tmp_path / "noise.png"
    assert draw_noise(noise) > BODY_LIMIT
    page = open_page(guarded_server)
    expect(page.locator("#key-dialog")).to_be_visible(timeout=60_000)
    page.fill("#api-key", KEY)
    page.locator("#api-key").press("Enter")
    _connected(page)
    _pick(page, noise)
    _ask(page, "vqa", "What is the total due?")
    error = page.locator("#error")
    expect(error).to_be_visible(timeout=ANSWER_S)
    expect(error).to_have_text(f"The request body is over the server's limit of {BODY_LIMIT} bytes (--max-body-bytes).")
    expect(_last_answer(page)).to_contain_text("over the server's limit")
    _done(page)


def test_phone_width_fits_and_works(server, open_page, tmp_path):
    from playwright.sync_api import expect

    page, _, _ = _open_with_invoice(server, open_page, tmp_path, PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    for control in ("#file-input", "#task", "#prompt", "#send", "#stop"):
        box = page.locator(control).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], control
    _ask(page, "vqa", "What is the total due?")
    expect(_last_answer(page)).to_contain_text(INVOICE_TOTAL, timeout=ANSWER_S)
    _done(page)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_serious_or_critical_violation(server, open_page, tmp_path, viewport):
    from playwright.sync_api import expect

    source = axe_source()
    page, _, _ = _open_with_invoice(server, open_page, tmp_path, viewport)
    _ask(page, "read")  # boxes, messages, timings: the page as it is used
    expect(_last_answer(page)).to_contain_text("INV-20417", timeout=ANSWER_S)
    _done(page)
    page.locator("#model-details summary").click()
    page.evaluate(source)  # through the DevTools protocol: the page's CSP stays on
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = f"axe-{'phone' if viewport is PHONE else 'desktop'}.json"
    (ARTIFACTS / name).write_text(json.dumps(results["violations"], indent=1))
    assert results["testEngine"]["version"].startswith("4.")
    serious = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]])
               for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, serious
