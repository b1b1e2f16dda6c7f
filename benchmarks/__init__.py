"""Benchmarks: each compares the library with a baseline in the same run and prints the ratio."""
