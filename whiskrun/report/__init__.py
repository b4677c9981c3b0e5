"""Activation timing reports: start paths and their phases, per action."""
