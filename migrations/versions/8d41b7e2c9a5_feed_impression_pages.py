"""Feed impressions as one row per served page (feed_impression_page) and their daily counts
per note (note_impression_day), rolled up by ``app.services.impressions.count``.

Feed impressions written before this migration stay in ``interaction``, where readers still
count them (impressions sent by the apps keep going there).

Revision ID: 8d41b7e2c9a5
Revises: 3f6c1e0b7a52
Create Date: 2026-12-05 19:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d41b7e2c9a5'
down_revision = '3f6c1e0b7a52'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'feed_impression_page',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.String(length=64), nullable=False),
        sa.Column('first_position', sa.Integer(), nullable=False),
        sa.Column('note_ids', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('counted', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'],
                                name=op.f('fk_feed_impression_page_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_impression_page')),
    )
    op.create_index('ix_feed_impression_page_user_id_at', 'feed_impression_page',
                    ['user_id', 'at'], unique=False)
    op.create_index('ix_feed_impression_page_uncounted', 'feed_impression_page', ['id'],
                    unique=False, sqlite_where=sa.text('NOT counted'),
                    postgresql_where=sa.text('NOT counted'))
    op.create_table(
        'note_impression_day',
        sa.Column('note_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('impressions', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['note_id'], ['note.id'],
                                name=op.f('fk_note_impression_day_note_id_note'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('note_id', 'day', name=op.f('pk_note_impression_day')),
    )


def downgrade():
    op.drop_table('note_impression_day')
    op.drop_index('ix_feed_impression_page_uncounted', table_name='feed_impression_page')
    op.drop_index('ix_feed_impression_page_user_id_at', table_name='feed_impression_page')
    op.drop_table('feed_impression_page')
