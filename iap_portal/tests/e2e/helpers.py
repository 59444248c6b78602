from axe_playwright_python.sync_playwright import Axe

PASSWORD = "a long demo password"
_axe = Axe()


def log_in(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{base_url}/")


def log_out(page, base_url):
    page.context.clear_cookies()


def check_accessibility(page):
    """No serious or critical axe-core violation on the page. The pointer leaves the control
    it just clicked and its hover transition (0.15 s in Bootstrap) ends first: axe read a
    button's colours halfway through one and reported a contrast it never has at rest."""
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    results = _axe.run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert not bad, f"{page.url}: " + "; ".join(bad)


def check_phone_width(page, shots, name):
    """At 390 px wide the page needs no horizontal scrolling."""
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
        shots(page, f"{name}-phone")
        assert width <= 390, f"{page.url} is {width}px wide on a phone"
    finally:
        page.set_viewport_size(size)


def check_menu_fits(page):
    """On a desktop screen the menu is one line (it does not wrap or spill over)."""
    if page.viewport_size["width"] >= 1200:
        height = page.evaluate("document.querySelector('nav.navbar').offsetHeight")
        assert height <= 64, f"{page.url}: the menu wraps ({height}px high)"
        spill = page.evaluate(
            "document.querySelector('nav.navbar').scrollWidth"
            " - document.querySelector('nav.navbar').clientWidth"
        )
        assert spill <= 0, f"{page.url}: the menu spills {spill}px past the window's edge"


def check_page(page, shots, name):
    shots(page, name)
    check_menu_fits(page)
    check_accessibility(page)
    check_phone_width(page, shots, name)
