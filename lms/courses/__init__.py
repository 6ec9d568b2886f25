"""Courses, rooms, closures, cohorts and lessons: the catalogue and the timetable."""
