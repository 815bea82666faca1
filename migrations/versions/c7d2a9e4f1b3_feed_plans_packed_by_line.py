"""Feed plans stored as lines (feed_plan.items: JSON -> TEXT): the note ids and where each item
starts on the first line, then one JSON array per item, so a feed page parses only the items
it serves (``app.models.feed.PlanItems``). Existing plans are converted, not dropped: after a deploy
nobody's next page has to be planned again on the request.

Revision ID: c7d2a9e4f1b3
Revises: 8d41b7e2c9a5
Create Date: 2026-12-06 20:10:00.000000

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7d2a9e4f1b3'
down_revision = '8d41b7e2c9a5'
branch_labels = None
depends_on = None

_plans = sa.table('feed_plan', sa.column('user_id', sa.Integer()),
                  sa.column('items', sa.Text()))


def _rewrite(convert):
    bind = op.get_bind()
    rows = bind.execute(sa.select(_plans.c.user_id, _plans.c['items'])).all()
    for user_id, value in rows:
        bind.execute(_plans.update().where(_plans.c.user_id == user_id)
                     .values(items=convert(value)))


def _pack(value):
    if value.startswith('{'):     # packed already (one JSON array of items starts with '[')
        return value
    items = json.loads(value)
    lines = [json.dumps(item, separators=(',', ':'), ensure_ascii=False) for item in items]
    at = [0]
    for line in lines:
        at.append(at[-1] + len(line) + 1)
    head = json.dumps({'ids': [item[0] for item in items], 'at': at}, separators=(',', ':'))
    return '\n'.join([head] + lines)


def _unpack(value):
    if not value.startswith('{'):     # one JSON array of items already
        return value
    return json.dumps([json.loads(line) for line in value.split('\n')[1:]],
                      ensure_ascii=False)


def upgrade():
    with op.batch_alter_table('feed_plan') as batch:
        batch.alter_column('items', existing_type=sa.JSON(), type_=sa.Text(),
                           existing_nullable=False, postgresql_using='items::text')
    _rewrite(_pack)


def downgrade():
    _rewrite(_unpack)
    with op.batch_alter_table('feed_plan') as batch:
        batch.alter_column('items', existing_type=sa.Text(), type_=sa.JSON(),
                           existing_nullable=False, postgresql_using='items::json')
