-- Household-form coverage per village and whether the village meeting concluded.
SELECT province, district, commune, village, households, forms_out, forms_back, coverage, concluded
FROM marts.village_coverage
