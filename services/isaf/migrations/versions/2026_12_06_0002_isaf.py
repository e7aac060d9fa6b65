"""The I-SAF tables: facilities, cycles and their stages, CAFs and trainings, activities,
scorecards with participants, indicators and votes, JAAPs and actions, public-forum items, the
budget read model and the log of reads of CAFs' phone numbers.

Written as the SQL the models compile to (frozen here: later model changes get their own
revision), with the code lists as CHECK constraints and the jurisdiction prefix indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES_SQL = """
CREATE TABLE budget_allocation (
	run_id UUID NOT NULL,
	admin_code TEXT NOT NULL,
	fiscal_year SMALLINT NOT NULL,
	line_code TEXT NOT NULL,
	amount_riel BIGINT NOT NULL,
	CONSTRAINT pk_budget_allocation PRIMARY KEY (run_id, admin_code)
);

CREATE TABLE budget_expenditure (
	expenditure_id UUID NOT NULL,
	admin_code TEXT NOT NULL,
	fiscal_year SMALLINT NOT NULL,
	line_code TEXT NOT NULL,
	amount_riel BIGINT NOT NULL,
	spent_on DATE NOT NULL,
	CONSTRAINT pk_budget_expenditure PRIMARY KEY (expenditure_id)
);

CREATE TABLE budget_release (
	release_id UUID NOT NULL,
	admin_code TEXT NOT NULL,
	fiscal_year SMALLINT NOT NULL,
	line_code TEXT NOT NULL,
	amount_riel BIGINT NOT NULL,
	released_on DATE NOT NULL,
	CONSTRAINT pk_budget_release PRIMARY KEY (release_id)
);

CREATE TABLE caf (
	version INTEGER NOT NULL DEFAULT 1,
	id UUID NOT NULL,
	location_code TEXT NOT NULL,
	name TEXT NOT NULL,
	sex TEXT NOT NULL,
	birth_year SMALLINT,
	phone TEXT,
	local_ngo TEXT,
	active BOOLEAN NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT pk_caf PRIMARY KEY (id)
);

CREATE TABLE cycle (
	version INTEGER NOT NULL DEFAULT 1,
	id UUID NOT NULL,
	location_code TEXT NOT NULL,
	year SMALLINT NOT NULL,
	stage TEXT NOT NULL,
	stage_changed_at TIMESTAMP WITH TIME ZONE NOT NULL,
	created_by TEXT NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT pk_cycle PRIMARY KEY (id),
	CONSTRAINT uq_cycle_location_code UNIQUE (location_code, year)
);

CREATE TABLE facility (
	version INTEGER NOT NULL DEFAULT 1,
	id UUID NOT NULL,
	location_code TEXT NOT NULL,
	village_code TEXT,
	facility_type TEXT NOT NULL,
	name_km TEXT NOT NULL,
	name_en TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT pk_facility PRIMARY KEY (id)
);

CREATE TABLE personal_data_access (
	id BIGSERIAL NOT NULL,
	actor_sub TEXT NOT NULL,
	actor_name TEXT NOT NULL,
	actor_tier TEXT,
	actor_admin_code TEXT NOT NULL,
	entity TEXT NOT NULL,
	entity_id UUID NOT NULL,
	household_id UUID,
	sensitive_fields BOOLEAN NOT NULL,
	purpose TEXT NOT NULL,
	request_id TEXT,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT pk_personal_data_access PRIMARY KEY (id)
);

CREATE TABLE training (
	id UUID NOT NULL,
	location_code TEXT NOT NULL,
	audience TEXT NOT NULL,
	topics TEXT[] NOT NULL,
	starts_on DATE NOT NULL,
	ends_on DATE NOT NULL,
	venue TEXT NOT NULL,
	attendees_total INTEGER NOT NULL,
	attendees_female INTEGER NOT NULL,
	attendees_male INTEGER NOT NULL,
	recorded_by TEXT NOT NULL,
	recorded_at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT pk_training PRIMARY KEY (id)
);

CREATE TABLE activity (
	id UUID NOT NULL,
	cycle_id UUID NOT NULL,
	location_code TEXT NOT NULL,
	village_code TEXT,
	activity_type TEXT NOT NULL,
	held_on DATE NOT NULL,
	venue TEXT NOT NULL,
	facilitator_caf_ids UUID[] NOT NULL,
	participants_total INTEGER NOT NULL,
	participants_female INTEGER NOT NULL,
	participants_male INTEGER NOT NULL,
	with_disability INTEGER NOT NULL,
	ethnic_minority INTEGER NOT NULL,
	youth INTEGER NOT NULL,
	idpoor INTEGER NOT NULL,
	booklets INTEGER NOT NULL,
	recorded_by TEXT NOT NULL,
	recorded_at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT pk_activity PRIMARY KEY (id),
	CONSTRAINT fk_activity_cycle_id_cycle FOREIGN KEY(cycle_id) REFERENCES cycle (id)
);

