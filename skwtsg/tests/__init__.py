"""Tests of skwtsg."""
