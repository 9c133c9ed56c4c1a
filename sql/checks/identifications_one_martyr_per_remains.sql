-- Remains with more than one identification row: each remains names at most one martyr.
SELECT remains_id, count(*) AS rows, string_agg(martyr_id, ', ' ORDER BY martyr_id) AS martyrs
FROM marts.identifications
GROUP BY remains_id
HAVING count(*) > 1
