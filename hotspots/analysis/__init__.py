"""The analysis core: pure functions over plain arrays and DataFrames, no database.

A complaints frame has the columns of `COMPLAINT_COLUMNS`; `hotspots.adapters` reads one from the complaints app
and `hotspots.demo` makes a synthetic one.
"""

COMPLAINT_COLUMNS = (
    "ref",  # the complaint's id as text (external id or primary key)
    "lon",  # WGS-84
    "lat",
    "received_at",  # tz-aware
    "category_code",
    "category_name",
    "department_role",  # the catalogue's department role for the category, may be empty
    "street_code",  # from the verdict
    "street_name",
    "district_code",
    "status",
    "closed_at",  # NaT while open
    "building_code",  # the building that decided the verdict, empty when none
)


class InsufficientData(ValueError):
    """The data cannot support the analysis (too few incidents or cells, no variation); the message says why."""
