-- What to sample or sequence next, by the pipeline's ids only (relatives by relative id): field
-- teams get names from the district office, not from the analyst schema.
SELECT rank, subject_kind, subject_id, district_code, district, action, target, expected_identifications,
       cost_vnd, identifications_per_million_vnd, explanation, explanation_codes
FROM marts.next_actions
