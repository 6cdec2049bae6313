-- Issue 15: a version publishes one fr.crnt.budget.dotations.changed (the dotation of each class
-- of members, and the centres whose facts changed) instead of one centre.share.changed per
-- member. A consumer follows each member's workstations from the centres listed as changed; the
-- first version of a year lists every member, and so does the first version published after
-- this migration for a year that had versions before it (what their events did not say).
ALTER TABLE budgets ADD COLUMN dotations_told boolean NOT NULL DEFAULT false;
