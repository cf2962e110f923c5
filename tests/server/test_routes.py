"""Every route needs a signed-in user with the right role; every POST needs the
CSRF token; cookies are HttpOnly and SameSite=strict (Secure outside dev mode);
sign-in is throttled."""

import pytest
from fastapi.routing import APIRoute

from console_case import PASSWORD, Console, csrf_of
from vigil.config import Settings
from vigil.server.app import create_app

SHA = "0" * 64
PUBLIC = {("GET", "/login"), ("POST", "/login")}
SUPERVISOR_ONLY = {
    ("POST", "/items/{sha256}/settle"),
    ("GET", "/report"),
    ("GET", "/report/charts/{name}.png"),
    ("GET", "/report/report.css"),
}


def _routes(console: Console) -> list[tuple[str, str]]:
    app = create_app(console.settings, console.store)
    found = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            found.extend((m, route.path) for m in sorted(route.methods))
    return found


def test_every_route_is_known_to_this_test(console: Console) -> None:
    routes = set(_routes(console))
    known = PUBLIC | SUPERVISOR_ONLY | {
        ("GET", "/"), ("GET", "/queue"), ("GET", "/items/{sha256}"),
        ("GET", "/items/{sha256}/thumbnail"), ("POST", "/items/{sha256}/reveal"),
        ("POST", "/items/{sha256}/assess"), ("GET", "/settings"),
        ("POST", "/settings"), ("POST", "/break"), ("POST", "/logout"),
        ("GET", "/derive"), ("GET", "/second-opinions"),
        ("POST", "/items/{sha256}/opinion"),
    }  # fmt: skip
    assert routes == known, "a new route: add it here with the role it needs"


def test_every_route_refuses_without_a_session(console: Console) -> None:
    client = console.client()
    for method, path in _routes(console):
        if (method, path) in PUBLIC:
            continue
        response = client.request(
            method, path.replace("{sha256}", SHA).replace("{name}", "sex")
        )
        if method == "GET" and not path.endswith(("thumbnail", ".png", ".css")):
            assert response.status_code == 303, (method, path)
            assert response.headers["location"] == "/login"
        else:
            assert response.status_code == 401, (method, path)


def test_supervisor_routes_refuse_an_analyst(console: Console) -> None:
    client = console.signed_in("ana")
    csrf = csrf_of(client.get("/settings").text)
    for method, path in SUPERVISOR_ONLY:
        response = client.request(
            method,
            path.replace("{sha256}", SHA).replace("{name}", "sex"),
            data={"csrf": csrf},
        )
        assert response.status_code == 403, (method, path)
    supervisor = console.signed_in("sam")
    assert supervisor.get("/second-opinions").status_code == 200
    page = supervisor.get("/report")
    assert page.status_code == 200 and "Vigil report: scan" in page.text
    chart = supervisor.get("/report/charts/uk_category.png")
    assert chart.status_code == 200 and chart.content[:4] == b"\x89PNG"
    assert supervisor.get("/report/charts/nope.png").status_code == 404


def test_every_post_needs_the_csrf_token(console: Console) -> None:
    client = console.signed_in("ada")
    sha = console.case.sha["single0"]
    good = csrf_of(client.get("/settings").text)
    for method, path in _routes(console):
        if method != "POST" or (method, path) in PUBLIC:
            continue
        url = path.replace("{sha256}", sha)
        for data in ({}, {"csrf": "forged"}):
            response = client.post(url, data=data)
            assert response.status_code == 403, (path, data)
    assert client.post("/settings", data={"csrf": good}).status_code == 303


def test_sign_in_needs_its_own_csrf_token(console: Console) -> None:
    client = console.client()
    client.get("/login")
    done = client.post("/login", data={"username": "ana", "password": PASSWORD})
    assert done.status_code == 403


def test_cookies_are_httponly_strict_and_secure_outside_dev_mode(
    console: Console,
) -> None:
    dev = console.signed_in("ana")
    del dev
    settings = Settings(home=console.case.home, dev_mode=False)
    client = create_app(settings, console.store)
    from fastapi.testclient import TestClient

    browser = TestClient(client, base_url="https://testserver", follow_redirects=False)
    page = browser.get("/login")
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie
    done = browser.post(
        "/login",
        data={"username": "ana", "password": PASSWORD, "csrf": csrf_of(page.text)},
    )
    session = done.headers["set-cookie"]
    assert "vigil_session=" in session
    assert (
        "HttpOnly" in session and "SameSite=strict" in session and "Secure" in session
    )


def test_sign_in_is_throttled_after_repeated_failures(console: Console) -> None:
    client = console.client()
    for _ in range(console.settings.max_login_failures):
        page = client.get("/login")
        wrong = {"username": "ana", "password": "wrong", "csrf": csrf_of(page.text)}
        assert client.post("/login", data=wrong).status_code == 303
    page = client.get("/login")
    right = {"username": "ana", "password": PASSWORD, "csrf": csrf_of(page.text)}
    refused = client.post("/login", data=right)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    actions = [
        (r.actor, r.action, r.details.get("ok")) for r in console.store.audit.records()
    ]
    assert (
        actions.count(("ana", "login", False))
        == console.settings.max_login_failures + 1
    )


def test_a_disabled_user_is_signed_out_at_once(console: Console) -> None:
    client = console.signed_in("ana")
    assert client.get("/queue").status_code == 200
    console.store.users.update("ana", disabled=True)
    assert client.get("/queue").status_code == 303


@pytest.mark.parametrize("path", ["/queue", "/login", "/static/console.js"])
def test_pages_are_never_cached_and_scripts_only_our_own(
    console: Console, path: str
) -> None:
    client = console.signed_in("ana")
    response = client.get(path)
    assert response.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in response.headers["content-security-policy"]
