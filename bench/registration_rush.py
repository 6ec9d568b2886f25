"""Registration day: N parents press "Enrol" at the same instant. How long do they wait?

Serves the app with gunicorn (several workers) on a fresh PostgreSQL database holding the demo
data plus N parents with a child each and groups of 12 seats, logs every parent in (real
logins, real CSRF tokens), then fires the N enrolments at once from N threads and prints
throughput and p50/p95/p99 latency, and the same for /healthz (a trivial endpoint of the same
app) fired the same way in the same run, N just before the rush and N just after, with the
ratios: the enrolment's own cost is the ratio, whatever the machine. Afterwards it checks that
no group is overbooked.

    .venv/bin/python bench/registration_rush.py                 # N=200, 4 workers
    .venv/bin/python bench/registration_rush.py --parents 500 --workers 8 --keep

The database (default: lms_enrolment_bench on the local server) is dropped and created again.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "registration-day-2026"  # noqa: S105 - bench accounts on a throwaway database
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


# ---------------------------------------------------------------------------------------------
# The database


ROLE_HELP = (
    "The bench needs a local PostgreSQL server and a role that may create databases, e.g.\n"
    "  sudo apt-get install postgresql && sudo pg_ctlcluster 15 main start\n"
    "  sudo -u postgres psql -c \"CREATE ROLE lms LOGIN PASSWORD 'lms' CREATEDB\"\n"
    "or pass --database-url postgresql+psycopg://USER:PASSWORD@HOST/DBNAME."
)


def fresh_database(url: str) -> None:
    """Drop and create the database named in ``url`` (connecting to the server's postgres db)."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        admin.connect().close()
    except OperationalError as error:
        message = f"Cannot reach PostgreSQL as {target.username}: {error.orig}\n{ROLE_HELP}"
        raise SystemExit(message) from None
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def drop_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def app_for(url: str, instance: Path):
    from lms import create_app

    return create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "bench",
            "MAIL_DELIVER_AFTER_COMMIT": False,
            # Cheap hashes for the seeded parents; logins are not what is measured.
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST_KIB": 1024,
        }
    )


def seed(url: str, instance: Path, *, parents: int, seats: int, groups: int) -> list[dict]:
    """Migrate, load the demo data, add ``groups`` groups and ``parents`` families."""
    from flask_migrate import upgrade

    from lms.accounts.services import create_user
    from lms.clock import local_today
    from lms.courses.catalogue import CourseDetails, create_course
    from lms.courses.cohorts import CohortPlan, create_cohort
    from lms.courses.models import CohortStatus
    from lms.courses.scheduling import create_room
    from lms.courses.timetables import week_start
    from lms.demo import seed_demo
    from lms.extensions import db
    from lms.families.children import add_child
    from lms.families.contacts import Person

    app = app_for(url, instance)
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
        boss = create_user(
            full_name="Rush Coordinator", email="rush.coordinator@activelabs.ma",
            role="coordinator", password=PASSWORD,
        )  # fmt: skip
        course = create_course(
            CourseDetails(
                title_fr="Robotique — journée d'inscription",
                summary_fr="Le groupe que tout le monde veut.",
                track="robotics",
                min_age=7,
                max_age=14,
                price_centimes=80000,
                published=True,
            ),
            actor=boss,
        )
        start = week_start(local_today()) + timedelta(weeks=3, days=6)  # Sunday
        cohort_ids = []
        for n in range(groups):
            room = create_room(actor=boss, name=f"Salle rush {n + 1}", capacity=seats)
            lead = create_user(
                full_name=f"Animateur {n + 1}", email=f"rush.lead{n + 1}@activelabs.ma",
                role="instructor", password=PASSWORD,
            )  # fmt: skip
            cohort = create_cohort(
                CohortPlan(
                    course=course,
                    room=room,
                    lead=lead,
                    start_date=start,
                    end_date=start + timedelta(weeks=9),
                    weekdays=[6],
                    start_time=clock(10, 0),
                    capacity=seats,
                ),
                actor=boss,
                status=CohortStatus.OPEN,
            )
            cohort_ids.append(cohort.id)
        people = []
        for n in range(parents):
            email = f"rush.parent{n}@example.ma"
            user = create_user(
                full_name=f"Parent {n}", email=email, role="parent", password=PASSWORD
            )
            child = add_child(
                user,
                first_name=f"Enfant{n}",
                last_name="Rush",
                date_of_birth=date(start.year - 9, 1 + n % 12, 1 + n % 28),
                emergency_contact=Person(f"Parent {n}", "Parent", "0612345602"),
            )
            people.append({"email": email, "child": child, "cohort": cohort_ids[n % groups]})
        db.session.commit()
        result = [
            {"email": p["email"], "child_id": p["child"].id, "cohort_id": p["cohort"]}
            for p in people
        ]
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
    return result


