"""Input validation shared by estimators, heads, featurizers and metrics."""
