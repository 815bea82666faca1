"""Feed impression pages counted up to a mark (feed_impression_mark) instead of a flag on each
page: the ``counted`` column and its partial index go. The pages not counted yet are counted
here first, with no page written meanwhile, and the mark set past the last page, so every page
is counted exactly once across the upgrade. On SQLite the table is rebuilt with AUTOINCREMENT,
so that a page id is never used again. A server of the old code still running after it
can log pages (its insert names its columns) but no longer count them; one of the new code
counts them.

The counting SQL is written out here rather than imported: a migration must not change when
the app's code does.

Revision ID: 5b8e0c3d2a71
Revises: c7d2a9e4f1b3
Create Date: 2026-12-07 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b8e0c3d2a71'
down_revision = 'c7d2a9e4f1b3'
branch_labels = None
depends_on = None

_COUNT_POSTGRESQL = (
    "INSERT INTO note_impression_day (note_id, day, impressions) "
    "SELECT n.note_id, (p.at AT TIME ZONE 'UTC')::date, count(*) "
    "FROM feed_impression_page AS p "
    "CROSS JOIN LATERAL unnest(string_to_array(p.note_ids, ',')::int[]) AS n(note_id) "
    "WHERE NOT p.counted AND EXISTS (SELECT 1 FROM note WHERE note.id = n.note_id) "
    "GROUP BY 1, 2 "
    "ON CONFLICT (note_id, day) "
    "DO UPDATE SET impressions = note_impression_day.impressions + excluded.impressions")
_COUNT_SQLITE = (
    "WITH page AS MATERIALIZED ("
    "  SELECT note_ids, date(at) AS day FROM feed_impression_page WHERE NOT counted), "
    "tally AS ("
    "  SELECT CAST(j.value AS INTEGER) AS note_id, page.day AS day, count(*) AS n "
    "  FROM page, json_each('[' || page.note_ids || ']') AS j GROUP BY 1, 2) "
    "INSERT INTO note_impression_day (note_id, day, impressions) "
    "SELECT note_id, day, n FROM tally "
    "WHERE EXISTS (SELECT 1 FROM note WHERE note.id = tally.note_id) "
    "ON CONFLICT (note_id, day) "
    "DO UPDATE SET impressions = note_impression_day.impressions + excluded.impressions")


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        # Pages being written finish first and none is written until this commits (reads go
        # on): what is counted here and where the mark is set agree exactly. (SQLite: the
        # migration holds the one write lock.)
        op.execute("LOCK TABLE feed_impression_page IN EXCLUSIVE MODE")
    op.execute(_COUNT_POSTGRESQL if postgresql else _COUNT_SQLITE)
    op.create_table(
        'feed_impression_mark',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('counted_through', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_feed_impression_mark_one_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_impression_mark')),
    )
    op.execute("INSERT INTO feed_impression_mark (id, counted_through) "
               "SELECT 1, coalesce(max(id), 0) FROM feed_impression_page")
    op.drop_index('ix_feed_impression_page_uncounted', table_name='feed_impression_page')
    if postgresql:
        op.drop_column('feed_impression_page', 'counted')
    else:
        # Rebuilt with AUTOINCREMENT: counted in id order, ids must never be used again (plain
        # rowids start again from the highest left after the latest pages are deleted).
        with op.batch_alter_table('feed_impression_page', recreate='always',
                                  table_kwargs={'sqlite_autoincrement': True}) as batch:
            batch.drop_column('counted')


def downgrade():
    with op.batch_alter_table('feed_impression_page') as batch:
        batch.add_column(sa.Column('counted', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
    op.execute("UPDATE feed_impression_page SET counted = (id <= "
               "(SELECT counted_through FROM feed_impression_mark WHERE id = 1))")
    op.create_index('ix_feed_impression_page_uncounted', 'feed_impression_page', ['id'],
                    unique=False, sqlite_where=sa.text('NOT counted'),
                    postgresql_where=sa.text('NOT counted'))
    op.drop_table('feed_impression_mark')
