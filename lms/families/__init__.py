"""Families: children, guardianships, emergency contacts, pickup, consents, data rights."""
