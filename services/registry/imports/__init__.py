"""Bulk import of households with members from CSV and XLSX files (see service.py)."""
