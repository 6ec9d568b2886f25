"""Migrations: an empty database upgrades to head, matches the models, and downgrades."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, Table, create_engine, inspect, text

from lms.extensions import db
from tests.conftest import with_search_path

SCHEMA = f"migration_check_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


@pytest.fixture
def empty_database_url(database_url, is_postgres, tmp_path):
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL schema."""
    if not is_postgres:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    yield with_search_path(database_url, SCHEMA)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    engine.dispose()


@pytest.mark.committed
def test_upgrade_from_empty_then_no_drift_then_downgrade(make_app, empty_database_url):
    app = make_app(DATABASE_URL=empty_database_url)
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {table.name for table in db.metadata.sorted_tables} <= tables
        # `flask db check`: autogenerate finds nothing to do.
        config = app.extensions["migrate"].migrate.get_config()
        command.check(config)
        head = ScriptDirectory.from_config(config).get_current_head()
        with db.engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert version.scalar() == head
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        db.session.remove()


def test_single_head(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1


BEFORE_CONTACT_PEOPLE = "96e681f117be"


@pytest.mark.committed
def test_people_on_file_keep_every_row_and_check_outs_their_pickup_person(
    make_app, empty_database_url
):
    """Emergency contacts and pickup people move to one table (and back) without losing a row,
    and a check-out still names the pickup person who collected the child."""
    app = make_app(DATABASE_URL=empty_database_url)
    with app.app_context():
        upgrade(revision=BEFORE_CONTACT_PEOPLE)
        at = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
        person = {"relationship_to_child": "Tante", "phone": "+212661234567", "created_at": at}
        with db.engine.begin() as connection:

            def insert(table_name: str, /, **values) -> int:
                table = Table(table_name, MetaData(), autoload_with=connection)
                return connection.execute(
                    table.insert().values(**values).returning(table.c.id)
                ).scalar_one()

            stamps = {"created_at": at, "updated_at": at}
            child = insert(
                "children",
                first_name="Zoubida",
                last_name="Tahiri",
                date_of_birth=date(2017, 5, 4),
                may_leave_alone=False,
                **stamps,
            )
            insert("emergency_contacts", child_id=child, name="Fatiha", **person)
            insert("emergency_contacts", child_id=child, name="Ali", **person)
            pickup = insert("authorised_pickups", child_id=child, name="Latifa", **person)
            course = insert(
                "courses",
                title_fr="Robotique",
                summary_fr="",
                track="robotics",
                level="beginner",
                min_age=7,
                max_age=12,
                price_centimes=0,
                attendance_threshold=80,
                requires_final_project=False,
                published=True,
                **stamps,
            )
            room = insert("rooms", site="Technopark", name="Lab 1", capacity=12, created_at=at)
            cohort = insert(
                "cohorts",
                course_id=course,
                room_id=room,
                capacity=10,
                seats_taken=0,
                waitlist_count=0,
                language="fr",
                status="open",
                start_date=date(2026, 11, 2),
                end_date=date(2026, 12, 21),
                weekdays="2",
                start_time=time(15, 0),
                duration_minutes=90,
                **stamps,
            )
            lesson = insert(
                "lessons",
                cohort_id=cohort,
                number=1,
                starts_at=at,
                ends_at=at + timedelta(hours=1),
                status="scheduled",
                is_makeup=False,
                revision=1,
                **stamps,
            )
            insert(
                "checkouts",
                lesson_id=lesson,
                child_id=child,
                collector_kind="pickup",
                pickup_id=pickup,
                collector_name="Latifa",
                collected_at=at,
                recorded_at=at,
            )

        def rows(sql: str) -> list[tuple]:
            with db.engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(sql))]

        upgrade()
        people = rows(
            "SELECT id, kind, child_id, name, relationship_to_child, phone FROM contact_people "
            "ORDER BY id"
        )
        assert [(kind, name) for _, kind, _, name, _, _ in people] == [
            ("pickup", "Latifa"),
            ("emergency", "Fatiha"),
            ("emergency", "Ali"),
        ]
        assert {row[2:] for row in people} == {
            (child, name, "Tante", "+212661234567") for name in ("Latifa", "Fatiha", "Ali")
        }
        [(pickup_id, name)] = rows(
            "SELECT checkouts.pickup_id, contact_people.name FROM checkouts "
            "JOIN contact_people ON contact_people.id = checkouts.pickup_id"
        )
        assert (pickup_id, name) == (pickup, "Latifa")
        # New rows get new ids after the copied ones (PostgreSQL's sequence follows them).
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO contact_people (child_id, kind, name, relationship_to_child, "
                    "phone, created_at) VALUES (:child, 'pickup', 'Brahim', 'Voisin', "
                    "'+212661234599', :at)"
                ),
                {"child": child, "at": at},
            )
        assert rows("SELECT MAX(id) FROM contact_people") == [(people[-1][0] + 1,)]

        downgrade(revision=BEFORE_CONTACT_PEOPLE)
        assert rows("SELECT name FROM emergency_contacts ORDER BY id") == [("Fatiha",), ("Ali",)]
        assert rows("SELECT id, name FROM authorised_pickups ORDER BY id") == [
            (pickup, "Latifa"),
            (people[-1][0] + 1, "Brahim"),
        ]
        assert rows("SELECT pickup_id FROM checkouts") == [(pickup,)]
        upgrade()
        assert len(rows("SELECT id FROM contact_people")) == 4
        db.session.remove()


