"""Placeholder: pages are added in this module."""

urls: list = []
