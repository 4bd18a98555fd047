-- Admin: a blocking condition is stored once; conditions are written in one canonical JSON
-- form, so equal conditions have equal text and the index can refuse the second.
CREATE UNIQUE INDEX deny_policies_condition ON deny_policies(condition_type, condition_value);
-- Internal data API pages through these in id order (keyset pagination).
CREATE INDEX throttling_policies_level_id ON throttling_policies(level, id);
