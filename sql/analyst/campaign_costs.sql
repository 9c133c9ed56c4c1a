-- The campaign's costs at the plan's unit rates.
SELECT line, item, unit, quantity, unit_cost_vnd, total_vnd
FROM reports.campaign_costs
