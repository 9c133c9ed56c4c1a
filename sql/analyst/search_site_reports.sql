-- Which household form reported which site (form number only, not the household).
SELECT site_id, form_number
FROM marts.search_site_reports
