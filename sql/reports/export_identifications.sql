-- One row per proposed identification, for the national identity database and the family's
-- notification: the martyr, the evidence, and the citizen-id hashes of the consenting maternal
-- relatives whose profiles the identification rests on.
WITH donors AS (
    SELECT mc.martyr_id, list(DISTINCT p.citizen_id_hash ORDER BY p.citizen_id_hash) AS donor_citizen_id_hashes
    FROM marts.maternal_candidates mc
    JOIN marts.mtdna_profiles p USING (relative_id)
    JOIN core.relatives r USING (relative_id)
    WHERE mc.shares_mtdna AND p.sample_kind = 'relative' AND p.citizen_id_hash IS NOT NULL AND r.consent = 'Có'
    GROUP BY ALL
)
SELECT i.remains_id, i.martyr_id, m.full_name AS martyr_full_name, m.birth_year AS martyr_birth_year,
       m.hometown_commune, m.hometown_district, m.hometown_province, m.death_date,
       i.status, i.posterior, i.evidence,
       coalesce(d.donor_citizen_id_hashes, []::VARCHAR[]) AS donor_citizen_id_hashes
FROM marts.identifications i
LEFT JOIN core.martyrs m USING (martyr_id)
LEFT JOIN donors d USING (martyr_id)
ORDER BY i.remains_id, i.martyr_id
