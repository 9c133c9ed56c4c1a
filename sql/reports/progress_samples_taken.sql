-- Relatives' samples in the collection log, by the donor's district (donor found by citizen-id
-- hash; a sample whose donor is not among the surveyed relatives has no district).
WITH donors AS (
    SELECT citizen_id_hash,
           arg_min(address_district, relative_id) AS district,
           arg_min(address_province, relative_id) AS province
    FROM core.relatives WHERE citizen_id_hash IS NOT NULL GROUP BY ALL
)
SELECT d.district, d.province, count(DISTINCT s.sample_id) AS samples_taken
FROM raw.mau_adn s
LEFT JOIN donors d USING (citizen_id_hash)
WHERE s.sample_kind = 'Thân nhân'
GROUP BY ALL
