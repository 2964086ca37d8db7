"""Running one evaluation as many scheduler jobs (Slurm, Grid Engine, Ray) and collecting it.

plan → job scripts in RUN/jobs → submit → each job is a plain `hyoka run` with its own cache
shard and results folder → collect merges them into RUN as one single-machine run.
"""
