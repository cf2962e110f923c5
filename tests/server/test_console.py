"""The console as an analyst uses it: welfare defaults for a new user, reveal one
at a time, a one-key decision that lands on the next item, a second opinion that a
supervisor settles, and every view, reveal and decision in the audit log."""

import io
import pathlib
import re

from PIL import Image

from console_case import Console, csrf_of
from vigil.store.records import ItemQuery


def _png(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_welfare_defaults_hold_for_a_new_user(console: Console) -> None:
    client = console.signed_in("ana")
    sha = console.case.sha["single0"]
    page = client.get(f"/items/{sha}")
    assert page.status_code == 200
    assert f'src="/items/{sha}/thumbnail"' in page.text  # no reveal token
    settings = client.get("/settings").text
    assert 'name="blur_level" min="0" max="6" value="2"' in settings
    assert 'name="greyscale" checked' in settings
    thumb = client.get(f"/items/{sha}/thumbnail")
    assert thumb.status_code == 200 and thumb.headers["cache-control"] == "no-store"
    assert _png(thumb.content).mode == "L"  # greyscale
    # hovering never reveals: no CSS or script swaps the image on hover
    assert ":hover" not in client.get("/static/console.css").text
    assert "mouseover" not in client.get("/static/console.js").text


def test_a_reveal_shows_one_item_at_a_time_and_is_audited(console: Console) -> None:
    client = console.signed_in("ana")
    first, second = console.case.sha["single0"], console.case.sha["single1"]
    csrf = csrf_of(client.get(f"/items/{first}").text)
    shown = client.post(f"/items/{first}/reveal", data={"csrf": csrf})
    nonce = re.search(r"reveal=([\w-]+)", shown.text)
    assert nonce is not None
    blurred = _png(client.get(f"/items/{first}/thumbnail").content)
    revealed = _png(
        client.get(f"/items/{first}/thumbnail?reveal={nonce.group(1)}").content
    )
    original = Image.open(console.case.folder / "forum" / "single0.png").convert("L")
    assert _distance(revealed, original) < 0.5 < _distance(blurred, original)
    client.post(f"/items/{second}/reveal", data={"csrf": csrf})
    again = _png(
        client.get(f"/items/{first}/thumbnail?reveal={nonce.group(1)}").content
    )
    assert _distance(again, blurred) == 0  # the first is hidden again
    actions = [r.action for r in console.store.audit.records() if r.actor == "ana"]
    assert actions.count("reveal") == 2 and "view" in actions


def _distance(a: Image.Image, b: Image.Image) -> float:
    import numpy as np

    left = np.asarray(a.convert("L"), dtype=float)
    right = np.asarray(b.convert("L"), dtype=float)
    return float(np.abs(left - right).mean())


def test_a_keyed_decision_lands_on_the_next_item(console: Console) -> None:
    client = console.signed_in("ana")
    queue = client.get("/queue").text
    first = re.search(r'href="/items/([0-9a-f]{64})"', queue)
    assert first is not None
    page = client.get(f"/items/{first.group(1)}").text
    assert 'data-key="n"' in page and 'id="help"' in page
    done = client.post(
        f"/items/{first.group(1)}/assess",
        data={"csrf": csrf_of(page), "decision": "off_remit", "opened": "0"},
    )
    assert done.status_code == 303
    following = done.headers["location"]
    assert following.startswith("/items/") and first.group(1) not in following
    assert first.group(1) not in client.get("/queue").text  # never shown again
    (made,) = [
        a
        for a in console.store.triage.assessments()
        if a.sha256 == first.group(1) and a.source == "analyst"
    ]
    assert made.analyst == "ana" and made.observations["reason"] == "off_remit"


def test_an_inconsistent_decision_is_refused_on_the_page(console: Console) -> None:
    client = console.signed_in("ana")
    sha = console.case.sha["single1"]
    page = client.get(f"/items/{sha}").text
    refused = client.post(
        f"/items/{sha}/assess", data={"csrf": csrf_of(page), "decision": "criminal_c"}
    )  # a criminal image needs the age band and sex
    assert refused.status_code == 400 and 'class="error"' in refused.text


def test_a_second_opinion_is_settled_by_a_supervisor(console: Console) -> None:
    analyst = console.signed_in("ana")
    sha = console.case.sha["single2"]
    page = analyst.get(f"/items/{sha}").text
    asked = analyst.post(
        f"/items/{sha}/assess",
        data={
            "csrf": csrf_of(page),
            "decision": "age_in_question",
            "second_opinion": "on",
        },
    )
    assert asked.status_code == 303
    supervisor = console.signed_in("sam")
    waiting = supervisor.get("/second-opinions").text
    assert sha[:16] in waiting
    item = supervisor.get(f"/items/{sha}").text
    assert "Settle a second opinion" in item and f"/items/{sha}/settle" in item
    settled = supervisor.post(
        f"/items/{sha}/settle",
        data={"csrf": csrf_of(item), "decision": "adult"},
    )
    assert settled.status_code == 303
    assert sha[:16] not in supervisor.get("/second-opinions").text
    current = console.store.triage.current()
    (held,) = [a for a in current.values() if a.sha256 == sha]
    assert held.analyst == "sam" and held.observations["reason"] == "suspected_adult"
    record = [r for r in console.store.audit.records() if r.details.get("settles")]
    # both not criminal, but age in question is Project VIC 2 and an adult 0
    assert record and record[0].details["disagreed_on"] == ["project_vic"]
    assert console.store.audit.verify().ok


def test_hash_only_mode_shows_no_image(console: Console) -> None:
    client = console.signed_in("ana")
    csrf = csrf_of(client.get("/settings").text)
    client.post("/settings", data={"csrf": csrf, "blur_level": "2", "hash_only": "on"})
    sha = console.case.sha["single0"]
    page = client.get(f"/items/{sha}").text
    assert "Hash-only mode" in page and "/thumbnail" not in page
    assert client.get(f"/items/{sha}/thumbnail").status_code == 404
    assert any(r.action == "settings" for r in console.store.audit.records())


def test_a_file_changed_since_the_scan_is_never_shown(console: Console) -> None:
    client = console.signed_in("ana")
    sha = console.case.sha["single0"]
    (console.case.folder / "forum" / "single0.png").write_bytes(b"replaced")
    assert client.get(f"/items/{sha}/thumbnail").status_code == 404


def test_the_queue_page_filters_and_counts(console: Console) -> None:
    client = console.signed_in("ana")
    every = client.get("/queue").text
    assert "5 waiting" in every and "a possible new victim" in every
    only = client.get("/queue?rule=claimed_ai_contradiction").text
    assert "1 waiting" in only and console.case.sha["contradiction"][:16] in only
    clustered = client.get("/queue?cluster_kind=near_duplicate").text
    assert "1 waiting" in clustered
    none = client.get("/queue?min_ai=0.5").text  # nothing has a likelihood here
    assert "0 waiting" in none and "Nothing waits" in none


def test_the_derived_schemes_show_as_the_analyst_chooses(console: Console) -> None:
    client = console.signed_in("ana")
    page = client.get(f"/items/{console.case.sha['single0']}").text
    assert 'hx-get="/derive"' in page and "What each key derives" in page
    choices = {
        "age_band": "7-10",
        "sex": "unclear",
        "realism": "photorealistic_synthetic",
        "ai_generated": "yes",
        "ai_evidence": "C2PA",
    }
    chosen = client.get("/derive", params=choices).text
    row = chosen.split("Criminal, category C", 1)[1].split("</tr>", 1)[0]
    assert "poca 1978 pseudo photograph" in row and "A2" in row and ">no<" in row
    bare = client.get("/derive", params={"realism": "photographic"}).text
    assert "needs:" in bare  # a criminal key needs the age band and sex first


def test_dev_mode_refuses_a_host_that_is_not_loopback(console: Console) -> None:
    done = console.case.run("serve", "--dev", "--host", "0.0.0.0")  # noqa: S104
    assert done.exit_code == 2 and "loopback only" in done.output


def test_the_item_page_names_the_model_files_an_image_was_made_with(
    tmp_path: pathlib.Path,
) -> None:
    from click.testing import CliRunner
    from fastapi.testclient import TestClient

    from console_case import PASSWORD
    from vigil.cli import cli
    from vigil.config import Settings
    from vigil.demo import build_demo
    from vigil.server.app import create_app
    from vigil.server.auth import hash_password
    from vigil.store import open_store
    from vigil.store.users import Role

    build_demo(tmp_path / "demo")
    env = {"VIGIL_HOME": str(tmp_path / "home")}
    scan = ["scan", "--engine", "inline", "--no-progress", str(tmp_path / "demo")]
    assert CliRunner().invoke(cli, scan, env=env).exit_code == 0
    store = open_store(f"sqlite:///{tmp_path / 'home' / 'vigil.sqlite3'}")
    store.users.add("ana", hash_password(PASSWORD), Role.ANALYST)
    (link, *_) = store.model_links(1)
    (image,) = [
        v
        for v in store.iter_items(ItemQuery())
        if link.image in {p.label for p in v.locations}
    ]
    settings = Settings(home=tmp_path / "home", dev_mode=True)
    client = TestClient(create_app(settings, store))
    page = client.get("/login")
    client.post(
        "/login",
        data={"username": "ana", "password": PASSWORD, "csrf": csrf_of(page.text)},
    )
    shown = client.get(f"/items/{image.sha256}").text
    assert (
        "Model files and listed models it names" in shown and link.hash_value in shown
    )
    store.close()


def test_an_analyst_gives_a_second_opinion_and_the_supervisor_sees_it_differ(
    console: Console,
) -> None:
    from console_case import PASSWORD
    from vigil.server.auth import hash_password
    from vigil.store.users import Role

    console.store.users.add("bea", hash_password(PASSWORD), Role.ANALYST)
    asking = console.signed_in("ana")
    sha = console.case.sha["single2"]
    page = asking.get(f"/items/{sha}").text
    asking.post(
        f"/items/{sha}/assess",
        data={"csrf": csrf_of(page), "decision": "adult", "second_opinion": "on"},
    )
    mine = asking.get(f"/items/{sha}").text  # the asker cannot answer herself
    assert "Give a second opinion" not in mine
    refused = asking.post(
        f"/items/{sha}/opinion", data={"csrf": csrf_of(mine), "decision": "adult"}
    )
    assert refused.status_code == 409
    other = console.signed_in("bea")
    listed = other.get("/second-opinions").text
    assert "Give an opinion" in listed
    item = other.get(f"/items/{sha}").text
    assert "Give a second opinion" in item and f"/items/{sha}/opinion" in item
    given = other.post(
        f"/items/{sha}/opinion",
        data={"csrf": csrf_of(item), "decision": "age_in_question"},
    )
    assert given.status_code == 303
    held = [a for a in console.store.triage.current().values() if a.sha256 == sha]
    assert held[0].analyst == "ana"  # an opinion decides nothing
    supervisor = console.signed_in("sam").get("/second-opinions").text
    assert "differs on project_vic" in supervisor and "Settle" in supervisor
