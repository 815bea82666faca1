"""Feed epoch (feed_epoch): a counter the database moves on whenever a feed card may have to
change or leave feeds, kept by triggers on note, product, note_product and note_image.

Serving processes cache cards and read them again only when the counter moved (see
``app.models.feed.FeedEpoch``). On SQLite, a later batch migration that recreates one of these
tables drops its triggers: create them again there (``_sqlite_triggers``);
tests/app/api/test_feed_cards.py fails if a trigger goes missing.

Revision ID: 3f6c1e0b7a52
Revises: e590f8a8f768
Create Date: 2026-12-05 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f6c1e0b7a52'
down_revision = 'e590f8a8f768'
branch_labels = None
depends_on = None

BUMP = "UPDATE feed_epoch SET value = value + 1 WHERE id = 1"

# (trigger name, timing and table, row condition or None)
NOTE_CHANGED = ("OLD.deleted_at IS DISTINCT FROM NEW.deleted_at OR OLD.hidden_at IS DISTINCT "
                "FROM NEW.hidden_at OR OLD.visibility IS DISTINCT FROM NEW.visibility OR "
                "OLD.title IS DISTINCT FROM NEW.title")
SELLABLE_CHANGED = ("(OLD.stock > 0) IS DISTINCT FROM (NEW.stock > 0) OR "
                    "OLD.status IS DISTINCT FROM NEW.status")
TRIGGERS = [
    ("feed_epoch_note_update", "UPDATE OF deleted_at, hidden_at, visibility, title ON note",
     NOTE_CHANGED),
    ("feed_epoch_note_delete", "DELETE ON note", None),
    ("feed_epoch_product_update", "UPDATE OF stock, status ON product", SELLABLE_CHANGED),
    ("feed_epoch_note_product_insert", "INSERT ON note_product", None),
    ("feed_epoch_note_product_delete", "DELETE ON note_product", None),
    ("feed_epoch_note_image_update", "UPDATE ON note_image", None),
    ("feed_epoch_note_image_delete", "DELETE ON note_image", None),
]


def _sqlite_triggers():
    for name, event, condition in TRIGGERS:
        when = f" WHEN {condition.replace('IS DISTINCT FROM', 'IS NOT')}" if condition else ""
        op.execute(f"CREATE TRIGGER {name} AFTER {event} FOR EACH ROW{when} "
                   f"BEGIN {BUMP}; END")


def _postgresql_triggers():
    op.execute("CREATE FUNCTION feed_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS "
               f"$$ BEGIN {BUMP}; RETURN NULL; END $$")
    for name, event, condition in TRIGGERS:
        when = f" WHEN ({condition})" if condition else ""
        op.execute(f"CREATE TRIGGER {name} AFTER {event} FOR EACH ROW{when} "
                   "EXECUTE FUNCTION feed_epoch_bump()")


def upgrade():
    op.create_table('feed_epoch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_feed_epoch_one_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_epoch'))
    )
    op.execute("INSERT INTO feed_epoch (id, value) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def downgrade():
    for name, event, _condition in TRIGGERS:
        table = event.split(" ON ")[-1]
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS feed_epoch_bump()")
    op.drop_table('feed_epoch')
