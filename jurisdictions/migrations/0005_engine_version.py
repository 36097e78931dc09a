"""The engine version: one number that moves on every change to what the jurisdiction engine reads.

Server processes keep the engine's indexes in memory and compare this number on each lookup; a statement-level
trigger on generations, areas, pieces, buildings, shares and rules takes a fresh value from a sequence (never
reused, even when a transaction rolls back), so a process rebuilds exactly when something it reads has changed.
"""

from django.db import migrations

TABLES = [
    "jurisdictions_generation",
    "jurisdictions_area",
    "jurisdictions_areapiece",
    "jurisdictions_building",
    "jurisdictions_buildingshare",
    "jurisdictions_rule",
]

FORWARD = """
CREATE SEQUENCE jurisdictions_engine_version_seq;
CREATE TABLE jurisdictions_engine_version (id smallint PRIMARY KEY CHECK (id = 1), version bigint NOT NULL);
INSERT INTO jurisdictions_engine_version VALUES (1, nextval('jurisdictions_engine_version_seq'));
CREATE FUNCTION jurisdictions_engine_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE jurisdictions_engine_version SET version = nextval('jurisdictions_engine_version_seq') WHERE id = 1;
    RETURN NULL;
END $$;
""" + "".join(
    f"""
CREATE TRIGGER {table}_engine_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION jurisdictions_engine_bump();
"""
    for table in TABLES
)

BACKWARD = "".join(f"DROP TRIGGER IF EXISTS {table}_engine_bump ON {table};\n" for table in TABLES) + """
DROP FUNCTION IF EXISTS jurisdictions_engine_bump();
DROP TABLE IF EXISTS jurisdictions_engine_version;
DROP SEQUENCE IF EXISTS jurisdictions_engine_version_seq;
"""


class Migration(migrations.Migration):
    dependencies = [("jurisdictions", "0004_staff_disputes_audit")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
