-- Relatives who agreed to give a sample (`Đồng ý cung cấp mẫu` = `Có`, and never refused), by
-- where they live.
SELECT address_district AS district, address_province AS province, count(*) AS donors_consenting
FROM core.relatives
WHERE consent = 'Có'
GROUP BY ALL
