"""Real-browser tests: Debian's Chromium, driven by Playwright, against the app served from a local thread.

The server is Django's LiveServerThread (with the static files handler), started once for these tests. pytest-django's
`live_server` is not used: requesting it makes every test a TransactionTestCase, which empties all tables after
the test, and the Beijing demo the session loaded once would be gone for every test that follows. These pages
only read, so the server simply reads the committed demo data; `page` unblocks database access for the test's
duration so the server thread may connect.

Every request the page makes is recorded; one that does not go to 127.0.0.1/localhost is aborted and counted.
Console errors, page errors and HTTP errors are recorded too; `BrowserLog.assert_clean()` checks all of them.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"


@dataclass
class BrowserLog:
    """What a page did: requests, requests that left the machine, console errors, page errors, HTTP errors."""

    requests: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)

    def tile_requests(self, layer: str = "areas") -> list[str]:
        return [url for url in self.requests if f"/tiles/{layer}/" in url]

    def assert_clean(self) -> None:
        assert self.external == [], f"requests left the machine: {self.external}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"
        assert self.page_errors == [], f"page errors: {self.page_errors}"
        assert self.http_errors == [], f"HTTP errors: {self.http_errors}"
        for url in self.requests:
            parts = urlsplit(url)
            assert parts.scheme in ("data", "blob") or parts.hostname in LOCAL_HOSTS, url


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob"):
        return True
    return parts.hostname in LOCAL_HOSTS


@pytest.fixture(scope="package")
def map_server(django_db_setup):
    """Base URL of the app served by a LiveServerThread on 127.0.0.1 (random port), static files included."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    thread = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


@pytest.fixture(scope="package")
def chromium(django_db_setup):
    """Debian's Chromium, headless, launched by Playwright (which cannot download its own browser here).

    Asks for the database first: while Playwright runs, its event loop lives in this thread and Django refuses
    database calls here (see `in_thread`). Package scope: Playwright stops when the browser tests are done, so
    the tests after them get a thread without a running loop.
    """
    if not Path(CHROMIUM).exists():
        if os.environ.get("SHAOZI_WITH_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing although SHAOZI_WITH_BROWSER=1 (scripts/setup.sh installs it)")
        pytest.skip(f"{CHROMIUM} is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(map_server, chromium, django_db_blocker):
    """open_page(path, stubs=None) → (page, log): a fresh browser context on the app, every request recorded."""
    contexts = []

    def _open(
        path: str = "/",
        *,
        stubs: dict[str, tuple[str, bytes]] | None = None,
        user: str | None = None,
        viewport: tuple[int, int] = (1400, 900),
    ):
        """`stubs` maps a local path prefix to (content type, body) answered by the browser itself; `user` opens
        the page logged in as that (demo) user; `viewport` is (width, height)."""
        context = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN")
        contexts.append(context)
        if user is not None:
            context.add_cookies([{"name": "sessionid", "value": in_thread(session_for, user), "url": map_server}])
        log = BrowserLog()

        def route(route):
            url = route.request.url
            stub = next((v for k, v in (stubs or {}).items() if urlsplit(url).path.startswith(k)), None)
            if stub is not None and is_local(url):
                route.fulfill(status=200, content_type=stub[0], body=stub[1])
            elif is_local(url):
                route.continue_()
            else:
                log.external.append(route.request.url)
                route.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("request", lambda request: log.requests.append(request.url))
        page.on("console", lambda msg: log.console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))
        page.on(
            "response",
            lambda response: (
                log.http_errors.append(f"{response.status} {response.url}") if response.status >= 400 else None
            ),
        )
        page.goto(map_server + path)
        return page, log

    with django_db_blocker.unblock():
        yield _open
    for context in contexts:
        context.close()


