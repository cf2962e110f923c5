"""A console over the triage case folder, with one user per role (the server
tests' fixture, re-exported by tests/server/conftest.py)."""

import dataclasses
import re

import pytest
from fastapi.testclient import TestClient

from triage_case import Case, case
from vigil.config import Settings
from vigil.server.app import create_app
from vigil.server.auth import hash_password
from vigil.store import open_store
from vigil.store.base import Store
from vigil.store.users import Role

__all__ = ["case", "console"]
PASSWORD = "correct horse battery"  # noqa: S105 - a test account


@dataclasses.dataclass
class Console:
    case: Case
    store: Store
    settings: Settings

    def client(self) -> TestClient:
        return TestClient(create_app(self.settings, self.store), follow_redirects=False)

    def signed_in(self, username: str) -> TestClient:
        client = self.client()
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        done = client.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf": token.group(1)},
        )
        assert done.status_code == 303 and done.headers["location"] == "/queue", (
            done.text
        )
        return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


@pytest.fixture
def console(case: Case) -> Console:
    case.scan()
    assert case.run("queue").exit_code == 0  # clusters and list labels
    store = open_store(f"sqlite:///{case.home / 'vigil.sqlite3'}")
    for name, role in (
        ("ana", Role.ANALYST),
        ("sam", Role.SUPERVISOR),
        ("ada", Role.ADMIN),
    ):
        store.users.add(name, hash_password(PASSWORD), role)
    settings = Settings(home=case.home, dev_mode=True)
    yield Console(case, store, settings)  # type: ignore[misc]
    store.close()
