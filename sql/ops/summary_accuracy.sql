-- Headline accuracy of each stage against the synthetic ground truth (empty without truth).
SELECT 'linkage' AS stage, entity || ' ' || metric AS metric, round(value, 4) AS value
FROM marts.linkage_evaluation
WHERE metric IN ('precision', 'recall', 'f1')
UNION ALL
SELECT 'kinship', metric, round(value, 4)
FROM marts.kinship_evaluation
WHERE metric IN ('texts_decided', 'pair_accuracy', 'pair_false_shares', 'martyrs_without_donor')
UNION ALL
SELECT 'lab', metric, round(value, 4)
FROM marts.lab_evaluation
WHERE metric IN ('haplotype_agreement', 'haplogroup_agreement_full_cr')
UNION ALL
SELECT 'matching', method || ' precision / recall (' || correct || ' of ' || proposals || ')',
       round(precision, 3) || ' / ' || round(recall, 3)
FROM marts.matching_evaluation
UNION ALL
SELECT 'search map', entity || ' ' || metric, round(value, 4)
FROM marts.search_map_evaluation
WHERE metric IN ('f1', 'villages_different', 'lead_precision', 'lead_recall')
