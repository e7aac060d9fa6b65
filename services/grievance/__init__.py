"""Grievance and feedback service: citizens' complaints and feedback from every channel, routing by
tier, SLA escalation and public tracking.
"""
