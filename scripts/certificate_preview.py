"""Render sample certificates to test-artifacts/certificates/ as PDF and PNG, to look at.

Run: .venv/bin/python scripts/certificate_preview.py [dpi]   (PNGs need pdftoppm)
One certificate per layout: with an Arabic name, without one, with English, long texts.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from lms.certificates.rendering import render_certificate

OUTPUT = Path(__file__).resolve().parent.parent / "test-artifacts" / "certificates"
BASE = {
    "verification_url": "https://lms.activelabs.ma/verify/{code}",
    "child_name": "Yasmine El Amrani",
    "child_name_ar": "ياسمين العمراني",
    "course_title_fr": "Robotique LEGO — niveau 1",
    "course_title_ar": "روبوتيك ليغو — المستوى 1",
    "course_title_en": "LEGO Robotics — level 1",
    "track": "robotics",
    "lessons": 12,
    "hours": 24,
    "start_date": "2026-03-03",
    "end_date": "2026-05-26",
    "issue_date": "2026-05-30",
    "instructors": ["Karim Bennani", "Salma Idrissi"],
    "coordinator": "Nadia Tazi",
}
SAMPLES = {
    "arabic-name": {"code": "AL-7K3M-9QX2-HF43"},
    "no-arabic-name": {
        "code": "AL-Q4WD-2M8R-TN6K",
        "child_name": "Adam Benjelloun",
        "child_name_ar": None,
        "track": "coding",
        "course_title_fr": "Mes premiers jeux avec Scratch",
        "course_title_ar": "ألعابي الأولى مع سكراتش",
    },
    "english": {
        "code": "AL-3HXV-PK7C-W2E1",
        "child_name": "Lina Chraibi",
        "child_name_ar": "لينا الشرايبي",
        "languages": ("fr", "ar", "en"),
        "track": "3d_printing",
        "course_title_fr": "Impression 3D : de l’idée à l’objet",
        "course_title_ar": "الطباعة ثلاثية الأبعاد: من الفكرة إلى المجسم",
        "course_title_en": "3D printing: from idea to object",
        "lessons": 8,
        "hours": 16,
    },
    "long-texts": {
        "code": "AL-M9ZT-4BRD-E8KX",
        "languages": ("fr", "ar", "en"),
        "child_name": "Anne-Sophie Marie-Christine de La Tour d’Auvergne",
        "child_name_ar": "عبد الرحمن بن محمد الإدريسي الحسني",
        "course_title_fr": "Programmation de robots autonomes avec capteurs et intelligence "
        "artificielle embarquée",
        "course_title_ar": "برمجة الروبوتات المستقلة باستعمال أجهزة الاستشعار والذكاء "
        "الاصطناعي المدمج",
        "course_title_en": "Programming autonomous robots with sensors and embedded "
        "artificial intelligence",
        "instructors": ["Karim Bennani", "Salma Idrissi", "Youssef Alaoui"],
        "lessons": 1,
        "hours": 22.5,
        "start_date": "2025-12-01",
    },
}


def main() -> None:
    dpi = sys.argv[1] if len(sys.argv) > 1 else "60"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    pdftoppm = shutil.which("pdftoppm")
    for name, overrides in SAMPLES.items():
        data = {**BASE, **overrides}
        data["verification_url"] = data["verification_url"].format(code=data["code"])
        pdf = OUTPUT / f"{name}.pdf"
        pdf.write_bytes(render_certificate(data))
        if pdftoppm:
            command = [
                pdftoppm,
                "-png",
                "-r",
                dpi,
                "-singlefile",
                str(pdf),
                str(pdf.with_suffix("")),
            ]
            subprocess.run(command, check=True)  # noqa: S603 - fixed arguments
        print(pdf.with_suffix(".png" if pdftoppm else ".pdf"))


if __name__ == "__main__":
    main()
