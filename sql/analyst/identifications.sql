-- Proposed identities with the martyr's name and home district, and the evidence they rest on
-- (the analyst scan checks the evidence text holds no identifier of a living relative).
SELECT i.remains_id, i.martyr_id, m.full_name AS martyr_name, m.hometown_district_code AS district_code,
       m.hometown_district AS district, i.status, i.posterior, i.posterior_bound, i.reasons, i.reason_codes,
       i.evidence
FROM marts.identifications i
LEFT JOIN core.martyrs m USING (martyr_id)
