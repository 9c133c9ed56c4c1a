-- Province-wide sample and result counts.
SELECT remains_samples, relative_samples, results_back, results_failed, remains_registered
FROM reports.province_totals
