"""The offline roll call in a real Chromium: the instructor opens it once with the network, loses
the Wi-Fi, reloads it, marks twenty children and checks two out, and when the network returns
every mark is on the server exactly once; a change made meanwhile by the coordinator is
reported; logging out leaves nothing on the phone; the page is an installable web app (a
manifest with icons, a service worker controlling it)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from playwright.sync_api import expect
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.accounts.services import create_user
from lms.attendance.models import AttendanceChange, AttendanceMark, Checkout, OfflineChange
from lms.attendance.roll_call import MarkEntry, save_roll_call
from lms.clock import local_today
from lms.courses.models import Lesson
from lms.courses.scheduling import create_room
from lms.extensions import db
from lms.families.models import ContactKind, ContactPerson
from tests import builders
from tests.conftest import PASSWORD

INSTRUCTOR = "youssef.benali@activelabs.ma"
COORDINATOR = "coordination@activelabs.ma"
PAGE = "/attendance/offline/"
CHILDREN = 20


def _world(app) -> dict:
    """Today's lesson, started ten minutes ago, with twenty children enrolled; the first two
    may be collected by their grandmother."""
    with app.app_context():
        coordinator = create_user(
            full_name="Fatima Zahra El Amrani",
            email=COORDINATOR,
            role="coordinator",
            password=PASSWORD,
        )
        lead = create_user(
            full_name="Youssef Benali", email=INSTRUCTOR, role="instructor", password=PASSWORD
        )
        parent = create_user(
            full_name="Karim Alaoui", email="karim@example.ma", role="parent", password=PASSWORD
        )
        today = local_today()
        room = create_room(actor=coordinator, name="Salle Ada Lovelace", capacity=30)
        cohort, todays = builders.group_with_a_lesson_under_way(
            coordinator, room=room, lead=lead, capacity=30
        )
        born = today.replace(year=today.year - 9, day=1)
        joined = datetime.combine(today - timedelta(days=20), time(9), tzinfo=UTC)
        ids = []
        for index in range(CHILDREN):
            child = builders.written_child(
                parent.id, f"Enfant{index:02d}", "Alaoui", date_of_birth=born
            )
            if index < 2:
                child.contact_people.append(
                    ContactPerson(
                        kind=ContactKind.PICKUP,
                        name=f"Latifa Alaoui {index}",
                        relationship_to_child="Grand-mère",
                        phone="+212661234590",
                    )
                )
            builders.enrol(child.id, cohort.id, at=joined)
            ids.append(child.id)
        db.session.commit()
        return {"lesson": todays.id, "children": ids}


def _log_in(ui, email: str) -> None:
    page = ui.visit("/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("load")


def _open_offline_page(ui):
    page = ui.page
    page.add_init_script(WITHOUT_BACKGROUND_SYNC)
    page.goto(ui.url(PAGE))
    page.wait_for_selector("[data-offline-roll-call][data-offline-ready=yes]")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    expect(page.locator("[data-child]")).to_have_count(CHILDREN)
    return page


def _reading(app):
    """A read of the live server's database that never waits for its write lock (as a GET)."""
    return app.test_request_context(method="GET")


def _count(app, model) -> int:
    with _reading(app):
        return db.session.scalar(select(func.count()).select_from(model))


# Playwright's offline mode does not reach the service worker, whose Background Sync would
# send the changes at once: the journeys take the path of browsers without it (Safari), where
# the page sends them on the "online" event.
WITHOUT_BACKGROUND_SYNC = "delete ServiceWorkerRegistration.prototype.sync;"


def test_twenty_marks_and_two_check_outs_made_offline_arrive_once(phone_ui, live_app):
    ui = phone_ui
    world = _world(live_app)
    _log_in(ui, INSTRUCTOR)
    page = _open_offline_page(ui)
    ui.audit()
    # Installable: the manifest with its icons, and the service worker controlling the page.
    manifest = page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
    )
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == ui.url(PAGE)

    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("[data-offline-roll-call][data-loaded=yes]")
    expect(page.locator("[data-network]")).to_have_class("offline-state is-offline")
    expect(page.locator("[data-child]")).to_have_count(CHILDREN)

    for child_id in world["children"]:
        row = page.locator(f"[data-child='{child_id}']")
        row.locator("label.seg-present").click()
    expect(page.locator("[data-waiting]")).to_have_attribute("data-count", str(CHILDREN))
    for child_id in world["children"][:2]:
        row = page.locator(f"[data-child='{child_id}']")
        row.locator("select[data-collector]").select_option(index=2)  # the grandmother
        row.get_by_role("button", name="Récupéré").click()
        expect(row.locator("[data-collected]")).to_be_visible()
    expect(page.locator("[data-waiting]")).to_have_attribute("data-count", str(CHILDREN + 2))
    ui.screenshot("offline-roll-call-waiting-fr")
    assert _count(live_app, AttendanceMark) == 0

    page.context.set_offline(False)
    expect(page.locator("[data-waiting]")).to_have_attribute("data-count", "0", timeout=20_000)
    expect(page.locator("[data-waiting]")).to_have_text("Tout est envoyé.")
    with _reading(live_app):
        marks = db.session.scalars(select(AttendanceMark)).all()
        assert sorted(m.child_id for m in marks) == sorted(world["children"])
        assert {(m.status, m.version) for m in marks} == {("present", 1)}
        assert _count(live_app, AttendanceChange) == CHILDREN
        checkouts = db.session.scalars(select(Checkout)).all()
        assert sorted(c.child_id for c in checkouts) == sorted(world["children"][:2])
        assert _count(live_app, OfflineChange) == CHILDREN + 2

    # Sending again (a reload runs a sync) changes nothing.
    page.reload()
    page.wait_for_selector("[data-offline-roll-call][data-loaded=yes]")
    assert _count(live_app, AttendanceChange) == CHILDREN


