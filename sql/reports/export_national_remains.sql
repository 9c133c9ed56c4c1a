-- National matching: the remains in the province's cemeteries with their profiles (one row per
-- sample; a remains without a result has one row without a profile), where and when they were
-- recovered, and what was found with them. Added in version 1: `council_confirmed_martyr_id`, the
-- martyr the province's council confirmed for the remains (decision in force): the national run
-- neither matches the remains again nor keeps the martyr among the missing; and
-- `council_rejected_martyr_ids`, the martyrs it rejected for the remains (in force, not lifted by a
-- newer sample or result): no candidates of the national run either.
WITH confirmed AS (
    SELECT remains_id, max_by(martyr_id, decision_date) AS council_confirmed_martyr_id
    FROM marts.council_decisions
    WHERE in_force AND decision = 'confirmed'
    GROUP BY remains_id
),
rejected AS (
    SELECT remains_id, list(DISTINCT martyr_id ORDER BY martyr_id) AS council_rejected_martyr_ids
    FROM marts.council_decisions
    WHERE in_force AND decision = 'rejected' AND NOT coalesce(lifted, false)
    GROUP BY remains_id
)
SELECT h.remains_id, p.sample_id, p."range", p.haplotype, p.haplogroup,
       h.cemetery, h.recovery_date, h.recovery_date_precision, h.recovery_place, h.lat, h.lon,
       h.artefacts, h.est_sex, h.est_age, c.council_confirmed_martyr_id, r.council_rejected_martyr_ids
FROM raw.hai_cot h
LEFT JOIN marts.mtdna_profiles p ON p.sample_kind = 'remains' AND p.remains_id = h.remains_id
LEFT JOIN confirmed c ON c.remains_id = h.remains_id
LEFT JOIN rejected r ON r.remains_id = h.remains_id
ORDER BY h.remains_id, p.sample_id