CREATE TABLE cycle_stage_change (
	seq BIGINT GENERATED ALWAYS AS IDENTITY,
	cycle_id UUID NOT NULL,
	from_stage TEXT,
	to_stage TEXT NOT NULL,
	note TEXT,
	actor TEXT NOT NULL,
	changed_at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT pk_cycle_stage_change PRIMARY KEY (seq),
	CONSTRAINT fk_cycle_stage_change_cycle_id_cycle FOREIGN KEY(cycle_id) REFERENCES cycle (id) ON DELETE CASCADE
);

CREATE TABLE scorecard (
	version INTEGER NOT NULL DEFAULT 1,
	id UUID NOT NULL,
	cycle_id UUID NOT NULL,
	facility_id UUID NOT NULL,
	facility_type TEXT NOT NULL,
	location_code TEXT NOT NULL,
	year SMALLINT NOT NULL,
	kind TEXT NOT NULL,
	status TEXT NOT NULL,
	catalogue_version SMALLINT NOT NULL,
	held_on DATE,
	venue TEXT,
	facilitator_caf_ids UUID[] DEFAULT '{}' NOT NULL,
	participants_total INTEGER NOT NULL,
	participants_female INTEGER NOT NULL,
	sitting_digest TEXT,
	sitting_uploaded_at TIMESTAMP WITH TIME ZONE,
	completed_at TIMESTAMP WITH TIME ZONE,
	created_by TEXT NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT pk_scorecard PRIMARY KEY (id),
	CONSTRAINT fk_scorecard_cycle_id_cycle FOREIGN KEY(cycle_id) REFERENCES cycle (id),
	CONSTRAINT fk_scorecard_facility_id_facility FOREIGN KEY(facility_id) REFERENCES facility (id)
);

CREATE TABLE training_attendance (
	training_id UUID NOT NULL,
	caf_id UUID NOT NULL,
	CONSTRAINT pk_training_attendance PRIMARY KEY (training_id, caf_id),
	CONSTRAINT fk_training_attendance_training_id_training FOREIGN KEY(training_id) REFERENCES training (id) ON DELETE CASCADE,
	CONSTRAINT fk_training_attendance_caf_id_caf FOREIGN KEY(caf_id) REFERENCES caf (id)
);

CREATE TABLE forum_item (
	version INTEGER NOT NULL DEFAULT 1,
	id UUID NOT NULL,
	activity_id UUID NOT NULL,
	cycle_id UUID NOT NULL,
	location_code TEXT NOT NULL,
	place_code TEXT NOT NULL,
	kind TEXT NOT NULL,
	text TEXT NOT NULL,
	answer TEXT,
	answered_by TEXT,
	category TEXT,
	sent_to_grievance_at TIMESTAMP WITH TIME ZONE,
	grievance_tracking_code TEXT,
	grievance_logged_at TIMESTAMP WITH TIME ZONE,
	raised_at TIMESTAMP WITH TIME ZONE NOT NULL,
	recorded_by TEXT NOT NULL,
	CONSTRAINT pk_forum_item PRIMARY KEY (id),
	CONSTRAINT fk_forum_item_activity_id_activity FOREIGN KEY(activity_id) REFERENCES activity (id)
);

CREATE TABLE jaap (
	id UUID NOT NULL,
	cycle_id UUID NOT NULL,
	location_code TEXT NOT NULL,
	year SMALLINT NOT NULL,
	adopted_on DATE NOT NULL,
	interface_meeting_id UUID,
	adopted_by TEXT NOT NULL,
	recorded_at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT pk_jaap PRIMARY KEY (id),
	CONSTRAINT uq_jaap_cycle_id UNIQUE (cycle_id),
	CONSTRAINT fk_jaap_cycle_id_cycle FOREIGN KEY(cycle_id) REFERENCES cycle (id),
	CONSTRAINT fk_jaap_interface_meeting_id_activity FOREIGN KEY(interface_meeting_id) REFERENCES activity (id)
);

