"""published lesson cards: every version kept, with who published or withdrew it and when

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 00:45:00

"""
import json
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _docs(card: dict) -> str:
    return json.dumps(sorted({d for kp in card.get("key_points", []) for d in kp.get("sources", [])}))


def upgrade() -> None:
    """Upgrade schema: 0002's one-row-per-card table becomes versioned; each card kept is version 1."""
    conn = op.get_bind()
    old = sa.table('published_cards', sa.column('card_id', sa.Text), sa.column('data', sa.Text),
                   sa.column('published_by', sa.Text), sa.column('published_at', sa.Float))
    rows = [dict(r._mapping) for r in conn.execute(sa.select(old))]
    op.drop_table('published_cards')
    new = op.create_table('published_cards',
    sa.Column('card_id', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('card', sa.Text(), nullable=False),
    sa.Column('timeline', sa.Text(), nullable=False),
    sa.Column('doc_ids', sa.Text(), nullable=False),
    sa.Column('published_by', sa.Text(), nullable=False),
    sa.Column('published_at', sa.Float(), nullable=False),
    sa.Column('unpublished_by', sa.Text(), nullable=True),
    sa.Column('unpublished_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('card_id', 'version')
    )
    with op.batch_alter_table('published_cards', schema=None) as batch_op:
        batch_op.create_index('published_cards_live', ['unpublished_at'], unique=False)
    if rows:
        op.bulk_insert(new, [{"card_id": r["card_id"], "version": 1, "card": r["data"], "timeline": "[]",
                              "doc_ids": _docs(json.loads(r["data"])), "published_by": r["published_by"],
                              "published_at": r["published_at"]} for r in rows])


def downgrade() -> None:
    """Downgrade schema: back to one row per live card (the history is lost)."""
    conn = op.get_bind()
    cur = sa.table('published_cards', sa.column('card_id', sa.Text), sa.column('card', sa.Text),
                   sa.column('published_by', sa.Text), sa.column('published_at', sa.Float),
                   sa.column('unpublished_at', sa.Float))
    rows = [dict(r._mapping) for r in conn.execute(sa.select(cur).where(cur.c.unpublished_at.is_(None)))]
    with op.batch_alter_table('published_cards', schema=None) as batch_op:
        batch_op.drop_index('published_cards_live')
    op.drop_table('published_cards')
    old = op.create_table('published_cards',
    sa.Column('card_id', sa.Text(), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('published_by', sa.Text(), nullable=False),
    sa.Column('published_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('card_id')
    )
    if rows:
        op.bulk_insert(old, [{"card_id": r["card_id"], "data": r["card"], "published_by": r["published_by"],
                              "published_at": r["published_at"], "updated_at": r["published_at"]} for r in rows])
