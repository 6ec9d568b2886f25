"""The layers of the code, read from the imports of every module under lms/ (parsed, not run).

Lower domains never import higher ones (accounts <- families <- courses <- enrolment <-
attendance <- certificates; messaging, reports, dashboard, demo and the CLI sit above them all);
the infrastructure that every domain writes to (notifications, audit) imports no domain; and no
page module imports another domain's pages (it imports that domain's loaders instead).
Imports inside functions and under ``TYPE_CHECKING`` count: they are dependencies all the same.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

LMS = Path(__file__).resolve().parent.parent / "lms"

ORDERED_DOMAINS = ("accounts", "families", "courses", "enrolment", "attendance", "certificates")
ABOVE = ("messaging", "reports", "dashboard", "demo", "cli")
DOMAINS = ORDERED_DOMAINS + ABOVE
INFRASTRUCTURE = ("notifications", "audit")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "lms.courses.views"
    target: str  # what it imports, e.g. "lms.accounts.models"
    where: str  # file and line, for the message

    def __str__(self) -> str:
        return f"{self.where}: {self.module} imports {self.target}"


def module_name(path: Path) -> str:
    parts = path.relative_to(LMS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = LMS.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(path: Path) -> list[Import]:
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        where = f"{path.relative_to(LMS.parent)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, where) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:
                # "from lms.courses import views" imports the module lms.courses.views.
                submodule = f"{source}.{alias.name}"
                found.append(Import(module, submodule if is_module(submodule) else source, where))
    return [found_import for found_import in found if found_import.target.startswith("lms")]


ALL_IMPORTS = [found for path in sorted(LMS.rglob("*.py")) for found in imports_of(path)]


def package_of(name: str) -> str | None:
    """The top-level package of lms a module belongs to ("lms.courses.views" -> "courses")."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def rank(package: str | None) -> int | None:
    if package in ORDERED_DOMAINS:
        return ORDERED_DOMAINS.index(package)
    if package in ABOVE:
        return len(ORDERED_DOMAINS)
    return None


def test_the_scan_sees_the_imports():
    # A guard on the scan itself: known imports of each kind are found.
    targets = {(found.module, found.target) for found in ALL_IMPORTS}
    assert ("lms.courses.models", "lms.accounts.models") in targets
    assert ("lms", "lms.courses.views") in targets  # "from lms.courses import views as ..."
    assert ("lms.certificates.services", "lms.certificates.eligibility") in targets  # lazy


def test_a_lower_domain_never_imports_a_higher_one():
    wrong = [
        str(found)
        for found in ALL_IMPORTS
        if package_of(found.module) in ORDERED_DOMAINS
        and rank(package_of(found.target)) is not None
        and rank(package_of(found.target)) > rank(package_of(found.module))
    ]
    assert wrong == []


@pytest.mark.parametrize("infrastructure", INFRASTRUCTURE)
def test_infrastructure_imports_no_domain(infrastructure):
    wrong = [
        str(found)
        for found in ALL_IMPORTS
        if package_of(found.module) == infrastructure and package_of(found.target) in DOMAINS
    ]
    assert wrong == []


def test_no_page_module_imports_another_domains_pages():
    wrong = [
        str(found)
        for found in ALL_IMPORTS
        if found.module.endswith(".views")
        and found.target.endswith(".views")
        and package_of(found.target) != package_of(found.module)
    ]
    assert wrong == []
