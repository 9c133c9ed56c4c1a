-- (martyr, relative) pairs with the kinship reading. `relationship_text` is left out: it is free
-- text typed by surveyors and may name people (`con của chị Lan`); `kin_path` carries its meaning.
SELECT martyr_id, relative_id, kin_path, shares_mtdna, review_reason
FROM marts.maternal_candidates
