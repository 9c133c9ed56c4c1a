-- Relatives who agreed to give a sample (`Đồng ý cung cấp mẫu` = `Có`, and never refused).
SELECT address_district AS district, count(*) AS donors_consenting
FROM core.relatives
WHERE consent = 'Có'
GROUP BY ALL