def in_thread(fn, *args, **kwargs):
    """Run `fn` in a worker thread: Playwright's sync API keeps an event loop running in the test's thread,
    and Django refuses database calls from a thread with a running loop."""
    result = {}

    def run():
        try:
            result["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # re-raised in the test thread
            result["error"] = exc
        finally:
            from django.db import connection

            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def screenshot(page, name: str) -> Path:
    """Save a screenshot of the page under artifacts/ (git-ignored) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def session_for(username: str) -> str:
    """A session key of a logged-in session for `username` (the demo accounts exist: see `analysis_demo`)."""
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client.cookies["sessionid"].value


BROWSER_DISPUTE_TITLE = "浏览器测试：广外/太平桥交界建筑"


@pytest.fixture(scope="package")
def analysis_demo(django_db_setup, django_db_blocker):
    """The hot-spot demo (runs of every layer; loaded once, ~40 s, kept by --reuse-db), one fix plan, the demo
    accounts and one open dispute, committed so the server thread sees them. The plan and the dispute are
    removed again when the package's tests are done."""
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from complaints.models import JointCase
    from complaints.permissions import SYSTEM
    from complaints.services import whistle_blow
    from hotspots.models import FixPlan, LotScore
    from hotspots.services import fix_plan_create
    from jurisdictions.demo import demo_users_create
    from jurisdictions.disputes import dispute_open
    from jurisdictions.models import AuditEntry, Building, Dispute

    def setup():
        call_command("hotspots_demo_load", "--if-empty", verbosity=0)
        demo_users_create()
        lot = LotScore.objects.order_by("-run_id", "rank").select_related("parcel").first()
        plan = fix_plan_create(parcel=lot.parcel, by=SYSTEM, title="浏览器测试整治方案")
        dispute = dispute_open(
            by=User.objects.get(username="guangwai"),
            title=BROWSER_DISPUTE_TITLE,
            building=Building.objects.get(code="SYN-B-0001"),
        )
        case = whistle_blow(
            by=User.objects.get(username="guangwai"),
            title="浏览器测试联合办案",
            leads=["110102020"],
            summon=["110102.city_management"],
        )
        return plan.pk, dispute.pk, case.pk

    def teardown(plan_id: int, dispute_id: int, case_id: int):
        JointCase.objects.filter(pk=case_id).delete()
        AuditEntry.objects.filter(object_type="complaints.jointcase", object_id=str(case_id)).delete()
        FixPlan.objects.filter(pk=plan_id).delete()
        AuditEntry.objects.filter(object_type="jurisdictions.dispute", object_id=str(dispute_id)).delete()
        Dispute.objects.filter(pk=dispute_id, rulings__isnull=True).delete()

    with django_db_blocker.unblock():
        ids = in_thread(setup)
    yield {"fix_plan": ids[0], "dispute": ids[1], "joint_case": ids[2]}
    with django_db_blocker.unblock():
        in_thread(teardown, *ids)


BROWSER_COMPLAINT_PREFIX = "browser-test-"


@pytest.fixture(scope="package")
def browser_complaints(django_db_setup, django_db_blocker):
    """400 complaints around 天安门 (±1.5 km), committed for the server thread and removed afterwards: three
    categories under two top-level items, four statuses, March–April 2024 (local time)."""
    import datetime as dt

    from django.contrib.gis.geos import Point

    from complaints.deadlines import LOCAL_TZ
    from complaints.models import Category, Complaint

    def setup():
        Complaint.objects.filter(external_id__startswith=BROWSER_COMPLAINT_PREFIX).delete()
        leaves = [Category.objects.get(code=c) for c in ("010101", "010102", "030101")]
        statuses = ["dispatched", "in_progress", "closed", "closed"]
        Complaint.objects.bulk_create(
            Complaint(
                external_id=f"{BROWSER_COMPLAINT_PREFIX}{i}",
                received_at=dt.datetime(2024, 3, 1, 10, tzinfo=LOCAL_TZ) + dt.timedelta(hours=3 * i),
                category=leaves[i % 3],
                location=Point(116.3913 + ((i * 37) % 301 - 150) / 10000, 39.9075 + ((i * 53) % 301 - 150) / 10000),
                status=statuses[i % 4],
                district_code="110101",
                street_code="110101001",
            )
            for i in range(400)
        )

    def teardown():
        Complaint.objects.filter(external_id__startswith=BROWSER_COMPLAINT_PREFIX).delete()

    with django_db_blocker.unblock():
        in_thread(setup)
    yield 400
    with django_db_blocker.unblock():
        in_thread(teardown)


@pytest.fixture(scope="package")
def assessment_demo(browser_complaints, django_db_setup, django_db_blocker):
    """The browser complaints handed to their street (lead assignments) and the assessment of March and April 2024
    computed, for the 三率 layer and page; removed afterwards (the assignments go with the complaints)."""
    import datetime as dt

    from assessment.models import AssessmentMonth, UnitAssessment
    from assessment.services import assessment_compute
    from complaints.models import Assignment, Complaint

    months = [dt.date(2024, 3, 1), dt.date(2024, 4, 1)]

    def setup():
        complaints = Complaint.objects.filter(external_id__startswith=BROWSER_COMPLAINT_PREFIX)
        Assignment.objects.bulk_create(
            Assignment(
                complaint=c,
                role="lead",
                area_code=c.street_code,
                area_level="street",
                unit_name="东华门街道",
                created_at=c.received_at,
            )
            for c in complaints
        )
        for month in months:
            assessment_compute(month=month)

    def teardown():
        UnitAssessment.objects.filter(month__in=months).delete()
        AssessmentMonth.objects.filter(month__in=months).delete()

    with django_db_blocker.unblock():
        in_thread(setup)
    yield months
    with django_db_blocker.unblock():
        in_thread(teardown)
