-- Donor profiles without recorded consent ('Có'): they must never be compared.
SELECT p.sample_id, p.relative_id, coalesce(r.consent, 'not recorded') AS consent
FROM marts.mtdna_profiles p
LEFT JOIN core.relatives r USING (relative_id)
WHERE p.sample_kind = 'relative' AND r.consent IS DISTINCT FROM 'Có'
