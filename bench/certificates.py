"""Certificate rendering speed and memory. Run: .venv/bin/python bench/certificates.py

Prints, measured in the same process and run:
  (a) a bare one-page WeasyPrint document, for scale;
  (b) 30 certificates laid out in one pass, written as 30 PDFs to a temporary folder with
      their SHA-256 (what issuing a cohort does) -- target < 1.5 s;
  (c) one certificate on demand -- target < 400 ms (median and p95);
  (d) resident memory over 500 renders in one process -- should stay flat;
  (e) the whole service on a temporary SQLite database: `issue_to_all_eligible` for a finished
      cohort of 30 children (eligibility from attendance, codes, one-pass rendering, files,
      SHA-256, audit entries, e-mails to parents) and the commit -- target < 1.5 s.
Not a test: figures depend on the machine. `--quick` runs fewer repetitions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from weasyprint import HTML

from lms.certificates.codes import new_code
from lms.certificates.rendering import render_certificate, render_certificate_files

FIRST_NAMES = [
    ("Yasmine", "ياسمين"), ("Adam", "آدم"), ("Lina", "لينا"), ("Omar", "عمر"),
    ("Salma", "سلمى"), ("Youssef", "يوسف"), ("Nour", "نور"), ("Ilyas", "إلياس"),
    ("Zoé", None), ("Hamza", "حمزة"), ("Aya", "آية"), ("Mehdi", "مهدي"),
    ("Inès", None), ("Rayan", "ريان"), ("Malak", "ملاك"),
]  # fmt: skip
LAST_NAMES = [
    ("El Amrani", "العمراني"), ("Benjelloun", "بنجلون"), ("Tazi", "التازي"),
    ("Chraibi", "الشرايبي"), ("Alaoui", "العلوي"), ("Idrissi", "الإدريسي"),
]  # fmt: skip


def cohort(size: int = 30) -> list[dict]:
    """A cohort of varied children, about two thirds with an Arabic name."""
    certificates = []
    for index in range(size):
        first, first_ar = FIRST_NAMES[index % len(FIRST_NAMES)]
        last, last_ar = LAST_NAMES[index % len(LAST_NAMES)]
        code = new_code()
        certificates.append(
            {
                "code": code,
                "verification_url": f"https://lms.activelabs.ma/verify/{code}",
                "child_name": f"{first} {last}",
                "child_name_ar": f"{first_ar} {last_ar}" if first_ar else None,
                "course_title_fr": "Robotique LEGO — niveau 1",
                "course_title_ar": "روبوتيك ليغو — المستوى 1",
                "track": "robotics",
                "lessons": 12,
                "hours": 24,
                "start_date": dt.date(2026, 3, 3),
                "end_date": dt.date(2026, 5, 26),
                "issue_date": dt.date(2026, 5, 30),
                "instructors": ["Karim Bennani", "Salma Idrissi"],
                "coordinator": "Nadia Tazi",
                "languages": ("fr", "ar", "en") if index % 5 == 0 else ("fr", "ar"),
            }
        )
    return certificates


def rss_mib() -> float:
    """Current resident set size of this process (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.0f} ms"


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def issue_cohort(certificates: list[dict], folder: Path, processes: int | None) -> None:
    """What bulk issuing does with the PDFs: one file per child, with its SHA-256."""
    files = render_certificate_files(certificates, processes=processes)
    for data, pdf in zip(certificates, files, strict=True):
        (folder / f"{data['code']}.pdf").write_bytes(pdf)
        hashlib.sha256(pdf).hexdigest()


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bulk(certificates: list[dict], processes: int | None, runs: int) -> tuple[list, list]:
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(runs):
            cpu = cpu_seconds()
            walls.append(timed(issue_cohort, certificates, Path(folder), processes))
            cpus.append(cpu_seconds() - cpu)
        assert len(list(Path(folder).glob("*.pdf"))) == len(certificates)
    return walls, cpus


