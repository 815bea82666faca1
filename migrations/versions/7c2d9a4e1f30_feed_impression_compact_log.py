"""Feed impressions, one row per served page (feed_impression): the page's request id, the
position of its first note and its notes in order. Moved into ``interaction`` (one row per
note) in batches by ``app.services.impressions.move``.

Revision ID: 7c2d9a4e1f30
Revises: 3f6c1e0b7a52
Create Date: 2026-12-05 14:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c2d9a4e1f30'
down_revision = '3f6c1e0b7a52'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'feed_impression',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.String(length=64), nullable=False),
        sa.Column('first_position', sa.Integer(), nullable=False),
        sa.Column('note_ids', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'],
                                name=op.f('fk_feed_impression_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_impression')),
    )
    op.create_index('ix_feed_impression_user_id_at', 'feed_impression', ['user_id', 'at'],
                    unique=False)


def downgrade():
    # Pages not moved yet would be lost with the table: move them first
    # (``flask feed impressions``).
    op.drop_index('ix_feed_impression_user_id_at', table_name='feed_impression')
    op.drop_table('feed_impression')
