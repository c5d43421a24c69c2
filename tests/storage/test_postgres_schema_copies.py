"""The PostgreSQL schema a storage test gets (the migrations' statements replayed into a new
schema, see tests/support/databases.py) is the one the migrations build when they run: the
same tables, columns, defaults, constraints, indexes with their predicates, sequences in
their fresh state, and the same alembic_version row. Compared through pg_catalog."""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.storage.db import create_engine
from domain.storage.migrate import upgrade_to_head
from tests.support.databases import POSTGRES_URL, migrated_engine, postgres_schema

# Every object in the schema: one query per kind, rows naming their object. The search_path
# is the described schema alone, so whatever points outside it (a default's sequence, a
# foreign key's table) comes out qualified and differs.
CATALOG = {
    "relations": """
        SELECT c.relname, c.relkind::text, c.relpersistence::text, c.relrowsecurity, c.relhasrules,
               c.relhastriggers, c.relacl::text, c.reloptions::text, obj_description(c.oid)
        FROM pg_class c WHERE c.relnamespace = :ns""",
    "columns": """
        SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
               a.attnotnull, a.attidentity::text, a.attgenerated::text, a.atthasdef,
               pg_get_expr(d.adbin, d.adrelid), co.collname, a.attisdropped,
               col_description(c.oid, a.attnum)
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
        WHERE c.relnamespace = :ns AND a.attnum > 0""",
    "constraints": """
        SELECT c.relname, k.conname, k.contype::text, k.condeferrable, k.condeferred,
               k.convalidated, k.connoinherit, pg_get_constraintdef(k.oid, true),
               k.conindid::regclass::text
        FROM pg_constraint k LEFT JOIN pg_class c ON c.oid = k.conrelid
        WHERE k.connamespace = :ns""",
    "indexes": """
        SELECT x.indexrelid::regclass::text, x.indrelid::regclass::text, x.indisunique,
               x.indisprimary, x.indisexclusion, x.indimmediate, x.indisvalid, x.indisready,
               pg_get_indexdef(x.indexrelid)
        FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid WHERE c.relnamespace = :ns""",
    "sequences": """
        SELECT c.relname, s.seqtypid::regtype::text, s.seqstart, s.seqincrement, s.seqmax,
               s.seqmin, s.seqcache, s.seqcycle, pg_sequence_last_value(c.oid),
               (SELECT o.relname || '.' || a.attname || ':' || d.deptype::text
                FROM pg_depend d JOIN pg_class o ON o.oid = d.refobjid
                JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = :ns""",
    "types": """
        SELECT t.typname, t.typtype::text, t.typnotnull, format_type(t.typbasetype, t.typtypmod),
               (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                FROM pg_enum e WHERE e.enumtypid = t.oid)
        FROM pg_type t WHERE t.typnamespace = :ns""",
    "triggers": """
        SELECT c.relname, t.tgname, t.tgenabled::text, pg_get_triggerdef(t.oid, true)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = :ns AND NOT t.tgisinternal""",
    "rules and views": """
        SELECT r.rulename, c.relname, pg_get_ruledef(r.oid, true)
        FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class WHERE c.relnamespace = :ns""",
    "policies": """
        SELECT c.relname, p.polname, p.polcmd::text, p.polpermissive,
               pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
        FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = :ns""",
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
        FROM pg_proc p WHERE p.pronamespace = :ns AND p.prokind IN ('f', 'p')""",
    "other objects depending on the schema": """
        SELECT pg_describe_object(d.classid, d.objid, d.objsubid)
        FROM pg_depend d
        WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = :ns
          AND d.classid NOT IN ('pg_class'::regclass, 'pg_type'::regclass,
                                'pg_proc'::regclass)""",
}


async def describe(connection: AsyncConnection, schema: str) -> dict[str, list]:
    """Everything pg_catalog knows of ``schema``, with its name replaced by ``<schema>``,
    plus the rows of each of its tables."""
    await connection.execute(text(f'SET LOCAL search_path TO "{schema}"'))
    ns = await connection.scalar(
        text("SELECT oid FROM pg_namespace WHERE nspname = :n"), {"n": schema}
    )
    name = re.compile(rf'(?:"{re.escape(schema)}"|\b{re.escape(schema)}\b)')
    description: dict[str, list] = {}
    for kind, sql in CATALOG.items():
        rows = (await connection.execute(text(sql), {"ns": ns})).all()
        description[kind] = sorted(
            tuple(name.sub("<schema>", v) if isinstance(v, str) else v for v in row) for row in rows
        )
    tables = [row[0] for row in description["relations"] if row[1] in ("r", "p")]
    description["rows"] = [
        (table, sorted(map(tuple, (await connection.execute(text(f'TABLE "{table}"'))).all())))
        for table in sorted(tables)
    ]
    return description


async def describe_schema(schema: str) -> dict[str, list]:
    engine = create_engine(POSTGRES_URL)
    try:
        async with engine.begin() as connection:
            return await describe(connection, schema)
    finally:
        await engine.dispose()


async def migrated_for_real(schema: str) -> None:
    engine = create_engine(POSTGRES_URL, server_settings={"search_path": schema})
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


async def test_a_test_schema_is_what_the_migrations_build(tmp_path):
    async with postgres_schema(migrate=False) as migrated:
        await migrated_for_real(migrated)
        expected = await describe_schema(migrated)
    # the first schema of a test process is migrated for real, recording; later ones are
    # replays, built ahead in a thread
    for _ in range(3):
        async with migrated_engine("postgresql", tmp_path) as engine, engine.begin() as db:
            schema = await db.scalar(text("SELECT current_schema()"))
            assert await describe(db, schema) == expected
    async with postgres_schema() as replayed:  # replayed here
        assert await describe_schema(replayed) == expected

    # and the description sees what a copy could lose
    indexes = " ".join(row[-1] for row in expected["indexes"])
    assert "CREATE UNIQUE INDEX uq_bookings_active_client_session ON <schema>.bookings" in indexes
    assert "WHERE ((status)::text = 'active'::text)" in indexes
    constraints = " ".join(row[7] for row in expected["constraints"])
    assert "REFERENCES sessions(id) ON DELETE CASCADE" in constraints
    assert "CHECK (capacity > 0)" in constraints
    defaults = [row[8] for row in expected["columns"] if row[8]]
    assert "nextval('bookings_id_seq'::regclass)" in defaults
    sequences = {row[0]: row[1:] for row in expected["sequences"]}
    # integer, from 1 by 1, never drawn from (no last value), owned by its column
    assert sequences["bookings_id_seq"] == (
        "integer",
        1,
        1,
        2**31 - 1,
        1,
        1,
        False,
        None,
        "bookings.id:a",
    )
    rows = dict(expected["rows"])
    assert len(rows["alembic_version"]) == 1
    assert rows["bookings"] == []


async def test_the_description_tells_a_drifted_copy_apart():
    """Each drift is made in a transaction, described there and rolled back (DDL is
    transactional in PostgreSQL); drawing from a sequence is not, so it comes last."""
    drifts = [
        # a partial unique index that lost its predicate
        "DROP INDEX uq_bookings_active_client_session; CREATE UNIQUE INDEX "
        "uq_bookings_active_client_session ON bookings (session_id, client_id)",
        # a foreign key that no longer cascades
        "ALTER TABLE bookings DROP CONSTRAINT fk_bookings_session_id_sessions, "
        "ADD CONSTRAINT fk_bookings_session_id_sessions FOREIGN KEY (session_id) "
        "REFERENCES sessions (id)",
        # a check constraint gone
        "ALTER TABLE classes DROP CONSTRAINT ck_classes_capacity_positive",
        # a default drawing from another schema's sequence
        'CREATE SCHEMA "{schema}_other"; CREATE SEQUENCE "{schema}_other".s; '
        "ALTER TABLE bookings ALTER COLUMN id SET DEFAULT nextval('\"{schema}_other\".s')",
        # a server default gone
        "ALTER TABLE sessions ALTER COLUMN seats_taken DROP DEFAULT",
        # a row left behind
        "INSERT INTO clients (id, first_name, created_at) VALUES (1, 'Alice', now())",
        # a sequence that is not fresh (not undone by the rollback: last)
        "SELECT nextval('bookings_id_seq')",
    ]
    engine = create_engine(POSTGRES_URL)
    try:
        async with postgres_schema() as schema, engine.connect() as connection:
            async with connection.begin():
                expected = await describe(connection, schema)
            for drift in drifts:
                async with connection.begin() as transaction:
                    await connection.execute(text(f'SET LOCAL search_path TO "{schema}"'))
                    raw = (await connection.get_raw_connection()).driver_connection
                    await raw.execute(drift.format(schema=schema))
                    assert await describe(connection, schema) != expected, drift
                    await transaction.rollback()
            async with connection.begin():
                assert await describe(connection, schema) != expected  # the sequence drawn
    finally:
        await engine.dispose()
