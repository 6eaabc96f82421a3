"""The pieces the one SQL builder (``sql_builder``) is made of: the planner deciding how a query
is answered (``plan``), the identifier allowlist and the facts about columns it plans from
(``columns``), bound parameters (``params``), filter clauses (``where``), metric aggregates
(``metrics``) and the SQL shared with the rollup writers (``arms``). Nothing outside
``sql_builder`` and ``rollups`` assembles SQL from them. ``drops`` is the small loader of the
collector's rejection counters, a table with no dimensions."""
