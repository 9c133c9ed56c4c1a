-- One row per worklist page (a commune code, the list of relatives outside the province, or a
-- commune that could not be placed) with its district and number of rows.
SELECT unit_key, any_value(commune_code) AS commune_code, any_value(commune) AS commune,
       any_value(district_code) AS district_code, any_value(district) AS district, count(*) AS rows
FROM marts.sampling_worklist
GROUP BY unit_key
ORDER BY unit_key
