"""ingest records, access, ledger and outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-22 22:45:37.103722
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('batches',
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('request_id', sa.String(length=128), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True, comment='request_id when committed; NULL for refused atomic batches (the id stays usable)'),
    sa.Column('kind', sa.SmallInteger(), nullable=False, comment='chiso.ingest.v1.RecordKind'),
    sa.Column('request_sha256', sa.String(length=64), nullable=False),
    sa.Column('atomic', sa.Boolean(), nullable=False),
    sa.Column('received_at', sa.BigInteger(), nullable=False),
    sa.Column('committed_at', sa.BigInteger(), nullable=True),
    sa.Column('record_count', sa.Integer(), nullable=False),
    sa.Column('accepted_count', sa.Integer(), nullable=False),
    sa.Column('stale_count', sa.Integer(), nullable=False),
    sa.Column('rejected_count', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False, comment="'committed' or 'refused'"),
    sa.Column('response', sa.LargeBinary(), nullable=False, comment='the outcome as first answered (JSON, UTF-8)'),
    sa.PrimaryKeyConstraint('batch_id', name=op.f('pk_batches')),
    sa.UniqueConstraint('source_id', 'idempotency_key', name=op.f('uq_batches_source_id_idempotency_key'))
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index('ix_batches_source_request', ['source_id', 'request_id'], unique=False)

    op.create_table('change_notices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('month_from', sa.Integer(), nullable=False, comment='first yyyymm affected'),
    sa.Column('month_to', sa.Integer(), nullable=False, comment='last yyyymm affected; 999912 = open-ended'),
    sa.Column('kind', sa.SmallInteger(), nullable=False, comment='chiso.ingest.v1.RecordKind that changed'),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_notices'))
    )
    op.create_table('dossiers',
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('procedure_code', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.SmallInteger(), nullable=False),
    sa.Column('received_at', sa.BigInteger(), nullable=False),
    sa.Column('received_month', sa.Integer(), nullable=False, comment='yyyymm, Asia/Ho_Chi_Minh'),
    sa.Column('due_at', sa.BigInteger(), nullable=True),
    sa.Column('started_at', sa.BigInteger(), nullable=True),
    sa.Column('end_at', sa.BigInteger(), nullable=True),
    sa.Column('end_month', sa.Integer(), nullable=True, comment='yyyymm of end_at, Asia/Ho_Chi_Minh'),
    sa.Column('end_state', sa.SmallInteger(), nullable=False),
    sa.Column('processing_state', sa.SmallInteger(), nullable=False),
    sa.Column('supplement_count', sa.Integer(), nullable=False),
    sa.Column('last_supplement_at', sa.BigInteger(), nullable=True),
    sa.Column('applicant_supplement_seconds', sa.BigInteger(), nullable=False),
    sa.Column('fee_amount', sa.BigInteger(), nullable=False),
    sa.Column('payment_channel', sa.SmallInteger(), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=False),
    sa.Column('flags', sa.Integer(), nullable=False, comment='services.shared.records.DossierFlag bits'),
    sa.Column('source_time', sa.BigInteger(), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('code', 'source_id', name=op.f('pk_dossiers'))
    )
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.create_index('ix_dossiers_unit_received', ['unit_code', 'received_month'], unique=False)

    op.create_table('petitions',
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('category', sa.SmallInteger(), nullable=False),
    sa.Column('received_at', sa.BigInteger(), nullable=False),
    sa.Column('received_month', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.BigInteger(), nullable=True),
    sa.Column('resolved_at', sa.BigInteger(), nullable=True),
    sa.Column('refused_at', sa.BigInteger(), nullable=True),
    sa.Column('first_supplement_at', sa.BigInteger(), nullable=True),
    sa.Column('ready_for_publication_at', sa.BigInteger(), nullable=True),
    sa.Column('published_at', sa.BigInteger(), nullable=True),
    sa.Column('last_transfer_at', sa.BigInteger(), nullable=True),
    sa.Column('transfer_count', sa.Integer(), nullable=False),
    sa.Column('likes', sa.Integer(), nullable=False),
    sa.Column('dislikes', sa.Integer(), nullable=False),
    sa.Column('repeat_complaint', sa.Boolean(), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=False),
    sa.Column('source_time', sa.BigInteger(), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('code', 'source_id', name=op.f('pk_petitions'))
    )
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.create_index('ix_petitions_unit_received', ['unit_code', 'received_month'], unique=False)

    op.create_table('principals',
    sa.Column('id', sa.String(length=64), nullable=False, comment='source system id or operator id'),
    sa.Column('kind', sa.String(length=16), nullable=False, comment="'source' or 'operator'"),
    sa.Column('display_name', sa.Text(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_principals'))
    )
    op.create_table('procedures',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('field', sa.Text(), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('issues_result_document', sa.Boolean(), nullable=False),
    sa.Column('statutory_days', sa.Integer(), nullable=False),
    sa.Column('applicants_are_individuals', sa.Boolean(), nullable=False),
    sa.Column('source_time', sa.BigInteger(), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_procedures'))
    )
    op.create_table('publications',
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('procedure_code', sa.String(length=32), nullable=False),
    sa.Column('decision_number', sa.String(length=64), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=False),
    sa.Column('legal_effective_date', sa.Date(), nullable=True),
    sa.Column('listed_at', sa.BigInteger(), nullable=True),
    sa.Column('parts', sa.Integer(), nullable=False, comment='bit i set = chiso.ingest.v1.ProcedurePart i'),
    sa.Column('decision_month', sa.Integer(), nullable=False, comment='yyyymm of decision_date'),
    sa.Column('source_time', sa.BigInteger(), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('unit_code', 'procedure_code', 'decision_number', name=op.f('pk_publications'))
    )
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.create_index('ix_publications_unit_month', ['unit_code', 'decision_month'], unique=False)

    op.create_table('reported_totals',
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('dossiers_received', sa.BigInteger(), nullable=False),
    sa.Column('source_time', sa.BigInteger(), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('unit_code', 'year', 'month', name=op.f('pk_reported_totals'))
    )
    op.create_table('unit_procedures',
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('procedure_code', sa.String(length=32), nullable=False),
    sa.Column('online_level', sa.SmallInteger(), nullable=False),
    sa.Column('online_service_status', sa.SmallInteger(), nullable=False),
    sa.Column('has_fee', sa.Boolean(), nullable=False),
    sa.Column('payment_integrated', sa.Boolean(), nullable=False),
    sa.Column('population_data_eligible', sa.Boolean(), nullable=False),
    sa.Column('population_data_connected', sa.Boolean(), nullable=False),
    sa.Column('certified_copy', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('source_time', sa.BigInteger(), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('unit_code', 'procedure_code', name=op.f('pk_unit_procedures'))
    )
    op.create_table('units',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.SmallInteger(), nullable=False, comment='chiso.types.v1.UnitKind'),
    sa.Column('parent_code', sa.String(length=64), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('merged_into_code', sa.String(length=64), nullable=True),
    sa.Column('merged_on', sa.Date(), nullable=True),
    sa.Column('source_time', sa.BigInteger(), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_units'))
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index('ix_units_kind', ['kind'], unique=False)
        batch_op.create_index('ix_units_parent', ['parent_code'], unique=False)

    op.create_table('grants',
    sa.Column('principal_id', sa.String(length=64), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False, comment="root of a granted subtree; '*' = all"),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['principal_id'], ['principals.id'], name=op.f('fk_grants_principal_id_principals')),
    sa.PrimaryKeyConstraint('principal_id', 'unit_code', name=op.f('pk_grants'))
    )
    op.create_table('tokens',
    sa.Column('token_id', sa.String(length=32), nullable=False, comment='public part of the token'),
    sa.Column('principal_id', sa.String(length=64), nullable=False),
    sa.Column('secret_sha256', sa.String(length=64), nullable=False, comment='hex SHA-256 of the secret part'),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('revoked_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['principal_id'], ['principals.id'], name=op.f('fk_tokens_principal_id_principals')),
    sa.PrimaryKeyConstraint('token_id', name=op.f('pk_tokens'))
    )
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.create_index('ix_tokens_principal', ['principal_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_tokens_principal')

    op.drop_table('tokens')
    op.drop_table('grants')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index('ix_units_parent')
        batch_op.drop_index('ix_units_kind')

    op.drop_table('units')
    op.drop_table('unit_procedures')
    op.drop_table('reported_totals')
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_index('ix_publications_unit_month')

    op.drop_table('publications')
    op.drop_table('procedures')
    op.drop_table('principals')
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_index('ix_petitions_unit_received')

    op.drop_table('petitions')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index('ix_dossiers_unit_received')

    op.drop_table('dossiers')
    op.drop_table('change_notices')
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index('ix_batches_source_request')

    op.drop_table('batches')

