"""The public catalogue while a coordinator reissues certificates, on SQLite.

A fresh SQLite database in a temporary folder gets the demo data. The catalogue page is timed
idle (the baseline), then again while another process reissues the finished group's
certificates one after the other (each one renders a PDF and holds SQLite's write lock until
its commit), and the two medians are printed with their ratio: a slower or busier machine
moves both together. Target (issue: bad input and faults): the catalogue stays under 2 x its
idle time. Exits with status 1 when it does not.

    .venv/bin/python bench/catalogue_busy.py              # 40 requests each way
    .venv/bin/python bench/catalogue_busy.py --requests 100
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 2.0

# The other process: reissue every valid certificate of the demo, again and again, each in
# its own transaction, until it is killed. Prints "ready" once it has started the first one.
WRITER = """
import sys
from sqlalchemy import select
from lms import create_app
from lms.accounts.models import User
from lms.certificates.models import Certificate, CertificateStatus
from lms.certificates.services import reissue_certificate
from lms.extensions import db

app = create_app(
    {"DATABASE_URL": sys.argv[1], "INSTANCE_PATH": sys.argv[2], "SECRET_KEY": "w",
     "LOG_LEVEL": "WARNING"}
)
with app.test_request_context("/", method="POST"):  # a coordinator's action
    boss = db.session.scalar(select(User).where(User.role == "coordinator"))
    done = 0
    while True:
        valid = db.session.scalars(
            select(Certificate).where(Certificate.status == CertificateStatus.VALID)
        ).all()
        for certificate in valid:
            reissue_certificate(certificate, actor=boss)
            db.session.commit()
            done += 1
            if done == 1:
                print("ready", flush=True)
"""


def settings(url: str, instance: Path) -> dict:
    return {"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench",
            "LOG_LEVEL": "WARNING"}  # fmt: skip


def superseded(app) -> int:
    """How many certificates the writer replaced while the catalogue was timed."""
    from sqlalchemy import func, select

    from lms.certificates.models import Certificate, CertificateStatus
    from lms.extensions import db

    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(Certificate)
            .where(Certificate.status == CertificateStatus.SUPERSEDED)
        )


def build(instance: Path) -> str:
    from flask_migrate import upgrade

    from lms import create_app
    from lms.demo import seed_demo
    from lms.extensions import db

    url = f"sqlite:///{instance / 'bench.sqlite3'}"
    app = create_app(settings(url, instance))
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
    return url


def timed(client, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get("/catalogue")
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"/catalogue answered {response.status_code}")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=40, help="catalogue requests each way")
    args = parser.parse_args()

    from lms import create_app

    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        print("Fresh SQLite database with the demo data...", flush=True)
        url = build(instance)
        app = create_app(settings(url, instance))
        client = app.test_client()
        timed(client, 5)  # warm: templates compiled, statements cached
        idle = timed(client, args.requests)

        writer = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", WRITER, url, str(instance)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            if writer.stdout.readline().strip() != "ready":
                raise SystemExit("the certificate writer did not start")
            busy = timed(client, args.requests)
        finally:
            writer.kill()
            writer.wait()
        reissued = superseded(app)

    idle_ms, busy_ms = statistics.median(idle) * 1000, statistics.median(busy) * 1000
    p95 = lambda xs: sorted(xs)[int(0.95 * (len(xs) - 1))] * 1000  # noqa: E731
    ratio = busy_ms / idle_ms
    print()
    print(f"{'':34}{'median ms':>10}{'p95 ms':>10}")
    print(f"{'/catalogue, idle (baseline)':34}{idle_ms:10.1f}{p95(idle):10.1f}")
    print(f"{'/catalogue, certificates reissued':34}{busy_ms:10.1f}{p95(busy):10.1f}")
    print(f"  certificates reissued meanwhile: {reissued}")
    print()
    verdict = "ok" if ratio <= TARGET else "MISSED"
    print(f"  busy / idle median   {ratio:5.2f}   target <= {TARGET:.2f}   {verdict}")
    if reissued == 0:
        print("  the writer reissued nothing: the figure measures no load")
        return 1
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
