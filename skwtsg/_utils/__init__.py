"""Shared private plumbing (validation, torch, caches), imported downward only.

Nothing here imports from the rest of skwtsg.
"""
