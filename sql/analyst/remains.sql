-- The register of remains (hài cốt): where and when they were recovered, the anthropologist's
-- estimates and the DNA sample taken. `artefacts` is left out: free text (letters, inscriptions) that
-- can name living people; the matching stage reads it, analysts do not need it.
SELECT remains_id, cemetery, recovery_date, recovery_place, lat, lon, est_sex, est_age, sample_id
FROM raw.hai_cot
