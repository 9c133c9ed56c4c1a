-- The campaign's cost lines at the plan's rates.
SELECT line, item, unit, quantity, unit_cost_vnd, total_vnd FROM reports.campaign_costs ORDER BY line
