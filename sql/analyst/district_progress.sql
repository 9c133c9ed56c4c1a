-- The provincial progress report per district code.
SELECT district_code, district, households, household_forms_back, relatives_surveyed, donors_consenting,
       samples_taken, results_back, identifications_proposed, identifications_needs_review,
       identifications_confirmed
FROM reports.district_progress