def main() -> None:
    quick = "--quick" in sys.argv
    runs = 5 if quick else 20
    renders = (50, 100) if quick else (100, 500)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"Certificate rendering on {os.cpu_count()} CPUs, Python {sys.version.split()[0]},"
        f" load average {load} (other work on the machine slows every figure)"
    )
    rss_start = rss_mib()

    one = cohort(1)[0]
    cold = timed(render_certificate, one)
    print(f"first certificate in this process (parses CSS, loads fonts): {ms(cold)}")

    bare = [timed(lambda: HTML(string="<p>Hello</p>").write_pdf()) for _ in range(runs)]
    print(f"(a) bare one-page WeasyPrint document      median {ms(statistics.median(bare))}")

    certificates = cohort(30)
    for label, processes in (("1 process  ", 1), ("2 processes", 2)):
        walls, cpus = bulk(certificates, processes, max(3, runs // 4))
        target = "ok" if statistics.median(walls) < 1.5 else "MISSED"
        print(
            f"(b) 30 certificates stored, {label}     median {ms(statistics.median(walls))}"
            f"   best {ms(min(walls))}   CPU {ms(statistics.median(cpus))}"
            f"   target < 1500 ms: {target}"
        )
    separate = timed(lambda: [render_certificate(data) for data in certificates])
    print(f"    for comparison, 30 separate documents        {ms(separate)}")

    single = [timed(render_certificate, cohort(1)[0]) for _ in range(runs)]
    target = "ok" if p95(single) < 0.4 else "MISSED"
    print(
        f"(c) one certificate on demand               median {ms(statistics.median(single))}"
        f"   p95 {ms(p95(single))}   target < 400 ms: {target}"
    )

    print(f"(d) resident memory: at start {rss_start:.0f} MiB", end="", flush=True)
    done = 0
    for checkpoint in renders:
        while done < checkpoint:
            render_certificate(cohort(1)[0])
            done += 1
        print(f", after {checkpoint} renders {rss_mib():.0f} MiB", end="", flush=True)
    print()


def issue_through_the_service(size: int = 30) -> tuple[float, int]:
    """(seconds, certificates) for issue_to_all_eligible on a fresh temporary database."""
    from datetime import UTC, date, datetime
    from datetime import time as clock_time

    from lms import create_app
    from lms.accounts.models import Role
    from lms.accounts.services import create_user
    from lms.attendance.models import AttendanceMark
    from lms.certificates.services import issue_to_all_eligible
    from lms.courses.catalogue import CourseDetails, create_course
    from lms.courses.cohorts import CohortPlan, create_cohort
    from lms.courses.scheduling import create_room
    from lms.enrolment.models import Enrolment
    from lms.extensions import db
    from lms.families.children import add_child
    from lms.families.contacts import Person

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "INSTANCE_PATH": folder,
                "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
                "MAIL_DELIVER_AFTER_COMMIT": False,
                "ARGON2_TIME_COST": 1,
                "ARGON2_MEMORY_COST_KIB": 1024,
            }
        )
        with app.app_context():
            import lms.models  # noqa: F401

            db.create_all()
            boss = create_user(full_name="Nadia Tazi", email="c@x.ma", role=Role.COORDINATOR)
            lead = create_user(full_name="Karim Bennani", email="i@x.ma", role=Role.INSTRUCTOR)
            room = create_room(actor=boss, name="Atelier", capacity=size)
            course = create_course(
                CourseDetails(
                    title_fr="Robotique LEGO — niveau 1",
                    title_ar="روبوتيك ليغو — المستوى 1",
                    summary_fr="Robots.",
                    track="robotics",
                    level="beginner",
                    min_age=7,
                    max_age=14,
                    published=True,
                ),
                actor=boss,
            )
            cohort_ = create_cohort(
                CohortPlan(
                    course=course,
                    room=room,
                    lead=lead,
                    capacity=size,
                    start_date=date(2026, 3, 3),
                    end_date=date(2026, 5, 26),
                    weekdays=[1],
                    start_time=clock_time(14, 30),
                ),
                actor=boss,
                status="open",
                allow_past=True,
            )
            joined = datetime(2026, 2, 20, tzinfo=UTC)
            for index, data in enumerate(cohort(size)):
                parent = create_user(
                    full_name=f"Parent {index}", email=f"p{index}@x.ma", role=Role.PARENT
                )
                first, last = data["child_name"].split(" ", 1)
                first_ar, _, last_ar = (data["child_name_ar"] or "").partition(" ")
                child = add_child(
                    parent,
                    first_name=first,
                    last_name=last,
                    first_name_ar=first_ar or None,
                    last_name_ar=last_ar or None,
                    date_of_birth=date(2016, 1, 1 + index % 28),
                    emergency_contact=Person("Contact", "Oncle", "0661234567"),
                )
                db.session.add(
                    Enrolment(child=child, cohort=cohort_, status="enrolled", enrolled_at=joined)
                )
                for lesson in cohort_.lessons:
                    db.session.add(
                        AttendanceMark(lesson_id=lesson.id, child_id=child.id, status="present")
                    )
            db.session.commit()
            started = time.perf_counter()
            issued = issue_to_all_eligible(cohort_, actor=boss)
            db.session.commit()
            seconds = time.perf_counter() - started
            db.session.remove()
            db.engine.dispose()
        return seconds, len(issued)


if __name__ == "__main__":
    main()
    seconds, count = issue_through_the_service()
    target = "ok" if seconds < 1.5 else "MISSED"
    print(
        f"(e) issue_to_all_eligible + commit, {count} children, SQLite   {ms(seconds)}"
        f"   target < 1500 ms: {target}"
    )
