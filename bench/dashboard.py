"""Benchmark: the coordinators' dashboard on the large term of bench/attendance.py (200
cohorts, 16 children each, 30 lessons each, 15 held and marked), in a temporary SQLite
database, through the test client. Prints the median and the 95th percentile in milliseconds,
and the number of SQL statements of one page.

    .venv/bin/python bench/dashboard.py [--samples 30]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

import attendance as attendance_bench

from lms import create_app
from lms.courses.models import Cohort
from lms.courses.terms import term_of
from lms.extensions import db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite3'}",
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
        started = time.perf_counter()
        with app.app_context():
            db.metadata.create_all(db.engine)
            term = attendance_bench.build(datetime.now(UTC))
            first = db.session.scalar(select(Cohort.start_date).limit(1))
            key = term_of(first).key
            engine = db.engine
        print(
            f"term {key}: {attendance_bench.COHORTS} cohorts x {attendance_bench.CHILDREN} "
            f"children x {attendance_bench.LESSONS} lessons, {term['marks']} marks, "
            f"built in {time.perf_counter() - started:.1f} s"
        )
        client = app.test_client()
        response = client.post(
            "/login", data={"email": term["coordinator"], "password": attendance_bench.PASSWORD}
        )
        assert response.status_code == 302
        path = f"/coordinator/reports/?term={key}"
        for _ in range(3):  # warm up
            assert client.get(path).status_code == 200
        statements = 0

        def count(*_args) -> None:
            nonlocal statements
            statements += 1

        event.listen(engine, "before_cursor_execute", count)
        client.get(path)
        event.remove(engine, "before_cursor_execute", count)
        samples: list[float] = []
        for _ in range(args.samples):
            attendance_bench.timed(samples, lambda: client.get(path))
        attendance_bench.report("dashboard (GET)", samples)
        at_risk: list[float] = []
        for _ in range(max(args.samples // 3, 5)):
            attendance_bench.timed(
                at_risk, lambda: client.get(f"/coordinator/reports/at-risk?term={key}")
            )
        attendance_bench.report("at-risk list (GET)", at_risk)
        print(f"SQL statements for one dashboard page: {statements}")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
