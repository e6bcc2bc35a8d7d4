"""initial schema

Revision ID: be6175eb88ab
Revises:
Create Date: 2026-11-29 23:54:34.880685

"""
from alembic import op
import sqlalchemy as sa

import solidarity.fields


# revision identifiers, used by Alembic.
revision = 'be6175eb88ab'
down_revision = None
branch_labels = None
depends_on = None

# Two foreign keys close a cycle (organisations <-> users, incidents <-> play_versions), so they are
# added once both tables exist, and dropped before either goes. Batch mode makes this work on SQLite.
CYCLIC_FKS = (
    ("organisations", "fk_organisations_vetted_by_id_users", "users", "vetted_by_id"),
    ("incidents", "fk_incidents_play_version_id_play_versions", "play_versions", "play_version_id"),
)


def upgrade():
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(length=36), nullable=True),
    sa.Column('actor_label', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('target_type', sa.String(length=40), nullable=True),
    sa.Column('target_id', sa.String(length=36), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_target_id'), ['target_id'], unique=False)

    op.create_table('data_keys',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('master_kid', sa.String(length=40), nullable=True),
    sa.Column('wrapped', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('destroyed_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_keys'))
    )
    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_keys_master_kid'), ['master_kid'], unique=False)

    op.create_table('plays',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('threat_type', sa.String(length=30), nullable=False),
    sa.Column('created_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plays')),
    sa.UniqueConstraint('slug', name=op.f('uq_plays_slug'))
    )
    with op.batch_alter_table('plays', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plays_threat_type'), ['threat_type'], unique=False)

    op.create_table('organisations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('region', sa.String(length=3), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('vetting_status', sa.Enum('applied', 'vetted', 'suspended', name='vetting', native_enum=False, length=20), nullable=False),
    sa.Column('vetted_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('vetted_by_id', sa.Uuid(), nullable=True),
    sa.Column('consent_share_contacts', sa.Boolean(), nullable=False),
    sa.Column('sms_pin_hash', sa.String(length=200), nullable=True),
    sa.Column('data_key_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_keys.id'], name=op.f('fk_organisations_data_key_id_data_keys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations'))
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisations_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisations_region'), ['region'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisations_vetting_status'), ['vetting_status'], unique=False)

    op.create_table('directory_flags',
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('flagged_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_directory_flags_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'reason', name=op.f('pk_directory_flags'))
    )
    op.create_table('offers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('help_type', sa.String(length=40), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('notes_ct', sa.LargeBinary(), nullable=True),
    sa.Column('confirmed_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_offers_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers'))
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offers_help_type'), ['help_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_offers_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=True),
    sa.Column('role', sa.Enum('coordinator', 'org_admin', 'member', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email_ct', sa.LargeBinary(), nullable=False),
    sa.Column('email_index', sa.String(length=64), nullable=False),
    sa.Column('phone_ct', sa.LargeBinary(), nullable=True),
    sa.Column('phone_index', sa.String(length=64), nullable=True),
    sa.Column('preferred_language', sa.String(length=2), nullable=False),
    sa.Column('notify_sms', sa.Boolean(), nullable=False),
    sa.Column('notify_email', sa.Boolean(), nullable=False),
    sa.Column('sms_opted_out_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_keys.id'], name=op.f('fk_users_data_key_id_data_keys')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_users_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email_index', name=op.f('uq_users_email_index'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_phone_index'), ['phone_index'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('ref', sa.String(length=8), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('reported_by_id', sa.Uuid(), nullable=True),
    sa.Column('contact_user_id', sa.Uuid(), nullable=True),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('threat_type', sa.String(length=30), nullable=False),
    sa.Column('severity', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('region', sa.String(length=3), nullable=False),
    sa.Column('occurred_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.Enum('open', 'responding', 'resolved', 'closed', 'withdrawn', name='status', native_enum=False, length=20), nullable=False),
    sa.Column('disclosure', sa.JSON(), nullable=False),
    sa.Column('summary_ct', sa.LargeBinary(), nullable=True),
    sa.Column('details_ct', sa.LargeBinary(), nullable=True),
    sa.Column('play_version_id', sa.Uuid(), nullable=True),
    sa.Column('data_key_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('erased_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contact_user_id'], ['users.id'], name=op.f('fk_incidents_contact_user_id_users')),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_keys.id'], name=op.f('fk_incidents_data_key_id_data_keys')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_incidents_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_incidents_reported_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('ref', name=op.f('uq_incidents_ref'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_incidents_status_severity', ['status', 'severity'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_threat_type'), ['threat_type'], unique=False)

    op.create_table('offer_areas',
    sa.Column('offer_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('code', sa.String(length=5), nullable=False),
    sa.Column('help_type', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_offer_areas_offer_id_offers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('offer_id', 'kind', 'code', name=op.f('pk_offer_areas'))
    )
    with op.batch_alter_table('offer_areas', schema=None) as batch_op:
        batch_op.create_index('ix_offer_areas_lookup', ['help_type', 'kind', 'code', 'offer_id'], unique=False)

    op.create_table('offer_languages',
    sa.Column('offer_id', sa.Uuid(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_offer_languages_offer_id_offers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('offer_id', 'language', name=op.f('pk_offer_languages'))
    )
    op.create_table('offer_reminders',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('offer_id', sa.Uuid(), nullable=False),
    sa.Column('confirmed_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_offer_reminders_offer_id_offers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_reminders')),
    sa.UniqueConstraint('offer_id', 'confirmed_at', name=op.f('uq_offer_reminders_offer_id'))
    )
    with op.batch_alter_table('offer_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_reminders_offer_id'), ['offer_id'], unique=False)

    op.create_table('play_versions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('play_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'in_review', 'published', 'retired', name='versionstatus', native_enum=False, length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('help_types', sa.JSON(), nullable=False),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('updated_by_id', sa.Uuid(), nullable=True),
    sa.Column('reviewed_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('retired_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_play_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['play_id'], ['plays.id'], name=op.f('fk_play_versions_play_id_plays'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_play_versions_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_play_versions_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_play_versions')),
    sa.UniqueConstraint('play_id', 'number', name=op.f('uq_play_versions_play_id'))
    )
    with op.batch_alter_table('play_versions', schema=None) as batch_op:
        batch_op.create_index('ix_play_versions_status_play', ['status', 'play_id'], unique=False)

    op.create_table('sign_in_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sign_in_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_sessions'))
    )
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('vouches',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('applicant_id', sa.Uuid(), nullable=False),
    sa.Column('voucher_id', sa.Uuid(), nullable=False),
    sa.Column('by_user_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['applicant_id'], ['organisations.id'], name=op.f('fk_vouches_applicant_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['by_user_id'], ['users.id'], name=op.f('fk_vouches_by_user_id_users')),
    sa.ForeignKeyConstraint(['voucher_id'], ['organisations.id'], name=op.f('fk_vouches_voucher_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vouches')),
    sa.UniqueConstraint('applicant_id', 'voucher_id', name=op.f('uq_vouches_applicant_id'))
    )
    with op.batch_alter_table('vouches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vouches_applicant_id'), ['applicant_id'], unique=False)

    op.create_table('checkins',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('ref', sa.String(length=8), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('incident_id', sa.Uuid(), nullable=True),
    sa.Column('interval_hours', sa.Integer(), nullable=False),
    sa.Column('grace_minutes', sa.Integer(), nullable=False),
    sa.Column('responder_org_ids', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('active', 'missed', 'stopped', name='checkinstate', native_enum=False, length=20), nullable=False),
    sa.Column('next_due_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_step_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_confirmed_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('missed_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_checkins_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_checkins_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_checkins_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkins'))
    )
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkins_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkins_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_checkins_ref', ['ref', 'state'], unique=False)
        batch_op.create_index('ix_checkins_step', ['state', 'next_step_at'], unique=False)

    op.create_table('incident_needs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('incident_id', sa.Uuid(), nullable=False),
    sa.Column('help_type', sa.String(length=40), nullable=False),
    sa.Column('state', sa.Enum('seeking', 'covered', 'exhausted', name='needstate', native_enum=False, length=20), nullable=False),
    sa.Column('wave', sa.Integer(), nullable=False),
    sa.Column('next_wave_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_needs_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_needs')),
    sa.UniqueConstraint('incident_id', 'help_type', name=op.f('uq_incident_needs_incident_id'))
    )
    with op.batch_alter_table('incident_needs', schema=None) as batch_op:
        batch_op.create_index('ix_incident_needs_due', ['state', 'next_wave_at'], unique=False)

    op.create_table('incident_timeline',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('incident_id', sa.Uuid(), nullable=False),
    sa.Column('at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('actor_label', sa.String(length=80), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('note_ct', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_timeline_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_timeline'))
    )
    with op.batch_alter_table('incident_timeline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_timeline_incident_id'), ['incident_id'], unique=False)

    op.create_table('matches',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('incident_id', sa.Uuid(), nullable=False),
    sa.Column('help_type', sa.String(length=40), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('offer_id', sa.Uuid(), nullable=True),
    sa.Column('wave', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'notified', 'accepted', 'declined', 'expired', 'completed', name='matchstatus', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Uuid(), nullable=True),
    sa.Column('completed_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_matches_answered_by_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_matches_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_matches_offer_id_offers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_matches_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matches')),
    sa.UniqueConstraint('incident_id', 'help_type', 'organisation_id', name=op.f('uq_matches_incident_id'))
    )
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matches_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index('ix_matches_org_status', ['organisation_id', 'status'], unique=False)

    op.create_table('play_steps',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('actor', sa.Enum('affected', 'responders', 'coordinators', name='actor', native_enum=False, length=20), nullable=False),
    sa.Column('help_type', sa.String(length=40), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['play_versions.id'], name=op.f('fk_play_steps_version_id_play_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_play_steps')),
    sa.UniqueConstraint('version_id', 'position', name=op.f('uq_play_steps_version_id'))
    )
    op.create_table('checklist_progress',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('incident_id', sa.Uuid(), nullable=False),
    sa.Column('step_id', sa.Uuid(), nullable=False),
    sa.Column('done_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_by_id', sa.Uuid(), nullable=True),
    sa.Column('changed_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_by_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_checklist_progress_changed_by_id_users')),
    sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_checklist_progress_done_by_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_checklist_progress_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['step_id'], ['play_steps.id'], name=op.f('fk_checklist_progress_step_id_play_steps')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_progress')),
    sa.UniqueConstraint('incident_id', 'step_id', name=op.f('uq_checklist_progress_incident_id'))
    )
    with op.batch_alter_table('checklist_progress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checklist_progress_incident_id'), ['incident_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.Enum('sms', 'email', name='channel', native_enum=False, length=20), nullable=False),
    sa.Column('template', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('incident_id', sa.Uuid(), nullable=True),
    sa.Column('match_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.Enum('queued', 'sending', 'sent', 'delivered', 'failed', name='delivery', native_enum=False, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_until', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('provider_id', sa.String(length=64), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('failure', sa.Enum('permanent', 'retries_spent', 'ambiguous', 'undelivered', 'opted_out', 'no_address', 'inactive', name='failure', native_enum=False, length=20), nullable=True),
    sa.Column('claimed_by', sa.String(length=40), nullable=True),
    sa.Column('fallback_of_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', solidarity.fields.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', solidarity.fields.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['fallback_of_id'], ['notifications.id'], name=op.f('fk_notifications_fallback_of_id_notifications')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_notifications_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['match_id'], ['matches.id'], name=op.f('fk_notifications_match_id_matches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_fallback_of_id'), ['fallback_of_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index('ix_notifications_lease', ['status', 'lease_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_user_id'), ['user_id'], unique=False)

    for table, name, referent, column in CYCLIC_FKS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_foreign_key(name, referent, [column], ["id"])


def downgrade():
    for table, name, _, _ in CYCLIC_FKS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(name, type_="foreignkey")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_user_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_provider_id'))
        batch_op.drop_index('ix_notifications_lease')
        batch_op.drop_index(batch_op.f('ix_notifications_incident_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_fallback_of_id'))
        batch_op.drop_index('ix_notifications_due')

    op.drop_table('notifications')
    with op.batch_alter_table('checklist_progress', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checklist_progress_incident_id'))

    op.drop_table('checklist_progress')
    op.drop_table('play_steps')
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.drop_index('ix_matches_org_status')
        batch_op.drop_index(batch_op.f('ix_matches_incident_id'))

    op.drop_table('matches')
    with op.batch_alter_table('incident_timeline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_timeline_incident_id'))

    op.drop_table('incident_timeline')
    with op.batch_alter_table('incident_needs', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_needs_due')

    op.drop_table('incident_needs')
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_checkins_step')
        batch_op.drop_index('ix_checkins_ref')
        batch_op.drop_index(batch_op.f('ix_checkins_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_checkins_incident_id'))

    op.drop_table('checkins')
    with op.batch_alter_table('vouches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vouches_applicant_id'))

    op.drop_table('vouches')
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_sessions_user_id'))

    op.drop_table('sign_in_sessions')
    with op.batch_alter_table('play_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_play_versions_status_play')

    op.drop_table('play_versions')
    with op.batch_alter_table('offer_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_reminders_offer_id'))

    op.drop_table('offer_reminders')
    op.drop_table('offer_languages')
    with op.batch_alter_table('offer_areas', schema=None) as batch_op:
        batch_op.drop_index('ix_offer_areas_lookup')

    op.drop_table('offer_areas')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_threat_type'))
        batch_op.drop_index('ix_incidents_status_severity')
        batch_op.drop_index(batch_op.f('ix_incidents_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_incidents_created_at'))

    op.drop_table('incidents')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_phone_index'))
        batch_op.drop_index(batch_op.f('ix_users_organisation_id'))

    op.drop_table('users')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offers_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_offers_help_type'))

    op.drop_table('offers')
    op.drop_table('directory_flags')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisations_vetting_status'))
        batch_op.drop_index(batch_op.f('ix_organisations_region'))
        batch_op.drop_index(batch_op.f('ix_organisations_country'))

    op.drop_table('organisations')
    with op.batch_alter_table('plays', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plays_threat_type'))

    op.drop_table('plays')
    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_keys_master_kid'))

    op.drop_table('data_keys')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_target_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
