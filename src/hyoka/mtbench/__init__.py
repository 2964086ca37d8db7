"""MT-Bench (Japanese and English) on top of hyoka.judge: the benches' data (data,
prompt_sets; the pinned files in data_files.yaml), answer generation in two turns (answers), what the judge is asked
(items), scores (scoring), tables and the radar chart (report, radar), the run (runner) and
the `hyoka mtbench` command (command). docs/judge.md."""
