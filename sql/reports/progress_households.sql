-- Households of the villages whose conclusion meeting was reported, and household forms back, by
-- district (the search map's coverage: forms back over households).
SELECT district, province, sum(households) AS households, sum(forms_back) AS household_forms_back
FROM marts.village_coverage
GROUP BY ALL
