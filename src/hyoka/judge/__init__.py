"""LLM-as-a-judge, a component any task can use: judge prompts (prompts), reading a reply
(parse), judging with any backend through the request cache (judge), FastChat answer files
(answer_files) and the judged-task scoring the `judge` metric runs (task_scoring).
MT-Bench is built on top of it in hyoka.mtbench. docs/judge.md."""