BEFORE_BOOKS = "d9d817d5f1a5"


@pytest.mark.committed
def test_receipts_already_issued_keep_their_numbers_and_the_counters_go_on_after_them(
    make_app, empty_database_url
):
    app = make_app(DATABASE_URL=empty_database_url)
    with app.app_context():
        upgrade(revision=BEFORE_BOOKS)
        at = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
        stamps = {"created_at": at, "updated_at": at}
        with db.engine.begin() as connection:

            def insert(table_name: str, /, **values) -> int:
                table = Table(table_name, MetaData(), autoload_with=connection)
                return connection.execute(
                    table.insert().values(**values).returning(table.c.id)
                ).scalar_one()

            child = insert(
                "children", first_name="Zoubida", last_name="Tahiri",
                date_of_birth=date(2017, 5, 4), may_leave_alone=False, **stamps,
            )  # fmt: skip
            course = insert(
                "courses", title_fr="Robotique", summary_fr="", track="robotics",
                level="beginner", min_age=7, max_age=12, price_centimes=0,
                attendance_threshold=80, requires_final_project=False, published=True, **stamps,
            )  # fmt: skip
            room = insert("rooms", site="Technopark", name="Lab 1", capacity=12, created_at=at)
            cohort = insert(
                "cohorts", course_id=course, room_id=room, capacity=10, seats_taken=1,
                waitlist_count=0, language="fr", status="open", start_date=date(2026, 11, 2),
                end_date=date(2026, 12, 21), weekdays="2", start_time=time(15, 0),
                duration_minutes=90, **stamps,
            )  # fmt: skip
            enrolment = insert(
                "enrolments", child_id=child, cohort_id=cohort, status="enrolled",
                created_at=at, enrolled_at=at, fee_centimes=80000, discount_centimes=0,
                waiver_centimes=0,
            )  # fmt: skip
            for number, paid_on in [
                ("AL-2025-000007", date(2025, 12, 30)),
                ("AL-2026-000123", date(2026, 11, 20)),
                ("AL-2026-000045", date(2026, 11, 20)),
            ]:
                insert(
                    "payments", enrolment_id=enrolment, amount_centimes=100, method="cash",
                    paid_on=paid_on, receipt_number=number, recorded_at=at,
                )  # fmt: skip
        upgrade()
        with db.engine.connect() as connection:
            counters = connection.execute(
                text("SELECT kind, year, next_value FROM document_counters ORDER BY year")
            ).all()
            numbers = connection.execute(
                text("SELECT receipt_number FROM payments ORDER BY id")
            ).scalars()
            assert list(numbers) == ["AL-2025-000007", "AL-2026-000123", "AL-2026-000045"]
        assert [tuple(row) for row in counters] == [("receipt", 2025, 8), ("receipt", 2026, 124)]
        downgrade(revision="base")
        db.session.remove()
