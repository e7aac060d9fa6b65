"""Beneficiary registry service: households, members, poverty status (IDPoor), programmes,
enrolments, benefits, cases, change requests, imports, duplicates and the DCI social-registry
API.
"""
