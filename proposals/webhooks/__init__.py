"""Webhooks: subscriptions to the change feed, delivered by a background
worker as JSON POSTs signed the way the Standard Webhooks specification
says (https://www.standardwebhooks.com/)."""
