"""The search map (bản đồ tìm kiếm): village coverage, merged site leads and their martyr links.

Districts hand a household form (phiếu hộ gia đình) to every household, collect what people know
of martyrs' graves (mộ liệt sĩ) and burial places (nơi chôn cất), and hold a conclusion meeting
(họp kết luận địa bàn) in each village (thôn / ấp / buôn / bon / tổ dân phố). This stage turns
those two raw tables into:

- coverage per village, commune and district (forms back / households, target 95%), with the
  flags the district steering committee asks for; impossible figures (more forms back than handed
  out or than households) are quarantined, not reported;
- sites: household reports of the same grave merged (by distance when both carry coordinates,
  by fuzzy place description and martyr name within a village otherwise), with a stable id, a
  report count and a status from the optional status file (`trang_thai_diem/`);
- leads: sites that name a martyr linked to the resolved martyr, martyrs without grave first.

Modules (pure functions on polars frames; no Dagster):

- `keys`: folded words, village and reported-name keys, form-number order, stable site ids;
- `coordinates`: coordinates of a form cleaned (swapped pairs repaired, points outside Vietnam dropped);
- `quarantine`: unusable rows as quarantine rows (without the head of household's name);
- `coverage`: coverage per village with its commune and district roll-ups, the village resolver;
- `household_reports`: household forms that point to a site, duplicates and conflicts quarantined;
- `merging`: reports merged into sites (`MergeConfig`, `merge_sites`);
- `status`: the status file (`SITE_STATUS`, `apply_status`);
- `leads`: site ↔ resolved martyr links (`site_leads`);
- `evaluation`: merging, leads and coverage against the synthetic truth.
"""
