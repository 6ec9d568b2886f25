"""Benchmark: a large term (200 cohorts, 16 children each, 30 lessons each) in a temporary
SQLite database, then the roster page, the save of a full roster and the cohort grid through
the test client. Prints the median and the 95th percentile of each, in milliseconds.

    .venv/bin/python bench/attendance.py [--samples 60]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from lms import create_app
from lms.accounts.models import User
from lms.accounts.services import create_user
from lms.attendance.models import AttendanceChange, AttendanceMark
from lms.courses.models import Cohort, CohortInstructor, Course, Lesson, Room
from lms.enrolment.models import Enrolment
from lms.extensions import db
from lms.families.models import Child, ConsentRecord, Guardianship

COHORTS = 200
CHILDREN = 16
LESSONS = 30
HELD = 15  # lessons 1..15 are over and marked; 16 started an hour ago; the rest are to come
PASSWORD = "bench-password-2026"  # noqa: S105 - a throwaway account in a temporary database
STATUSES = ["present"] * 7 + ["late", "absent", "excused"]


def build(now: datetime) -> dict:
    """Bulk-insert the term; returns what the timings need."""
    coordinator = create_user(
        full_name="Bench Coordinator",
        email="bench@activelabs.ma",
        role="coordinator",
        password=PASSWORD,
    )
    instructors = [
        {
            "id": 1000 + i,
            "email": f"instructor{i}@activelabs.ma",
            "full_name": f"Instructor {i}",
            "role": "instructor",
            "locale": "fr",
        }
        for i in range(COHORTS // 4)
    ]
    parents = [
        {
            "id": 10_000 + i,
            "email": f"parent{i}@example.ma",
            "full_name": f"Parent {i}",
            "role": "parent",
            "locale": "fr",
        }
        for i in range(COHORTS * CHILDREN // 2)
    ]
    db.session.execute(insert(User), instructors + parents)
    db.session.execute(
        insert(Room), [{"id": 1, "site": "Technopark", "name": "Salle", "capacity": 40}]
    )
    db.session.execute(
        insert(Course),
        [
            {
                "id": 1,
                "title_fr": "Robotique LEGO",
                "summary_fr": "Robots.",
                "track": "robotics",
                "min_age": 7,
                "max_age": 14,
                "published": True,
            }
        ],
    )
    first_lesson = now - timedelta(weeks=HELD, hours=1)
    cohorts, staff, lessons, children, guardianships, consents, enrolments = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    marks, changes = [], []
    child_id = lesson_id = enrolment_id = mark_id = 0
    roster_lessons: list[tuple[int, list[int]]] = []
    for c in range(1, COHORTS + 1):
        cohorts.append(
            {
                "id": c,
                "course_id": 1,
                "room_id": 1,
                "capacity": CHILDREN,
                "seats_taken": CHILDREN,
                "status": "open",
                "start_date": first_lesson.date(),
                "end_date": (first_lesson + timedelta(weeks=LESSONS)).date(),
                "weekdays": str(first_lesson.weekday()),
                "start_time": first_lesson.time(),
                "duration_minutes": 90,
            }
        )
        staff.append({"cohort_id": c, "instructor_id": 1000 + (c - 1) // 4, "role": "lead"})
        ids = []
        for k in range(CHILDREN):
            child_id += 1
            ids.append(child_id)
            children.append(
                {
                    "id": child_id,
                    "first_name": f"Enfant{child_id}",
                    "last_name": "Test",
                    "first_name_ar": "ياسمين",
                    "date_of_birth": date(2016, 1, 1) + timedelta(days=child_id % 1000),
                    "allergies": "Arachides" if k == 0 else None,
                    "may_leave_alone": k % 4 == 0,
                }
            )
            guardianships.append({"user_id": 10_000 + (child_id - 1) // 2, "child_id": child_id})
            consents.append(
                {
                    "child_id": child_id,
                    "kind": "photo",
                    "granted": k % 3 != 0,
                    "notice_version": "1",
                }
            )
            enrolment_id += 1
            enrolments.append(
                {
                    "id": enrolment_id,
                    "child_id": child_id,
                    "cohort_id": c,
                    "status": "enrolled",
                    "enrolled_at": first_lesson - timedelta(days=10),
                    "created_at": first_lesson - timedelta(days=10),
                }
            )
        for n in range(1, LESSONS + 1):
            lesson_id += 1
            starts = first_lesson + timedelta(weeks=n - 1)
            lessons.append(
                {
                    "id": lesson_id,
                    "cohort_id": c,
                    "number": n,
                    "starts_at": starts,
                    "ends_at": starts + timedelta(minutes=90),
                }
            )
            if n == HELD + 1:
                roster_lessons.append((lesson_id, ids))
            if n > HELD:
                continue
            for i, cid in enumerate(ids):
                mark_id += 1
                status = STATUSES[(cid + n + i) % len(STATUSES)]
                at = starts + timedelta(minutes=10)
                marks.append(
                    {
                        "id": mark_id,
                        "lesson_id": lesson_id,
                        "child_id": cid,
                        "status": status,
                        "version": 1,
                        "marked_by_id": 1000 + (c - 1) // 4,
                        "marked_at": at,
                    }
                )
                changes.append(
                    {
                        "mark_id": mark_id,
                        "changed_by_id": 1000 + (c - 1) // 4,
                        "changed_at": at,
                        "after": status,
                        "version": 1,
                        "source": "roll_call",
                    }
                )
    for model, rows in (
        (Cohort, cohorts),
        (CohortInstructor, staff),
        (Lesson, lessons),
        (Child, children),
        (Guardianship, guardianships),
        (ConsentRecord, consents),
        (Enrolment, enrolments),
        (AttendanceMark, marks),
        (AttendanceChange, changes),
    ):
        db.session.execute(insert(model), rows)
    db.session.commit()
    return {"coordinator": coordinator.email, "rosters": roster_lessons, "marks": len(marks)}


def timed(samples: list[float], call) -> None:
    start = time.perf_counter()
    response = call()
    samples.append((time.perf_counter() - start) * 1000)
    assert response.status_code in (200, 302), response.status_code


def report(name: str, samples: list[float]) -> None:
    p95 = statistics.quantiles(samples, n=20)[-1]
    median = statistics.median(samples)
    print(f"{name:<28} median {median:7.1f} ms   p95 {p95:7.1f} ms   (n={len(samples)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "DATABASE_URL": f"sqlite:///{path}",
                "INSTANCE_PATH": str(Path(folder) / "instance"),
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
                "MAIL_BACKEND": "log",
                "MAIL_DELIVER_AFTER_COMMIT": False,
                "ARGON2_TIME_COST": 1,
                "ARGON2_MEMORY_COST_KIB": 1024,
                "LOG_LEVEL": "WARNING",
            }
        )
        now = datetime.now(UTC)
        started = time.perf_counter()
        with app.app_context():
            db.metadata.create_all(db.engine)
            term = build(now)
        print(
            f"term: {COHORTS} cohorts x {CHILDREN} children x {LESSONS} lessons, "
            f"{term['marks']} marks, built in {time.perf_counter() - started:.1f} s"
        )
        client = app.test_client()
        response = client.post("/login", data={"email": term["coordinator"], "password": PASSWORD})
        assert response.status_code == 302
        rosters = term["rosters"][: args.samples]
        roster, save, grid = [], [], []
        for lesson_id, _ in rosters[:3]:  # warm up
            client.get(f"/attendance/lessons/{lesson_id}")
        for index, (lesson_id, child_ids) in enumerate(rosters):
            timed(
                roster, lambda lesson_id=lesson_id: client.get(f"/attendance/lessons/{lesson_id}")
            )
            data = {"action": "save"}
            for i, child_id in enumerate(child_ids):
                data[f"status-{child_id}"] = STATUSES[(i + index) % len(STATUSES)]
                data[f"seen-{child_id}"] = "0:"
            timed(
                save,
                lambda lesson_id=lesson_id, data=data: client.post(
                    f"/attendance/lessons/{lesson_id}", data=data
                ),
            )
            cohort_id = 1 + (lesson_id - 1) // LESSONS
            timed(grid, lambda cohort_id=cohort_id: client.get(f"/attendance/cohorts/{cohort_id}"))
        report("roster page (GET)", roster)
        report("save a full roster (POST)", save)
        report("cohort grid (GET)", grid)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
