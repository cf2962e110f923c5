"""The console app: `create_app(settings)`.

Every route needs a signed-in user with the right role, except the sign-in page and
the static files; `tests/server/test_routes.py` enumerates every route and checks.
Every POST checks the session's CSRF token. Every response says `Cache-Control:
no-store`, and a strict Content-Security-Policy allows only the app's own scripts.
"""

import dataclasses
import datetime as dt
import secrets
import time
import typing as t
from importlib.resources import files

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.datastructures import FormData

from vigil.config import Settings
from vigil.media.base import Limits
from vigil.media.names import display
from vigil.review.mappings import MappingError
from vigil.review.taxonomy import AgeBand, AIGenerated, ObservationError, Realism, Sex
from vigil.server import auth, decisions, images, welfare
from vigil.server.queuecache import QueueCache
from vigil.store.audit import AuditAction
from vigil.store.base import Store
from vigil.store.records import ItemQuery, ItemView
from vigil.store.triage import TriageError
from vigil.store.users import Role, SessionView
from vigil.triage.assess import assess, represented_clusters
from vigil.triage.queue import QueueEntry

if t.TYPE_CHECKING:
    from vigil.reports.statistics import Report
    from vigil.triage.assess import Decision

QUEUE_PAGE_ROWS = 200
PUBLIC_PATHS = frozenset({"/login", "/static"})


@dataclasses.dataclass
class Reveal:
    """The one item a session has revealed now (a new reveal replaces it)."""

    sha256: str
    nonce: str


@dataclasses.dataclass
class Console:
    settings: Settings
    store: Store
    templates: Jinja2Templates
    limits: Limits = dataclasses.field(default_factory=Limits)
    reveals: dict[int, Reveal] = dataclasses.field(default_factory=dict)
    queue: QueueCache = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.queue = QueueCache(self.store)


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    if store is None:
        from vigil.store import open_store

        store = open_store(settings.resolved_database_url)
    root = files("vigil.server")
    templates = Jinja2Templates(directory=str(root / "templates"))
    templates.env.globals["display"] = display
    templates.env.globals["highlight"] = highlight
    console = Console(settings, store, templates)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, title="Vigil")
    app.state.console = console
    app.mount("/static", StaticFiles(directory=str(root / "static")), name="static")

    @app.middleware("http")
    async def headers(request: Request, call_next: t.Any) -> Response:
        response: Response = await call_next(request)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self'; script-src 'self'; "
            "style-src 'self'; frame-ancestors 'none'; form-action 'self'"
        )
        return response

    @app.exception_handler(auth.NotSignedIn)
    async def not_signed_in(request: Request, _exc: auth.NotSignedIn) -> Response:
        if request.method == "GET" and not request.url.path.endswith(
            ("/thumbnail", ".png", ".css")
        ):
            return RedirectResponse("/login", status_code=303)
        return Response("sign in first", status_code=401)

    @app.exception_handler(auth.Forbidden)
    async def forbidden(_request: Request, exc: auth.Forbidden) -> Response:
        return Response(str(exc), status_code=403, media_type="text/plain")

    _routes(app, console)
    return app


# dependencies


def _console(request: Request) -> Console:
    return t.cast(Console, request.app.state.console)


def signed_in(request: Request) -> SessionView:
    token = request.cookies.get(auth.SESSION_COOKIE)
    found = _console(request).store.users.session(token) if token else None
    if found is None:
        raise auth.NotSignedIn()
    return found


def _role(needed: Role) -> t.Callable[[SessionView], SessionView]:
    def check(session: SessionView = Depends(signed_in)) -> SessionView:
        auth.require_role(session, needed)
        return session

    return check


analyst = _role(Role.ANALYST)
supervisor = _role(Role.SUPERVISOR)


async def _form(request: Request, session: SessionView) -> FormData:
    form = await request.form()
    given = form.get(auth.CSRF_FIELD)
    auth.check_csrf(session.csrf_token, given if isinstance(given, str) else None)
    return form


def _page(
    console: Console,
    request: Request,
    name: str,
    session: SessionView | None,
    status_code: int = 200,
    **context: t.Any,
) -> HTMLResponse:
    return console.templates.TemplateResponse(
        request,
        name,
        {"session": session, "csrf": session.csrf_token if session else "", **context},
        status_code=status_code,
    )