def test_a_change_the_coordinator_made_meanwhile_is_reported(phone_ui, live_app):
    ui = phone_ui
    world = _world(live_app)
    _log_in(ui, INSTRUCTOR)
    page = _open_offline_page(ui)
    page.context.set_offline(True)
    first = world["children"][0]
    page.locator(f"[data-child='{first}'] label.seg-present").click()
    expect(page.locator("[data-waiting]")).to_have_attribute("data-count", "1")
    # Meanwhile, on another device with the network, the coordinator marks the child absent.
    with live_app.app_context():
        coordinator = db.session.scalar(select(User).where(User.email == COORDINATOR))
        save_roll_call(
            db.session.get(Lesson, world["lesson"]),
            actor=coordinator,
            entries={first: MarkEntry("absent")},
        )
        db.session.commit()
    page.context.set_offline(False)
    expect(page.locator("[data-waiting]")).to_have_attribute("data-count", "0", timeout=20_000)
    notice = page.locator("[data-conflicts] [data-notice=conflict]")
    expect(notice).to_contain_text("Fatima Zahra El Amrani")
    ui.screenshot("offline-roll-call-conflict-fr")
    # The same page in Arabic, right to left.
    page.get_by_role("button", name="العربية").click()
    page.goto(ui.url(PAGE))
    page.wait_for_selector("[data-offline-roll-call][data-loaded=yes]")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("[data-waiting]")).to_have_text("أُرسل كل شيء.")
    ui.audit()
    ui.screenshot("offline-roll-call-ar")
    with _reading(live_app):
        assert db.session.scalars(select(AttendanceMark)).one().status == "absent"


def test_a_wifi_that_does_not_reach_the_server_reads_as_offline_and_is_tried_again(
    phone_ui, live_app
):
    """The phone has a network (navigator.onLine is true) but the server does not answer: a
    lab's Wi-Fi without its uplink. No "online" event will come: the page says it is offline
    and tries again by itself."""
    ui = phone_ui
    world = _world(live_app)
    _log_in(ui, INSTRUCTOR)
    page = _open_offline_page(ui)
    expect(page.locator("[data-network]")).to_have_class("offline-state")
    cut = "**/attendance/offline/*.json*"
    page.route(cut, lambda route: route.abort())
    page.route("**/attendance/offline/sync", lambda route: route.abort())
    first = world["children"][0]
    page.locator(f"[data-child='{first}'] label.seg-present").click()
    expect(page.locator("[data-network]")).to_have_class("offline-state is-offline")
    expect(page.locator("[data-waiting]")).to_have_attribute("data-count", "1")
    assert page.evaluate("navigator.onLine") is True
    assert _count(live_app, AttendanceMark) == 0

    page.unroute(cut)
    page.unroute("**/attendance/offline/sync")
    expect(page.locator("[data-waiting]")).to_have_attribute("data-count", "0", timeout=20_000)
    expect(page.locator("[data-network]")).to_have_class("offline-state")
    with _reading(live_app):
        assert db.session.scalars(select(AttendanceMark)).one().child_id == first


def test_logout_leaves_nothing_on_the_phone(ui, live_app):
    _world(live_app)
    _log_in(ui, INSTRUCTOR)
    page = _open_offline_page(ui)
    stored = (
        "new Promise(r => { const q = indexedDB.open('lms-offline-roll-call');"
        " q.onsuccess = () => { const t = q.result.transaction('bundle')"
        ".objectStore('bundle').count();"
        " t.onsuccess = () => { r(t.result); q.result.close(); }; }; })"
    )
    assert page.evaluate(stored) == 1
    assert page.evaluate("caches.keys()") == ["lms-offline-roll-call-v1"]
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/login")
    assert page.evaluate("caches.keys()") == []
    databases = page.evaluate("indexedDB.databases().then(list => list.map(d => d.name))")
    assert "lms-offline-roll-call" not in databases or page.evaluate(stored) == 0
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0


def test_logging_out_sends_the_waiting_changes_first_or_asks(ui, live_app):
    world = _world(live_app)
    _log_in(ui, INSTRUCTOR)
    page = _open_offline_page(ui)
    page.context.set_offline(True)
    first = world["children"][0]
    page.locator(f"[data-child='{first}'] label.seg-present").click()
    expect(page.locator("[data-waiting]")).to_have_attribute("data-count", "1")
    # Back online, but the server does not answer the sync: the change stays on the phone.
    page.route("**/attendance/offline/sync", lambda route: route.abort())
    page.context.set_offline(False)

    with page.expect_event("dialog") as asked:
        page.get_by_role("button", name="Se déconnecter").click()
    assert "n’ont pas encore atteint le serveur" in asked.value.message
    asked.value.dismiss()
    expect(page.locator("[data-waiting]")).to_have_attribute("data-count", "1")
    assert "/login" not in page.url
    assert _count(live_app, AttendanceMark) == 0

    # With the server reachable again, logging out sends the change, then logs out.
    page.unroute("**/attendance/offline/sync")
    asked_again = []
    page.on("dialog", lambda dialog: asked_again.append(dialog.message))
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/login")
    assert asked_again == []
    with _reading(live_app):
        assert db.session.scalars(select(AttendanceMark)).one().child_id == first
