-- Issue 15: the budget publishes a version's dotations by class of members (the members with
-- the same workstations) and the centres whose facts changed, not one event per member. What
-- notifications keeps to tell each centre its share: every centre's workstations and membership
-- as the budget's versions listed them, and the version that listed them last.
CREATE TABLE dotation_members (
    year          integer NOT NULL,
    centre_id     uuid    NOT NULL,
    workstations  integer NOT NULL,
    is_member     boolean NOT NULL,
    version       integer NOT NULL,
    PRIMARY KEY (year, centre_id)
);