def _routes(app: FastAPI, console: Console) -> None:  # noqa: C901 - one place
    store, settings = console.store, console.settings

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, failed: str = "") -> HTMLResponse:
        token = auth.new_token()
        response = _page(
            console, request, "login.html", None, login_csrf=token, failed=failed
        )
        response.set_cookie(
            auth.LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
            secure=not settings.dev_mode, max_age=3600,
        )  # fmt: skip
        return response

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        username = str(form.get("username") or "")[:64]
        password = str(form.get("password") or "")
        cookie = request.cookies.get(auth.LOGIN_CSRF_COOKIE)
        given = form.get(auth.CSRF_FIELD)
        auth.check_csrf(cookie, given if isinstance(given, str) else None)
        client = request.client.host if request.client else "-"
        if (
            store.users.recent_failures(username, client, auth.THROTTLE_WINDOW)
            >= settings.max_login_failures
        ):
            store.audit.append(
                username, AuditAction.LOGIN, client, {"ok": False, "throttled": True}
            )
            return Response(
                "too many failed sign-ins: wait 15 minutes",
                status_code=429,
                headers={"Retry-After": str(int(auth.THROTTLE_WINDOW.total_seconds()))},
            )
        user = store.users.get(username)
        ok = auth.verify_password(
            user.password_hash if user else auth.DUMMY_HASH, password
        )
        if user is None or not ok or user.disabled:
            store.users.record_failure(username, client)
            store.audit.append(username, AuditAction.LOGIN, client, {"ok": False})
            return RedirectResponse("/login?failed=1", status_code=303)
        store.users.clear_failures(username)
        token, _ = store.users.open_session(user.id)
        store.audit.append(username, AuditAction.LOGIN, client, {"ok": True})
        response = RedirectResponse("/queue", status_code=303)
        response.set_cookie(
            auth.SESSION_COOKIE, token, httponly=True, samesite="strict",
            secure=not settings.dev_mode,
        )  # fmt: skip
        response.delete_cookie(auth.LOGIN_CSRF_COOKIE)
        return response

    @app.post("/logout")
    async def logout(
        request: Request, session: SessionView = Depends(analyst)
    ) -> Response:
        await _form(request, session)
        store.users.close_session(request.cookies.get(auth.SESSION_COOKIE, ""))
        console.reveals.pop(session.id, None)
        store.audit.append(session.user.username, AuditAction.LOGOUT)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(auth.SESSION_COOKIE)
        return response

    @app.get("/")
    def home(_session: SessionView = Depends(analyst)) -> Response:
        return RedirectResponse("/queue", status_code=303)

    @app.get("/queue", response_class=HTMLResponse)
    def queue_page(
        request: Request,
        session: SessionView = Depends(analyst),
        scan: int | None = None,
        rule: str = "",
        cluster_kind: str = "",
        evidence: str = "",
        min_ai: float | None = None,
        max_ai: float | None = None,
    ) -> HTMLResponse:
        filtered = bool(rule or cluster_kind or evidence) or (
            min_ai is not None or max_ai is not None
        )

        def keep(e: QueueEntry) -> bool:
            return (
                (not rule or e.rule == rule)
                and (not cluster_kind or e.facts.cluster_kind == cluster_kind)
                and (not evidence or (evidence == "ai") == e.facts.ai_evidence)
                and _in_range(e.facts.ai_likelihood, min_ai, max_ai)
            )

        shown, total, rules = console.queue.page(
            scan, session.user.username, QUEUE_PAGE_ROWS, keep if filtered else None
        )
        return _page(
            console, request, "queue.html", session,
            entries=shown, total=total, rules=rules,
            scans=store.list_scans(), filters={
                "scan": scan, "rule": rule, "cluster_kind": cluster_kind,
                "evidence": evidence, "min_ai": min_ai, "max_ai": max_ai,
            },
        )  # fmt: skip

    @app.get("/items/{sha256}", response_class=HTMLResponse)
    def item_page(
        request: Request,
        sha256: str,
        session: SessionView = Depends(analyst),
        error: str = "",
    ) -> HTMLResponse:
        view = _item(store, sha256)
        username = session.user.username
        try:
            store.triage.claim(view.item_id, username)
        except TriageError as exc:
            return _page(console, request, "message.html", session, status_code=409,
                         message=str(exc))  # fmt: skip
        store.audit.append(username, AuditAction.VIEW, view.sha256)
        return _item_page(console, request, session, view, error)

    @app.get("/items/{sha256}/thumbnail")
    def thumbnail(
        sha256: str,
        session: SessionView = Depends(analyst),
        reveal: str = "",
    ) -> Response:
        view = _item(store, sha256)
        shown = welfare.view_settings(settings, session.user.settings)
        budget = welfare.exposure(store.audit, session.user.username, settings, _now())
        if shown.hash_only or budget.over_budget:
            return Response("hash-only: no image is shown", status_code=404)
        current = console.reveals.get(session.id)
        revealed = (
            bool(reveal)
            and current is not None
            and (
                current.sha256 == view.sha256
                and secrets.compare_digest(current.nonce, reveal)
            )
        )
        drawn = images.View(
            blur=0 if revealed else max(1, shown.blur_level),
            greyscale=shown.greyscale,
            sepia=shown.sepia,
        )
        try:
            data = images.original_bytes(view.sha256, view.locations, console.limits)
            png = images.thumbnail(data, drawn, console.limits)
        except images.ImageUnavailable as exc:
            return Response(f"not available: {exc}", status_code=404)
        return Response(png, media_type="image/png")

    @app.post("/items/{sha256}/reveal", response_class=HTMLResponse)
    async def reveal(
        request: Request,
        sha256: str,
        session: SessionView = Depends(analyst),
    ) -> HTMLResponse:
        await _form(request, session)
        view = _item(store, sha256)
        nonce = auth.new_token()
        console.reveals[session.id] = Reveal(view.sha256, nonce)  # one at a time
        store.audit.append(session.user.username, AuditAction.REVEAL, view.sha256)
        return _page(
            console, request, "_revealed.html", session, item=view, nonce=nonce
        )

    @app.post("/items/{sha256}/assess")
    async def assess_item(
        request: Request,
        sha256: str,
        session: SessionView = Depends(analyst),
    ) -> Response:
        form = await _form(request, session)
        view = _item(store, sha256)
        username = session.user.username
        asking = form.get("second_opinion") == "on"
        decision = _keyed_decision(
            console, request, session, view, form,
            # a decision that waits for a second opinion is not carried on yet
            cluster=form.get("cluster") == "on" and not asking,
        )  # fmt: skip
        if isinstance(decision, Response):
            return decision
        made = decision.assessment
        store.audit.append(username, AuditAction.DECISION, view.sha256, {
            "assessment": made.id, "supersedes": made.supersedes,
            "propagations": [p.id for p in decision.propagations], "via": "console",
        })  # fmt: skip
        if asking:
            store.triage.ask_second_opinion(made.id, username)
            store.audit.append(username, AuditAction.SECOND_OPINION, view.sha256,
                               {"assessment": made.id, "asked": True})  # fmt: skip
        store.triage.release(view.item_id, username)
        console.reveals.pop(session.id, None)
        console.queue.decided(
            [view.item_id, *(i for p in decision.propagations for i in p.items)]
        )
        following = console.queue.next_item(username, after=view.sha256)
        target = f"/items/{following.sha256}" if following else "/queue"
        return RedirectResponse(target, status_code=303)

    @app.get("/derive", response_class=HTMLResponse)
    def derive_preview(
        request: Request, session: SessionView = Depends(analyst)
    ) -> HTMLResponse:
        """What each one-key decision would derive with the form's choices."""
        return _page(console, request, "_derived.html", session,
                     rows=_derived_rows(dict(request.query_params)))  # fmt: skip

    @app.get("/second-opinions", response_class=HTMLResponse)
    def second_opinions(
        request: Request,
        session: SessionView = Depends(analyst),
    ) -> HTMLResponse:
        """Decisions waiting for a second opinion, with the opinions given and
        where they disagree; analysts give opinions, supervisors settle."""
        return _page(console, request, "second_opinions.html", session,
                     waiting=_waiting(store))  # fmt: skip

    @app.post("/items/{sha256}/opinion")
    async def give_opinion(
        request: Request,
        sha256: str,
        session: SessionView = Depends(analyst),
    ) -> Response:
        form = await _form(request, session)
        view = _item(store, sha256)
        asked = {i: (a, who) for i, a, who, _ in store.triage.second_opinions()}
        username = session.user.username
        if view.item_id not in asked or asked[view.item_id][1] == username:
            return Response(
                "no second opinion is asked of you on this item", status_code=409
            )
        decision = _keyed_decision(
            console, request, session, view, form,
            second_opinion_of=asked[view.item_id][0],
        )  # fmt: skip
        if isinstance(decision, Response):
            return decision
        store.audit.append(username, AuditAction.SECOND_OPINION, view.sha256, {
            "assessment": decision.assessment.id, "on": asked[view.item_id][0],
            "via": "console",
        })  # fmt: skip
        return RedirectResponse("/second-opinions", status_code=303)

    @app.post("/items/{sha256}/settle")
    async def settle(
        request: Request,
        sha256: str,
        session: SessionView = Depends(supervisor),
    ) -> Response:
        form = await _form(request, session)
        view = _item(store, sha256)
        asked = {i: a for i, a, _, _ in store.triage.second_opinions()}
        if view.item_id not in asked:
            return Response(
                "no second opinion is waiting on this item", status_code=409
            )
        username = session.user.username
        (original,) = store.triage.assessments(ids=[asked[view.item_id]])
        decision = _keyed_decision(
            console, request, session, view, form, cluster=form.get("cluster") == "on"
        )
        if isinstance(decision, Response):
            return decision
        made = decision.assessment
        differs = _differences(made.derived, original.derived)
        store.triage.settle(view.item_id)
        console.queue.decided(
            [view.item_id, *(i for p in decision.propagations for i in p.items)]
        )
        store.audit.append(username, AuditAction.DECISION, view.sha256, {
            "assessment": made.id, "settles": original.id,
            "supersedes": made.supersedes,
            "disagreed_on": differs, "via": "console",
        })  # fmt: skip
        return RedirectResponse("/second-opinions", status_code=303)

    @app.get("/report", response_class=HTMLResponse)
    def report_page(
        session: SessionView = Depends(supervisor), scan: int | None = None
    ) -> HTMLResponse:
        from vigil.reports.render import html

        made = _report(store, scan)
        store.audit.append(
            session.user.username, AuditAction.VIEW, f"report scan {made.scan_id}"
        )
        return HTMLResponse(
            html(
                made,
                lambda name: f"/report/charts/{name}.png?scan={made.scan_id}",
                stylesheet="/report/report.css",
            )
        )

    @app.get("/report/report.css")
    def report_css(_session: SessionView = Depends(supervisor)) -> Response:
        from vigil.reports.render import stylesheet

        return Response(stylesheet(), media_type="text/css")

    @app.get("/report/charts/{name}.png")
    def report_chart(
        name: str,
        _session: SessionView = Depends(supervisor),
        scan: int | None = None,
    ) -> Response:
        from vigil.reports.render import CHARTS, chart_png

        if name not in dict(CHARTS):
            return Response("no such chart", status_code=404)
        return Response(chart_png(_report(store, scan), name), media_type="image/png")

    @app.get("/settings", response_class=HTMLResponse)
    def settings_page(
        request: Request,
        session: SessionView = Depends(analyst),
    ) -> HTMLResponse:
        shown = welfare.view_settings(settings, session.user.settings)
        return _page(console, request, "settings.html", session, shown=shown,
                     organisation=welfare.view_settings(settings, {}))  # fmt: skip

    @app.post("/settings")
    async def save_settings(
        request: Request,
        session: SessionView = Depends(analyst),
    ) -> Response:
        form = await _form(request, session)
        try:
            blur = max(
                0, min(6, int(str(form.get("blur_level") or settings.blur_level)))
            )
        except ValueError:
            blur = settings.blur_level
        chosen = {
            "blur_level": blur,
            "greyscale": form.get("greyscale") == "on",
            "sepia": form.get("sepia") == "on",
            "hash_only": form.get("hash_only") == "on",
        }
        store.users.update(session.user.username, settings=chosen)
        store.audit.append(
            session.user.username, AuditAction.SETTINGS, "welfare", chosen
        )
        return RedirectResponse("/settings", status_code=303)

    @app.post("/break")
    async def took_break(
        request: Request,
        session: SessionView = Depends(analyst),
    ) -> Response:
        await _form(request, session)
        store.audit.append(session.user.username, AuditAction.BREAK)
        return RedirectResponse("/queue", status_code=303)