CREATE TABLE scorecard_indicator (
	scorecard_id UUID NOT NULL,
	id UUID NOT NULL,
	position SMALLINT NOT NULL,
	source TEXT NOT NULL,
	code TEXT,
	name_km TEXT NOT NULL,
	name_en TEXT NOT NULL,
	selected BOOLEAN NOT NULL,
	votes INTEGER NOT NULL,
	median NUMERIC(2, 1),
	strengths TEXT,
	weaknesses TEXT,
	suggested_actions TEXT,
	CONSTRAINT pk_scorecard_indicator PRIMARY KEY (scorecard_id, id),
	CONSTRAINT fk_scorecard_indicator_scorecard_id_scorecard FOREIGN KEY(scorecard_id) REFERENCES scorecard (id) ON DELETE CASCADE
);

CREATE TABLE scorecard_participant (
	scorecard_id UUID NOT NULL,
	id UUID NOT NULL,
	sex TEXT NOT NULL,
	age_band TEXT,
	disability BOOLEAN NOT NULL,
	ethnic_minority BOOLEAN NOT NULL,
	youth BOOLEAN NOT NULL,
	idpoor BOOLEAN NOT NULL,
	CONSTRAINT pk_scorecard_participant PRIMARY KEY (scorecard_id, id),
	CONSTRAINT fk_scorecard_participant_scorecard_id_scorecard FOREIGN KEY(scorecard_id) REFERENCES scorecard (id) ON DELETE CASCADE
);

CREATE TABLE jaap_action (
	version INTEGER NOT NULL DEFAULT 1,
	id UUID NOT NULL,
	seq BIGINT GENERATED ALWAYS AS IDENTITY,
	jaap_id UUID NOT NULL,
	location_code TEXT NOT NULL,
	year SMALLINT NOT NULL,
	description TEXT NOT NULL,
	facility_id UUID,
	scorecard_id UUID,
	indicator_id UUID,
	indicator_name_en TEXT,
	indicator_name_km TEXT,
	indicator_median NUMERIC(2, 1),
	responsible_party TEXT NOT NULL,
	responsible_tier TEXT NOT NULL,
	deadline DATE NOT NULL,
	budget_need_riel BIGINT NOT NULL,
	status TEXT NOT NULL,
	status_reason TEXT,
	status_changed_at TIMESTAMP WITH TIME ZONE NOT NULL,
	support_status TEXT,
	support_addressed_tier TEXT,
	support_addressed_admin_code TEXT,
	support_request_id UUID,
	support_approved_riel BIGINT,
	support_updated_at TIMESTAMP WITH TIME ZONE,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT pk_jaap_action PRIMARY KEY (id),
	CONSTRAINT fk_jaap_action_jaap_id_jaap FOREIGN KEY(jaap_id) REFERENCES jaap (id),
	CONSTRAINT fk_jaap_action_facility_id_facility FOREIGN KEY(facility_id) REFERENCES facility (id)
);

CREATE TABLE scorecard_vote (
	scorecard_id UUID NOT NULL,
	indicator_id UUID NOT NULL,
	participant_id UUID NOT NULL,
	score SMALLINT NOT NULL,
	CONSTRAINT pk_scorecard_vote PRIMARY KEY (scorecard_id, indicator_id, participant_id),
	CONSTRAINT fk_scorecard_vote_scorecard_id_scorecard_indicator FOREIGN KEY(scorecard_id, indicator_id) REFERENCES scorecard_indicator (scorecard_id, id) ON DELETE CASCADE,
	CONSTRAINT fk_scorecard_vote_scorecard_id_scorecard_participant FOREIGN KEY(scorecard_id, participant_id) REFERENCES scorecard_participant (scorecard_id, id) ON DELETE CASCADE,
	CONSTRAINT ck_scorecard_vote_score_scale CHECK (score BETWEEN 1 AND 5)
);

CREATE TABLE jaap_action_update (
	seq BIGINT GENERATED ALWAYS AS IDENTITY,
	action_id UUID NOT NULL,
	from_status TEXT,
	to_status TEXT NOT NULL,
	note TEXT NOT NULL,
	actor TEXT NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT pk_jaap_action_update PRIMARY KEY (seq),
	CONSTRAINT fk_jaap_action_update_action_id_jaap_action FOREIGN KEY(action_id) REFERENCES jaap_action (id) ON DELETE CASCADE
);
"""

CONSTRAINTS_SQL = """
-- Code lists as CHECK constraints (adding a code is a one-line migration).
ALTER TABLE facility ADD CONSTRAINT ck_facility_type CHECK (facility_type IN
    ('commune_administration', 'health_centre', 'primary_school', 'khan_administration'));
