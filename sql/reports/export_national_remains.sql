-- National matching: the remains in the province's cemeteries with their profiles (one row per
-- sample; a remains without a result has one row without a profile), where and when they were
-- recovered, and what was found with them.
SELECT h.remains_id, p.sample_id, p."range", p.haplotype, p.haplogroup,
       h.cemetery, h.recovery_date, h.recovery_date_precision, h.recovery_place, h.lat, h.lon,
       h.artefacts, h.est_sex, h.est_age
FROM raw.hai_cot h
LEFT JOIN marts.mtdna_profiles p ON p.sample_kind = 'remains' AND p.remains_id = h.remains_id
ORDER BY h.remains_id, p.sample_id