def _differences(a: t.Mapping[str, t.Any], b: t.Mapping[str, t.Any]) -> list[str]:
    return sorted(k for k in a if k != "mapping_version" and a[k] != b.get(k))


def _waiting(store: Store) -> list[dict[str, t.Any]]:
    rows = []
    for item_id, assessment_id, asked_by, since in store.triage.second_opinions():
        (made,) = store.triage.assessments(ids=[assessment_id])
        opinions = [
            {"assessment": o, "differs": _differences(o.derived, made.derived)}
            for o in store.triage.assessments(item_ids=[item_id])
            if o.second_opinion_of == assessment_id
        ]
        rows.append({"assessment": made, "asked_by": asked_by, "since": since,
                     "item_id": item_id, "opinions": opinions,
                     "disagree": any(o["differs"] for o in opinions)})  # fmt: skip
    rows.sort(key=lambda r: (not r["disagree"], r["since"]))  # disagreements first
    return rows


def _report(store: Store, scan: int | None) -> "Report":
    from fastapi import HTTPException

    from vigil.reports.statistics import build_report

    scans = store.list_scans()
    if not scans:
        raise HTTPException(status_code=404, detail="no scans yet")
    chosen = scan if scan is not None else scans[-1].id
    if store.get_scan(chosen) is None:
        raise HTTPException(status_code=404, detail="no such scan")
    return build_report(store, chosen)


