"""The pinned upstream commits the MT-Bench data (questions, reference answers, judge
prompts) is fetched from when the local mirror does not have a file."""

from __future__ import annotations

#: Stability AI's FastChat fork (jp-stable): Japanese MT-Bench and its judge prompts
STABILITY_DATA = "https://raw.githubusercontent.com/Stability-AI/FastChat/e37eb28ee490480f6f4989274ed47c55f7dfce82/fastchat/llm_judge/data"
#: Swallow's evaluation suite: gpt-4o references and the en-ja judge prompts
SWALLOW_DATA = "https://raw.githubusercontent.com/swallow-llm/swallow-evaluation/57c4ecdf989f708a54e84235621a6afdbcc28ddb/fastchat/fastchat/llm_judge/data"
#: LMSYS FastChat: English MT-Bench and its judge prompts
LMSYS_DATA = "https://raw.githubusercontent.com/lm-sys/FastChat/0e6d3e4beaab66f4d3f93db72541a4abab8af28d/fastchat/llm_judge/data"
