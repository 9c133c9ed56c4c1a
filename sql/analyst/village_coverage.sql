-- Household-form coverage per village and whether the village meeting concluded.
SELECT district_code, district_name AS district, commune_code, commune_name AS commune, village, households,
       forms_out, forms_back, coverage, concluded
FROM marts.village_coverage
