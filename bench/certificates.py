"""Certificate rendering speed and memory. Run: .venv/bin/python bench/certificates.py

Prints, measured in the same process and run:
  (a) a bare one-page WeasyPrint document, for scale;
  (b) 30 certificates laid out in one pass, written as 30 PDFs to a temporary folder with
      their SHA-256 (what issuing a cohort does) -- target < 1.5 s;
  (c) one certificate on demand -- target < 400 ms (median and p95);
  (d) resident memory over 500 renders in one process -- should stay flat.
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


if __name__ == "__main__":
    main()
