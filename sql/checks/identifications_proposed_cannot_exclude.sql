-- Proposed identifications whose DNA comparison is not "cannot exclude" (or missing): a name is
-- never proposed against an inconclusive or excluding mtDNA comparison. Council-confirmed pairs are
-- the council's decision on its own re-test and leave the candidate pools: they have no comparison.
SELECT i.remains_id, i.martyr_id, i.status, c.verdict
FROM marts.identifications i
LEFT JOIN marts.match_candidates c USING (remains_id, martyr_id)
WHERE i.status = 'proposed' AND c.verdict IS DISTINCT FROM 'cannot_exclude'