def _item(store: Store, sha256: str) -> ItemView:
    view = store.item(sha256.lower()) if len(sha256) == 64 else None
    if view is None:
        from fastapi import HTTPException

        raise HTTPException(status_code=404, detail="no such item")
    return view


def _item_page(
    console: Console,
    request: Request,
    session: SessionView,
    view: ItemView,
    error: str,
    status_code: int = 200,
) -> HTMLResponse:
    store, settings = console.store, console.settings
    shown = welfare.view_settings(settings, session.user.settings)
    budget = welfare.exposure(store.audit, session.user.username, settings, _now())
    clusters = store.triage.clusters_of(view.item_id)
    members = {
        v.item_id: v
        for c in clusters
        for v in store.iter_items(ItemQuery(item_ids=frozenset(c.members[:50])))
    }
    held = store.triage.current([view.item_id]).get(view.item_id)
    waiting = {i: a for i, a, _, _ in store.triage.second_opinions()}
    original = None
    if view.item_id in waiting:
        (original,) = store.triage.assessments(ids=[waiting[view.item_id]])
    prompt = view.score("prompt_risk")
    labels = {place.label for place in view.locations}
    links = [
        link
        for scan_id in sorted({place.scan_id for place in view.locations})
        for link in store.model_links(scan_id)
        if link.image in labels
    ]
    return _page(
        console, request, "item.html", session, status_code=status_code,
        item=view, shown=shown, budget=budget, error=error, clusters=clusters,
        members=members, held=held, original=original,
        represented=represented_clusters(store, view.item_id),
        model_links=links,
        presets=decisions.PRESETS, age_bands=[a.value for a in AgeBand],
        sexes=[s.value for s in Sex], realisms=[r.value for r in Realism],
        ai_values=[a.value for a in AIGenerated], opened=f"{time.time():.3f}",
        triggers=(prompt.details.get("triggers", []) if prompt else []),
        derived_rows=_derived_rows(
            {"ai_generated": "yes" if view.is_ai else "no", "realism": "photographic"}
        ),
        image_hidden=shown.hash_only or budget.over_budget,
    )  # fmt: skip


