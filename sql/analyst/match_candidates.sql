-- (remains, martyr) comparisons worth a look, with the SWGDAM verdict and likelihood ratio.
SELECT remains_id, martyr_id, differences, verdict, lr, posterior
FROM marts.match_candidates
