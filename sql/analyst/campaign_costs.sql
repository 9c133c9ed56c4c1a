-- The campaign's cost figures (counts × unit costs of the plan).
SELECT * FROM reports.campaign_costs