def highlight(text: str, triggers: t.Sequence[t.Any], field: str) -> Markup:
    """The prompt with the filter's triggers marked, everything else escaped."""
    spans = sorted(
        (int(tr["span"][0]), int(tr["span"][1]))
        for tr in triggers
        if isinstance(tr, dict) and tr.get("field") == field and "span" in tr
    )
    out, at = [], 0
    for start, end in spans:
        if start < at or end > len(text) or start >= end:
            continue
        out.append(escape(display(text[at:start])))
        out.append(
            Markup("<mark>") + escape(display(text[start:end])) + Markup("</mark>")
        )
        at = end
    out.append(escape(display(text[at:])))
    return Markup("").join(out)


def _keyed_decision(
    console: Console,
    request: Request,
    session: SessionView,
    view: ItemView,
    form: FormData,
    **options: t.Any,
) -> "Decision | HTMLResponse":
    """Record the decision a key (or button) sent, or the item page again with the
    reason it was refused."""
    try:
        observed = decisions.observations(str(form.get("decision") or ""), form)
        return assess(
            console.store, view.sha256, observed, analyst=session.user.username,
            seconds=_seconds(form), **options,
        )  # fmt: skip
    except (ObservationError, MappingError, TriageError) as exc:
        return _item_page(console, request, session, view, str(exc), status_code=400)


def _derived_rows(form: t.Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    from vigil.review.mappings import derive
    from vigil.review.taxonomy import check

    rows = []
    for preset in decisions.PRESETS:
        try:
            derived = derive(check(decisions.observations(preset.name, form))).as_dict()
            rows.append({"preset": preset, "derived": derived, "problem": None})
        except (ObservationError, MappingError) as exc:
            rows.append({"preset": preset, "derived": None, "problem": str(exc)})
    return rows


def _seconds(form: FormData) -> float | None:
    try:
        opened = float(str(form.get("opened") or ""))
    except ValueError:
        return None
    spent = time.time() - opened
    return round(spent, 1) if 0 <= spent < 24 * 3600 else None


def _in_range(value: float | None, low: float | None, high: float | None) -> bool:
    if low is None and high is None:
        return True
    if value is None:
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
