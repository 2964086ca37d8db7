"""From finished runs to decisions: paired comparison, leaderboard, blend, HTML report, W&B.

Everything here reads run folders (hyoka.reporting.runs) and never calls a model.
"""