ALTER TABLE cycle ADD CONSTRAINT ck_cycle_stage CHECK (stage IN
    ('i4c', 'scorecard', 'interface_meeting', 'jaap', 'monitoring', 'closed'));
ALTER TABLE activity ADD CONSTRAINT ck_activity_type CHECK (activity_type IN
    ('i4c_dissemination', 'door_to_door', 'jaap_committee_meeting', 'interface_meeting',
     'public_forum'));
ALTER TABLE activity ADD CONSTRAINT ck_activity_counts CHECK (
    participants_female + participants_male <= participants_total
    AND with_disability <= participants_total AND ethnic_minority <= participants_total
    AND youth <= participants_total AND idpoor <= participants_total
    AND least(participants_female, participants_male, with_disability, ethnic_minority, youth,
              idpoor, booklets) >= 0);
ALTER TABLE training ADD CONSTRAINT ck_training_counts CHECK (
    attendees_female + attendees_male <= attendees_total
    AND least(attendees_female, attendees_male) >= 0 AND ends_on >= starts_on);
ALTER TABLE training ADD CONSTRAINT ck_training_audience CHECK (audience IN
    ('caf', 'service_provider', 'sna_staff'));
ALTER TABLE scorecard ADD CONSTRAINT ck_scorecard_kind CHECK (kind IN
    ('community', 'self_assessment'));
ALTER TABLE scorecard ADD CONSTRAINT ck_scorecard_status CHECK (status IN
    ('planned', 'in_progress', 'in_review', 'completed'));
ALTER TABLE jaap_action ADD CONSTRAINT ck_jaap_action_status CHECK (status IN
    ('not_started', 'in_progress', 'completed', 'dropped'));
ALTER TABLE jaap_action ADD CONSTRAINT ck_jaap_action_budget CHECK (budget_need_riel >= 0);
ALTER TABLE forum_item ADD CONSTRAINT ck_forum_item_kind CHECK (kind IN ('question', 'issue'));

-- Jurisdiction prefix matches (shared.jurisdiction) use these.
CREATE INDEX ix_facility_location ON facility (location_code text_pattern_ops);
CREATE INDEX ix_cycle_location ON cycle (location_code text_pattern_ops, year);
CREATE INDEX ix_caf_location ON caf (location_code text_pattern_ops);
CREATE INDEX ix_training_location ON training (location_code text_pattern_ops);
CREATE INDEX ix_training_attendance_caf ON training_attendance (caf_id);
CREATE INDEX ix_activity_location ON activity (location_code text_pattern_ops, held_on);
CREATE INDEX ix_activity_cycle ON activity (cycle_id);
CREATE INDEX ix_scorecard_location ON scorecard (location_code text_pattern_ops, year);
CREATE INDEX ix_scorecard_cycle ON scorecard (cycle_id);
CREATE INDEX ix_jaap_location ON jaap (location_code text_pattern_ops, year);
CREATE INDEX ix_jaap_action_jaap ON jaap_action (jaap_id);
CREATE INDEX ix_jaap_action_location ON jaap_action (location_code text_pattern_ops, year);
CREATE INDEX ix_jaap_action_update_action ON jaap_action_update (action_id, seq);
CREATE INDEX ix_forum_item_activity ON forum_item (activity_id);
CREATE INDEX ix_forum_item_location ON forum_item (location_code text_pattern_ops);
CREATE INDEX ix_cycle_stage_change_cycle ON cycle_stage_change (cycle_id, seq);
CREATE INDEX ix_budget_allocation_unit ON budget_allocation (admin_code, fiscal_year);
CREATE INDEX ix_budget_release_unit ON budget_release (admin_code, fiscal_year);
CREATE INDEX ix_budget_expenditure_unit ON budget_expenditure (admin_code, fiscal_year);
CREATE INDEX ix_personal_data_access_entity ON personal_data_access (entity_id, at);
"""


def _statements(sql: str) -> list[str]:
    # One statement per call: the asyncpg driver prepares each, and a prepared statement holds
    # one command. No statement here has a semicolon inside it.
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def upgrade() -> None:
    for statement in _statements(TABLES_SQL) + _statements(CONSTRAINTS_SQL):
        op.execute(statement)


def downgrade() -> None:
    op.execute(
        "DROP TABLE personal_data_access, budget_expenditure, budget_release, budget_allocation, forum_item, jaap_action_update, jaap_action, jaap, scorecard_vote, scorecard_indicator, scorecard_participant, scorecard, activity, training_attendance, training, caf, cycle_stage_change, cycle, facility"
    )
