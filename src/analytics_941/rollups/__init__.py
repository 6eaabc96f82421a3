"""Rollups: precomputed sums per site-local day and span that the reader takes instead of raw
rows wherever they answer the same question.

``kinds`` describes every kind once; ``arms`` holds the pieces of every statement; ``days``,
``spans`` and ``frequent`` make the statements; ``jobs`` runs them (the cron's twin);
``typescript`` writes them out for the Worker. Import the submodule you need: this package
imports nothing itself, so the reader can take ``kinds`` without the writers.
"""
