-- The register of remains (hài cốt): where and when they were recovered, what was found with them,
-- the anthropologist's estimates and the DNA sample taken.
SELECT remains_id, cemetery, recovery_date, recovery_place, lat, lon, artefacts, est_sex, est_age, sample_id
FROM raw.hai_cot
