"""Atom feeds (RFC 4287) of what happens to proposals: per proposal, per
search, and site-wide, built with Django's syndication framework."""