def verify(url: str, instance: Path) -> tuple[list[str], list[tuple]]:
    from sqlalchemy import func, select

    from lms.courses.models import Cohort
    from lms.enrolment.models import Enrolment, EnrolmentStatus
    from lms.enrolment.seats import check_consistency
    from lms.extensions import db

    app = app_for(url, instance)
    with app.app_context():
        problems = check_consistency()
        rows = db.session.execute(
            select(
                Cohort.id,
                Cohort.capacity,
                Cohort.seats_taken,
                Cohort.waitlist_count,
                func.count(Enrolment.id).filter(Enrolment.status == EnrolmentStatus.ENROLLED),
            )
            .join(Enrolment, Enrolment.cohort_id == Cohort.id)
            .group_by(Cohort.id)
            .order_by(Cohort.id)
        ).all()
        for engine in db.engines.values():
            engine.dispose()
    return problems, rows


# ---------------------------------------------------------------------------------------------
# The server


def serve(url: str, instance: Path, *, port: int, workers: int, threads: int):
    env = {
        **os.environ,
        "LMS_DATABASE_URL": url,
        "LMS_INSTANCE_PATH": str(instance),
        "LMS_SECRET_KEY": secrets.token_hex(32),
        "LMS_RATELIMIT_ENABLED": "false",  # 200 logins from one address
        "LMS_SESSION_COOKIE_SECURE": "false",  # plain http on localhost
        "LMS_MAIL_DELIVER_AFTER_COMMIT": "false",  # e-mails wait in the outbox
        "LMS_LOG_LEVEL": "WARNING",
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        "4096",
        "--log-level",
        "warning",
        "lms:create_app()",
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _, _ = request(port, "GET", "/healthz")
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def stop(process) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


# ---------------------------------------------------------------------------------------------
# HTTP, by hand: cookies and CSRF tokens like a browser


def request(port: int, method: str, path: str, *, body=None, cookies=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Host": f"127.0.0.1:{port}"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        body = urlencode(body, doseq=True)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read().decode("utf-8", "replace")
        set_cookies = response.headers.get_all("Set-Cookie") or []
        return response.status, data, set_cookies
    finally:
        connection.close()


@dataclass
class Browser:
    port: int
    cookies: dict = field(default_factory=dict)

    def open(self, method: str, path: str, body=None):
        status, data, set_cookies = request(
            self.port, method, path, body=body, cookies=self.cookies
        )
        for header in set_cookies:
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return status, data

    def token(self, path: str) -> str:
        status, page = self.open("GET", path)
        found = CSRF.search(page)
        if status != 200 or not found:
            raise RuntimeError(f"no form at {path} ({status})")
        return found.group(1)


def prepare(port: int, person: dict) -> dict:
    """Log one parent in and open the enrolment form (not timed)."""
    browser = Browser(port)
    token = browser.token("/login")
    status, _ = browser.open(
        "POST", "/login", {"csrf_token": token, "email": person["email"], "password": PASSWORD}
    )
    if status != 302:
        raise RuntimeError(f"login of {person['email']} answered {status}")
    path = f"/cohorts/{person['cohort_id']}/enrol"
    return {"browser": browser, "path": path, "token": browser.token(path), **person}


@dataclass
class Burst:
    latencies: list[float]
    statuses: list[int]
    wall: float

    def figures(self) -> dict:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]

        return {
            "requests": len(ordered),
            "throughput": len(ordered) / self.wall,
            "p50": pct(50) * 1000,
            "p95": pct(95) * 1000,
            "p99": pct(99) * 1000,
            "mean": statistics.fmean(ordered) * 1000,
            "wall": self.wall,
        }


def burst(jobs) -> Burst:
    """Release every job at the same instant; each one's latency, and the whole burst's time."""
    barrier = threading.Barrier(len(jobs) + 1)
    latencies = [0.0] * len(jobs)
    statuses = [0] * len(jobs)

    def run(index: int, job) -> None:
        barrier.wait()
        started = time.perf_counter()
        try:
            statuses[index] = job()
        except OSError:
            statuses[index] = -1
        latencies[index] = time.perf_counter() - started

    threads = [threading.Thread(target=run, args=(n, job)) for n, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return Burst(latencies, statuses, time.perf_counter() - started)


def enrol_job(prepared: dict):
    def job() -> int:
        status, _ = prepared["browser"].open(
            "POST",
            prepared["path"],
            {"csrf_token": prepared["token"], "children": prepared["child_id"]},
        )
        return status

    return job


def healthz_job(port: int):
    def job() -> int:
        return request(port, "GET", "/healthz")[0]

    return job


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parents", type=int, default=200)
    parser.add_argument("--seats", type=int, default=12)
    parser.add_argument(
        "--groups", type=int, default=None, help="groups of --seats seats (default: N / 25)"
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://lms:lms@127.0.0.1/lms_enrolment_bench",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if urlsplit(args.database_url.replace("+psycopg", "")).scheme != "postgresql":
        raise SystemExit("the bench runs on PostgreSQL")
    groups = args.groups or max(1, args.parents // 25)

    instance = Path(tempfile.mkdtemp(prefix="lms-rush-"))
    print(f"Fresh database {make_url(args.database_url).database}; seeding the demo data, ")
    print(f"{args.parents} parents with a child each, {groups} groups of {args.seats} seats...")
    fresh_database(args.database_url)
    people = seed(
        args.database_url, instance, parents=args.parents, seats=args.seats, groups=groups
    )
    server = serve(
        args.database_url, instance, port=args.port, workers=args.workers, threads=args.threads
    )
    try:
        print(f"gunicorn: {args.workers} workers x {args.threads} thread(s) on :{args.port}")
        prepared = [None] * len(people)

        def log_in(index: int) -> None:
            prepared[index] = prepare(args.port, people[index])

        threads = [threading.Thread(target=log_in, args=(n,)) for n in range(len(people))]
        for n in range(0, len(threads), 20):  # twenty at a time
            for thread in threads[n : n + 20]:
                thread.start()
            for thread in threads[n : n + 20]:
                thread.join()
        print(f"{len(prepared)} parents logged in, each on the enrolment form of a group.")

        burst([healthz_job(args.port) for _ in range(20)])  # warm every worker up
        # /healthz just before and just after the rush, taken together: a machine whose speed
        # drifts during the run (a shared VM) moves the baseline with the rush it is beside.
        before = burst([healthz_job(args.port) for _ in people])
        rush = burst([enrol_job(p) for p in prepared])
        after = burst([healthz_job(args.port) for _ in people])
        trivial = Burst(
            before.latencies + after.latencies, before.statuses + after.statuses,
            before.wall + after.wall,
        )  # fmt: skip
    finally:
        stop(server)

    problems, rows = verify(args.database_url, instance)
    enrol, health = rush.figures(), trivial.figures()
    print()
    print(f"{'':<22}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for name, figures in (("POST enrol (N at once)", enrol), ("GET /healthz (2 x N)", health)):
        print(
            f"{name:<22}{figures['requests']:>9}{figures['throughput']:>9.1f}"
            f"{figures['p50']:>9.1f}{figures['p95']:>9.1f}{figures['p99']:>9.1f}"
        )
    print(
        f"{'ratio enrol/healthz':<22}{'':>9}{enrol['throughput'] / health['throughput']:>9.2f}"
        f"{enrol['p50'] / health['p50']:>9.2f}{enrol['p95'] / health['p95']:>9.2f}"
        f"{enrol['p99'] / health['p99']:>9.2f}"
    )
    throughput_ratio = enrol["throughput"] / health["throughput"]
    p95_ratio = enrol["p95"] / health["p95"]
    print()
    print("Targets (issue: opening day), same run, same machine:")
    checks = [
        (
            "throughput of POST enrol / /healthz",
            throughput_ratio,
            ">= 0.40",
            throughput_ratio >= 0.40,
        ),
        ("p95 of POST enrol / /healthz", p95_ratio, "<= 3.00", p95_ratio <= 3.0),
    ]
    for label, value, target, ok in checks:
        print(f"  {label:<40}{value:>7.2f}   target {target}   {'ok' if ok else 'MISSED'}")
    statuses = {}
    for status in rush.statuses:
        statuses[status] = statuses.get(status, 0) + 1
    print(f"\nEnrolment answers: {dict(sorted(statuses.items()))} (302 = enrolled or waiting)")
    overbooked = [row for row in rows if row[2] > row[1] or row[4] > row[1]]
    enrolled = sum(row[4] for row in rows)
    waiting = sum(row[3] for row in rows)
    print(f"Groups: {len(rows)}; enrolled {enrolled}, waiting {waiting}; overbooked: "
          f"{len(overbooked)}; consistency problems: {len(problems)}")  # fmt: skip
    for problem in problems:
        print("  ", problem)
    if not args.keep:
        drop_database(args.database_url)
    shutil.rmtree(instance, ignore_errors=True)
    print(f"  {'overbooked groups, errors':<40}{len(overbooked) + len(problems):>7}   target 0")
    if overbooked or problems or set(statuses) - {302, 303}:
        raise SystemExit(1)
    if not all(ok for *_, ok in checks):
        raise SystemExit(2)


if __name__ == "__main__":
    main()
