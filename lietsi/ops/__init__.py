"""Reports, pages, maps, exports, audit and data-quality suites: what the run hands to people."""
