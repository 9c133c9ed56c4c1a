-- Relatives' samples with a laboratory result (CSV row or FASTA record, any quality), by the
-- donor's district (one address per citizen-id hash, district and province from the same record).
WITH donors AS (
    SELECT citizen_id_hash,
           arg_min(address_district, relative_id) AS district,
           arg_min(address_province, relative_id) AS province
    FROM core.relatives WHERE citizen_id_hash IS NOT NULL GROUP BY ALL
)
SELECT d.district, d.province, count(DISTINCT s.sample_id) AS results_back
FROM raw.mau_adn s
JOIN (SELECT DISTINCT sample_id FROM raw.ket_qua_adn) r USING (sample_id)
LEFT JOIN donors d USING (citizen_id_hash)
WHERE s.sample_kind = 'Thân nhân'
GROUP BY ALL
