"""Feed impression pages without a foreign key to their account: a trigger on ``user``
deletes an account's pages instead (as ``ON DELETE CASCADE`` did).

The page's impression row is the feed's one write, on every page. A foreign key checks the
account on each insert (PostgreSQL: a query of its own with a ``FOR KEY SHARE`` lock on the
account's row, which writes that row's lock to the WAL), 35-50 us of the database's CPU a
page, a sixth of it (BENCHMARKS.md, 2026-12-07, fifth part). The pages are a log: a page is
written only after its plan read found the account active (``app.services.feed``), and an
account's deletion is rare, so the delete carries the cost instead of every page. On SQLite, a
later batch migration that recreates ``user`` drops the trigger: create it again there
(tests/app/services/test_impressions.py fails if it goes missing).

On SQLite the table is rebuilt (keeping AUTOINCREMENT: page ids are never used again).

Revision ID: a3c5e7f9b1d2
Revises: 5b8e0c3d2a71
Create Date: 2026-12-07 13:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a3c5e7f9b1d2'
down_revision = '5b8e0c3d2a71'
branch_labels = None
depends_on = None

FK = 'fk_feed_impression_page_user_id_user'
TRIGGER = 'feed_impression_page_account_delete'
DELETE = "DELETE FROM feed_impression_page WHERE user_id = OLD.id"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(FK, 'feed_impression_page', type_='foreignkey')
        op.execute(f"CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN {DELETE}; RETURN NULL; END $$")
        op.execute(f'CREATE TRIGGER {TRIGGER} AFTER DELETE ON "user" FOR EACH ROW '
                   f"EXECUTE FUNCTION {TRIGGER}()")
    else:
        with op.batch_alter_table('feed_impression_page', recreate='always',
                                  table_kwargs={'sqlite_autoincrement': True}) as batch:
            batch.drop_constraint(FK, type_='foreignkey')
        op.execute(f'CREATE TRIGGER {TRIGGER} AFTER DELETE ON "user" FOR EACH ROW '
                   f"BEGIN {DELETE}; END")


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(f'DROP TRIGGER IF EXISTS {TRIGGER} ON "user"')
        op.execute(f"DROP FUNCTION IF EXISTS {TRIGGER}()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
    # Pages of accounts deleted meanwhile by hand (the trigger covers the rest) would fail
    # the key.
    op.execute('DELETE FROM feed_impression_page WHERE user_id NOT IN (SELECT id FROM "user")')
    if postgresql:
        op.create_foreign_key(FK, 'feed_impression_page', 'user', ['user_id'], ['id'],
                              ondelete='CASCADE')
    else:
        with op.batch_alter_table('feed_impression_page', recreate='always',
                                  table_kwargs={'sqlite_autoincrement': True}) as batch:
            batch.create_foreign_key(FK, 'user', ['user_id'], ['id'], ondelete='CASCADE')
